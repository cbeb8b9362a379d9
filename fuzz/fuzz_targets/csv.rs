#![no_main]
//! The `csv` property of src/fuzz.rs under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    opskpi::fuzz::run("csv", data);
});
