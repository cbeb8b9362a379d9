#![no_main]
//! The `saved_query` property of src/fuzz.rs under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    opskpi::fuzz::run("saved_query", data);
});
