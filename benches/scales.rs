//! Shared by the benchmarks: the sample sizes they run at
//! (`OPSKPI_BENCH_SCALES`, e.g. `4.5,45`, about 1 and 10 million order
//! lines) and the sample company written and ingested at one of them.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use opskpi::config::Config;
use opskpi::sample::{self, SampleSpec};

pub fn scales() -> Vec<f64> {
    std::env::var("OPSKPI_BENCH_SCALES")
        .unwrap_or_else(|_| "4.5,45".into())
        .split(',')
        .map(|s| s.trim().parse().expect("a scale is a number"))
        .collect()
}

/// The sample company at `scale` in a temp folder, written as Parquet files
/// and ingested as a user would; and how long writing it took.
pub fn company(scale: f64, as_of: NaiveDate) -> (tempfile::TempDir, Config, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let config = sample::write(
        &SampleSpec {
            scale,
            ..SampleSpec::default()
        },
        dir.path(),
        &|_| {},
    )
    .unwrap();
    let generated = started.elapsed();
    opskpi::jobs::ingest(
        &config,
        as_of.and_hms_opt(12, 0, 0).unwrap(),
        &opskpi::ingest::IngestOptions::default(),
        &|_| {},
    )
    .unwrap();
    (dir, config, generated)
}

/// A process's peak resident memory (VmHWM, kB): `process` is `self` or a
/// pid; 0 when /proc does not say.
pub fn peak_kb(process: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

pub fn baseline_sql() -> String {
    let replacements = [
        ("$period_start", "DATE '2026-10-01'"),
        ("$period_end", "DATE '2026-10-31'"),
        ("$last_year_start", "DATE '2025-10-01'"),
        ("$last_year_end", "DATE '2025-10-31'"),
        ("$first", "DATE '2024-10-01'"),
    ];
    let mut sql = include_str!("baseline.sql").to_string();
    for (name, value) in replacements {
        sql = sql.replace(name, value);
    }
    sql
}

/// Runs every baseline statement and fetches every row, as a report would.
pub fn run_baseline(warehouse: &opskpi::warehouse::Warehouse, sql: &str) -> usize {
    let mut rows = 0;
    for statement in sql.split(';').map(str::trim).filter(|s| {
        !s.is_empty()
            && !s
                .lines()
                .all(|l| l.trim_start().starts_with("--") || l.trim().is_empty())
    }) {
        let batches = warehouse
            .arrow("baseline", statement)
            .expect("baseline SQL runs");
        rows += batches.iter().map(|batch| batch.num_rows()).sum::<usize>();
    }
    rows
}
