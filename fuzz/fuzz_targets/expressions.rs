#![no_main]
//! The `expressions` property of src/fuzz.rs under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    opskpi::fuzz::run("expressions", data);
});
