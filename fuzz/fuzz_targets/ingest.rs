#![no_main]
//! Whole loads of arbitrary files (CSV, JSON, Excel, Parquet) into a
//! warehouse in memory: loaded, or refused as a user's error.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    opskpi::fuzz::ingest_bytes(data);
});
