#![no_main]
//! The `catalogue` property of src/fuzz.rs under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    opskpi::fuzz::run("catalogue", data);
});
