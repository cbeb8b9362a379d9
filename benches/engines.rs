//! The two engines on the monthly report: the sample company at about 1 and
//! 10 million order lines, the whole monthly report (every section) computed
//! through the DuckDB engine and through the Polars engine, next to the same
//! numbers by hand-written DuckDB SQL (benches/baseline.sql), in the same
//! run on the same warehouse. Each measurement runs in a process of its own
//! so that its peak memory (VmHWM) is its own. The Polars engine is timed
//! as a command uses it — a new engine per report, the columns read from
//! the warehouse — and as a library can keep it: the same engine for the
//! next report, its frames already read. Before timing, both engines must
//! give the same rows for every indicator of the report's month, by region
//! too, at that size. Prints a table; asserts no time.
//! `cargo bench --bench engines` (OPSKPI_BENCH_SCALES, e.g. `4.5,45`).

mod scales;

use std::process::Command;
use std::time::Instant;

use chrono::NaiveDate;
use opskpi::calendar::Period;
use opskpi::config::Config;
use opskpi::engine::polars::PolarsEngine;
use opskpi::engine::EngineKind;
use opskpi::indicators::{compute, Catalogue, KpiRequest};
use opskpi::warehouse::{Access, Warehouse};

const RUNS: usize = 3;
const CHILD: &str = "OPSKPI_BENCH_ENGINES_CHILD";

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()
}

fn open(config: &Config) -> Warehouse {
    Warehouse::open_with(
        &config.warehouse_path(),
        Access::ReadOnly,
        std::time::Duration::ZERO,
    )
    .unwrap()
    .in_timezone(opskpi::config::parse_offset(&config.company.timezone).unwrap())
}

fn peak_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One measurement, in this (child) process: prints `seconds peak_kb`.
fn child(kind: &str, config_path: &str) {
    let mut config = Config::load(config_path.as_ref()).unwrap();
    let warehouse = open(&config);
    let period = Period::parse("2026-10", 1).unwrap();
    let which = opskpi::pipeline::Which::monthly(period);
    let options = opskpi::pipeline::ReportOptions::default();
    let kept = PolarsEngine::new(&warehouse);
    let baseline = scales::baseline_sql();
    let mut times = Vec::new();
    // The kept engine reads its frames in a first, untimed report.
    if kind == "polars-kept" {
        opskpi::pipeline::render_html_on(&kept, &warehouse, &config, as_of(), &which, &options)
            .unwrap();
    }
    for _ in 0..RUNS {
        let started = Instant::now();
        let size = match kind {
            "hand" => scales::run_baseline(&warehouse, &baseline),
            "duckdb" | "polars" => {
                config.engine = if kind == "duckdb" {
                    EngineKind::Duckdb
                } else {
                    EngineKind::Polars
                };
                opskpi::pipeline::render_html(&warehouse, &config, as_of(), &which, &options)
                    .unwrap()
                    .len()
            }
            "polars-kept" => opskpi::pipeline::render_html_on(
                &kept,
                &warehouse,
                &config,
                as_of(),
                &which,
                &options,
            )
            .unwrap()
            .len(),
            other => panic!("unknown measurement {other}"),
        };
        times.push(started.elapsed());
        assert!(size > 0);
    }
    println!("{} {}", scales::median(times).as_secs_f64(), peak_kb());
}

fn measure(kind: &str, config: &std::path::Path) -> (f64, u64) {
    let output = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, format!("{kind}|{}", config.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{kind}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let mut words = text.split_whitespace();
    let seconds = words.next().unwrap().parse().unwrap();
    let peak = words.next().unwrap().parse().unwrap();
    (seconds, peak)
}

/// Every indicator of the report's month through both engines, for the
/// company and by region: the rows must be identical. Returns their number.
fn parity(config: &Config) -> usize {
    let warehouse = open(config);
    let polars = PolarsEngine::new(&warehouse);
    let catalogue = Catalogue::builtin();
    let context = opskpi::pipeline::context(config, as_of());
    let mut compared = 0;
    for id in catalogue.ids() {
        let indicator = catalogue.indicator(id).unwrap();
        let mut splits = vec![vec![]];
        if catalogue
            .dimensions(indicator)
            .iter()
            .any(|d| d == "region")
        {
            splits.push(vec!["region".to_string()]);
        }
        for dims in splits {
            let request = KpiRequest {
                indicators: vec![id.to_string()],
                periods: vec![Period::parse("2026-10", 1).unwrap()],
                dims,
            };
            let duck = compute(&warehouse, &catalogue, &context, &request).unwrap();
            let pl = compute(&polars, &catalogue, &context, &request).unwrap();
            assert_eq!(duck, pl, "{id}: the engines disagree");
            compared += duck.len();
        }
    }
    compared
}

/// The allocator of the `opskpi` binary (`src/main.rs`), so that the
/// figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    opskpi::cli::without_huge_pages();
    if let Ok(job) = std::env::var(CHILD) {
        let (kind, config) = job.split_once('|').unwrap();
        child(kind, config);
        return;
    }
    println!("| order lines | rows compared | hand-written SQL | DuckDB engine | Polars engine (new per report) | Polars engine (kept) |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for scale in scales::scales() {
        let (dir, config, _) = scales::company(scale, as_of());
        let path = dir.path().join("opskpi.toml");
        let lines: i64 = open(&config)
            .connection()
            .query_row("SELECT count(*) FROM sales", [], |row| row.get(0))
            .unwrap();
        let compared = parity(&config);
        let cell = |(seconds, peak): (f64, u64)| {
            format!("{seconds:.2} s, {:.2} GB", peak as f64 / 1024.0 / 1024.0)
        };
        println!(
            "| {lines} | {compared} | {} | {} | {} | {} |",
            cell(measure("hand", &path)),
            cell(measure("duckdb", &path)),
            cell(measure("polars", &path)),
            cell(measure("polars-kept", &path)),
        );
    }
}
