#![no_main]
//! The `encodings` property of src/fuzz.rs under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    opskpi::fuzz::run("encodings", data);
});
