//! The readers of a user's bytes (src/fuzz.rs) under `arbtest`: a fixed
//! budget of seeded cases per property — the same inputs on every run and
//! machine, so a failure prints a seed that reproduces it — and a replay of
//! the corpus libFuzzer found and minimized (`tests/fuzz-corpus/`, grown by
//! the coverage-guided targets of `fuzz/`).

use opskpi::fuzz::{run, PROPERTIES};

/// Seeded cases per property: 600,000 in all, under half a minute of CI.
const CASES: u32 = 50_000;

/// An arbtest seed: a pseudo-random number in the upper 32 bits, the
/// input's size in the lower (16 bytes to 4 KiB, growing with the case).
fn seed(property: usize, case: u32) -> u64 {
    let mut x = (property as u64) << 40 | u64::from(case);
    // splitmix64
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    // xorshift never leaves zero: keep the random half odd.
    let random = (x >> 32) | 1;
    let size = 16 + u64::from(case) * 4096 / u64::from(CASES);
    random << 32 | size
}

#[test]
fn every_reader_survives_arbitrary_input() {
    for (index, (name, property)) in PROPERTIES.iter().enumerate() {
        for case in 0..CASES {
            let seed = seed(index, case);
            let result = std::panic::catch_unwind(|| {
                arbtest::arbtest(property).seed(seed).run();
            });
            assert!(
                result.is_ok(),
                "property `{name}` failed at seed {seed:#018x} (case {case})"
            );
        }
    }
}

/// Every file of the committed corpus, run through its property.
#[test]
fn the_fuzzing_corpus_replays() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut replayed = 0;
    for (name, _) in PROPERTIES {
        let folder = root.join(name);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| run(name, &data));
            assert!(result.is_ok(), "{} fails", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus under {}", root.display());
}
