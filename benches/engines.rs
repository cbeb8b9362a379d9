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
//!
//! With `OPSKPI_BENCH_SPARK_REMOTE` (`sc://127.0.0.1:15002`, a Spark Connect
//! server over the same machine's files), also the lake export of the
//! company (timed: the first, whole export) and the report through the
//! Spark engine, whose HTML must be the same bytes as DuckDB's; with
//! `OPSKPI_BENCH_SPARK_PID`, the Spark server's own peak memory too.
//! `OPSKPI_BENCH_ENGINES` (e.g. `hand,duckdb`) leaves out the others: at
//! 100M order lines the Polars engine's frames alone outgrow the machine.
//! `cargo bench --bench engines` (OPSKPI_BENCH_SCALES, e.g. `4.5,45,450`;
//! OPSKPI_BENCH_RUNS, 3 by default, the median taken).

mod scales;

use std::process::Command;
use std::time::Instant;

use chrono::NaiveDate;
use opskpi::calendar::Period;
use opskpi::config::Config;
use opskpi::config::EngineKind;
use opskpi::engine::polars::PolarsEngine;
use opskpi::indicators::{compute, Catalogue, KpiRequest};
use opskpi::warehouse::{Access, Warehouse};

/// Runs per measurement, the median taken (`OPSKPI_BENCH_RUNS`, 3).
fn runs() -> usize {
    std::env::var("OPSKPI_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(3)
}
const CHILD: &str = "OPSKPI_BENCH_ENGINES_CHILD";

/// The measurements asked for (`OPSKPI_BENCH_ENGINES`), else all four.
fn engines() -> Vec<String> {
    std::env::var("OPSKPI_BENCH_ENGINES")
        .unwrap_or_else(|_| "hand,duckdb,polars,polars-kept".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect()
}

fn spark_remote() -> Option<String> {
    std::env::var("OPSKPI_BENCH_SPARK_REMOTE")
        .ok()
        .filter(|remote| !remote.is_empty())
}

/// The company's lake, beside its warehouse.
fn lake_of(config_path: &str) -> std::path::PathBuf {
    std::path::Path::new(config_path).with_file_name("bench-lake")
}

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

/// One measurement, in this (child) process: prints `seconds peak_kb`.
fn child(kind: &str, config_path: &str) {
    let mut config = Config::load(config_path.as_ref()).unwrap();
    if kind == "lake-export" {
        // The first, whole export: every part written, as the command
        // does it (the warehouse within its memory limit).
        let started = Instant::now();
        let lake = lake_of(config_path);
        let export = opskpi::jobs::lake_export(&config, as_of(), Some(&lake), &|_| {}).unwrap();
        assert!(export.parts_written > 0);
        println!(
            "{} {}",
            started.elapsed().as_secs_f64(),
            scales::peak_kb("self")
        );
        return;
    }
    let warehouse = open(&config);
    let period = Period::parse("2026-10", 1).unwrap();
    let which = opskpi::jobs::Which::monthly(period);
    let options = opskpi::jobs::ReportOptions::default();
    let kept = PolarsEngine::new(&warehouse);
    let baseline = scales::baseline_sql();
    let mut times = Vec::new();
    if kind == "spark" {
        config.engine = EngineKind::Spark;
        config.lake.path = Some(lake_of(config_path));
        config.spark.remote = spark_remote().expect("OPSKPI_BENCH_SPARK_REMOTE");
    }
    let mut last_html = String::new();
    // The kept engine reads its frames in a first, untimed report.
    if kind == "polars-kept" {
        opskpi::jobs::render_html_on(&kept, &warehouse, &config, as_of(), &which, &options)
            .unwrap();
    }
    for _ in 0..runs() {
        let started = Instant::now();
        let size = match kind {
            "hand" => scales::run_baseline(&warehouse, &baseline),
            "duckdb" | "polars" | "spark" => {
                config.engine = match kind {
                    "duckdb" => EngineKind::Duckdb,
                    "polars" => EngineKind::Polars,
                    _ => EngineKind::Spark,
                };
                // A new engine per report, as a command makes one (for
                // Spark, a new session).
                last_html =
                    opskpi::jobs::render_html(&warehouse, &config, as_of(), &which, &options)
                        .unwrap();
                last_html.len()
            }
            "core-duckdb" => core(&warehouse, &config),
            "core-polars" => core(&PolarsEngine::new(&warehouse), &config),
            "polars-kept" => {
                opskpi::jobs::render_html_on(&kept, &warehouse, &config, as_of(), &which, &options)
                    .unwrap()
                    .len()
            }
            other => panic!("unknown measurement {other}"),
        };
        times.push(started.elapsed());
        assert!(size > 0);
    }
    if !last_html.is_empty() {
        let path = std::path::Path::new(config_path).with_file_name(format!("bench-{kind}.html"));
        std::fs::write(path, &last_html).unwrap();
    }
    println!(
        "{} {}",
        scales::median(times).as_secs_f64(),
        scales::peak_kb("self")
    );
}

/// The numbers of the reference script (`benches/polars_script.py`): the
/// month's core indicators for the company, and net sales by region; the
/// rows computed.
fn core(engine: &dyn opskpi::indicators::Engine, config: &Config) -> usize {
    let catalogue = Catalogue::builtin();
    let context = opskpi::jobs::context(config, as_of());
    let period = Period::parse("2026-10", 1).unwrap();
    let mut rows = 0;
    for (indicators, dims) in [
        (&CORE[..], vec![]),
        (&["net_sales"][..], vec!["region".to_string()]),
    ] {
        let request = KpiRequest {
            indicators: indicators.iter().map(|i| i.to_string()).collect(),
            periods: vec![period],
            dims,
        };
        rows += compute(engine, &catalogue, &context, &request)
            .unwrap()
            .len();
    }
    rows
}

/// The script's core numbers, as indicators.
const CORE: [&str; 10] = [
    "net_sales",
    "orders",
    "average_order_value",
    "gross_margin",
    "return_rate",
    "active_customers",
    "new_customers",
    "repeat_purchase_rate",
    "sales_growth",
    "sales_growth_ytd",
];

/// The reference script on the company's Parquet files, in this (child)
/// process's children: prints the median of its own timings (after its
/// imports, as the others are timed after opening the warehouse) and the
/// children's peak memory; nothing when Python or its Polars is missing.
fn script(folder: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/polars_script.py");
    let mut times = Vec::new();
    for _ in 0..runs() {
        let Ok(output) = Command::new("python3").arg(script).arg(folder).output() else {
            return;
        };
        if !output.status.success() {
            return;
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let Some(seconds) = stderr
            .lines()
            .last()
            .and_then(|line| line.strip_suffix(" s"))
            .and_then(|s| s.parse::<f64>().ok())
        else {
            return;
        };
        times.push(std::time::Duration::from_secs_f64(seconds));
    }
    // SAFETY: getrusage fills the struct it is given.
    let peak_kb = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss as u64
    };
    println!("{} {}", scales::median(times).as_secs_f64(), peak_kb);
}

fn measure(kind: &str, config: &std::path::Path) -> (f64, u64) {
    try_measure(kind, config).unwrap_or_else(|| panic!("{kind}: no measurement"))
}

/// One measurement in a child process: its time and peak memory, or None
/// when it printed none.
fn try_measure(kind: &str, path: &std::path::Path) -> Option<(f64, u64)> {
    let output = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, format!("{kind}|{}", path.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{kind}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let mut words = text.split_whitespace();
    let seconds = words.next()?.parse().unwrap();
    let peak = words.next()?.parse().unwrap();
    Some((seconds, peak))
}

/// Every indicator of the report's month through both engines, for the
/// company and by region: the rows must be identical. Returns their number.
fn parity(config: &Config) -> usize {
    let warehouse = open(config);
    let polars = PolarsEngine::new(&warehouse);
    let catalogue = Catalogue::builtin();
    let context = opskpi::jobs::context(config, as_of());
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
        match kind {
            "script" => script(config),
            _ => child(kind, config),
        }
        return;
    }
    let engines = engines();
    let spark = spark_remote().is_some();
    let mut columns: Vec<(&str, &str)> = [
        ("hand", "hand-written SQL"),
        ("duckdb", "DuckDB engine"),
        ("polars", "Polars engine (new per report)"),
        ("polars-kept", "Polars engine (kept)"),
    ]
    .into_iter()
    .filter(|(kind, _)| engines.iter().any(|e| e == kind))
    .collect();
    if spark {
        columns.push(("lake-export", "lake export (whole)"));
        columns.push(("spark", "Spark engine (local)"));
    }
    let polars = engines.iter().any(|e| e.starts_with("polars"));
    let mut core_rows = Vec::new();
    println!("The whole monthly report:\n");
    let names: Vec<&str> = columns.iter().map(|(_, name)| *name).collect();
    println!("| order lines | rows compared | {} |", names.join(" | "));
    println!("|---:|---:|{}", "---:|".repeat(columns.len()));
    for scale in scales::scales() {
        let (dir, config, generated) = scales::company(scale, as_of());
        let path = dir.path().join("opskpi.toml");
        let lines: i64 = open(&config)
            .connection()
            .query_row("SELECT count(*) FROM sales", [], |row| row.get(0))
            .unwrap();
        eprintln!(
            "{lines} order lines written in {:.1} s",
            generated.as_secs_f64()
        );
        let compared = if polars {
            parity(&config).to_string()
        } else {
            "–".to_string()
        };
        let cell = |(seconds, peak): (f64, u64)| {
            format!("{seconds:.2} s, {:.2} GB", peak as f64 / 1024.0 / 1024.0)
        };
        let cells: Vec<String> = columns
            .iter()
            .map(|(kind, _)| cell(measure(kind, &path)))
            .collect();
        println!("| {lines} | {compared} | {} |", cells.join(" | "));
        if spark {
            let read = |kind: &str| std::fs::read(dir.path().join(format!("bench-{kind}.html")));
            let same = match (read("duckdb"), read("spark")) {
                (Ok(duck), Ok(spark)) => {
                    assert!(
                        duck == spark,
                        "the Spark report's HTML differs from DuckDB's"
                    );
                    "the same bytes as DuckDB's"
                }
                _ => "not compared (no DuckDB column)",
            };
            let jvm = std::env::var("OPSKPI_BENCH_SPARK_PID")
                .map(|pid| scales::peak_kb(pid.trim()))
                .unwrap_or(0);
            eprintln!(
                "Spark: the report's HTML is {same}; the Spark server's peak so far {:.2} GB",
                jvm as f64 / 1024.0 / 1024.0
            );
        }
        if !polars {
            continue;
        }
        let script = try_measure("script", dir.path())
            .map(cell)
            .unwrap_or_else(|| "n/a (no python3 with polars)".to_string());
        core_rows.push(format!(
            "| {lines} | {} | {} | {script} |",
            cell(measure("core-duckdb", &path)),
            cell(measure("core-polars", &path)),
        ));
    }
    if core_rows.is_empty() {
        return;
    }
    println!("\nThe reference script's numbers (the month's core indicators, net sales by region), a new engine each:\n");
    println!("| order lines | DuckDB engine | Polars engine | Python Polars script |");
    println!("|---:|---:|---:|---:|");
    for row in core_rows {
        println!("{row}");
    }
}
