//! The monthly report with every section (sales, market, satisfaction,
//! inventory, customers and service, supply chain, product, the forecast)
//! on the sample company at about 1 and 10 million order lines, timed next
//! to the same numbers computed by hand-written DuckDB SQL
//! (benches/baseline.sql) in the same process, on the same warehouse. The
//! sample is written as Parquet files and ingested as a user would (neither
//! is timed). Prints a table; asserts no time. Run with `cargo bench --bench
//! monthly_report` (OPSKPI_BENCH_SCALES overrides the scales, e.g. `4.5,45`).

mod scales;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use opskpi::calendar::Period;
use opskpi::indicators::{compute, Catalogue, KpiRequest};
use opskpi::sample::{self, SampleSpec};
use opskpi::warehouse::Warehouse;
use rust_decimal::Decimal;

const RUNS: usize = 3;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn baseline_sql() -> String {
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
fn run_baseline(warehouse: &Warehouse, sql: &str) -> usize {
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

fn main() {
    let scales = scales::scales();
    let period = Period::parse("2026-10", 1).unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let baseline = baseline_sql();

    println!("| order lines | generate | opskpi report (HTML) | hand-written SQL | ratio | opskpi report (PDF, zh-Hant) |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for scale in scales {
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
        opskpi::pipeline::ingest(
            &config,
            as_of.and_hms_opt(12, 0, 0).unwrap(),
            &opskpi::ingest::IngestOptions::default(),
            &|_| {},
        )
        .unwrap();
        let warehouse = Warehouse::open(&config.warehouse_path()).unwrap();
        let lines: i64 = warehouse
            .connection()
            .query_row("SELECT count(*) FROM sales", [], |row| row.get(0))
            .unwrap();

        // Same numbers, both ways: the period's net sales must agree.
        let request = KpiRequest {
            indicators: vec!["net_sales".into()],
            periods: vec![period],
            dims: vec![],
        };
        let rows = compute(
            &warehouse,
            &Catalogue::builtin(),
            &opskpi::pipeline::context(&config, as_of),
            &request,
        )
        .unwrap();
        let theirs: String = warehouse
            .connection()
            .query_row("SELECT sum(net_amount)::VARCHAR FROM sales WHERE order_date BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'", [], |row| row.get(0))
            .unwrap();
        assert_eq!(
            rows[0].value,
            Some(theirs.parse::<Decimal>().unwrap()),
            "opskpi and the hand-written SQL disagree"
        );

        let mut report_times = Vec::new();
        let mut baseline_times = Vec::new();
        let mut pdf_times = Vec::new();
        let pdf_options = opskpi::pipeline::ReportOptions {
            formats: vec![opskpi::pipeline::ReportFormat::Pdf],
            lang: Some(opskpi::format::Locale::zh_hant()),
            ..Default::default()
        };
        for _ in 0..RUNS {
            // The whole PDF: the same numbers, then typeset (fonts, charts, pages).
            let started = Instant::now();
            let pdf = opskpi::pipeline::render_pdf(
                &warehouse,
                &config,
                as_of,
                &opskpi::pipeline::Which::monthly(period),
                &pdf_options,
            )
            .unwrap();
            pdf_times.push(started.elapsed());
            assert!(pdf.starts_with(b"%PDF-"));
            let started = Instant::now();
            let html =
                opskpi::pipeline::render_monthly(&warehouse, &config, as_of, period, None).unwrap();
            report_times.push(started.elapsed());
            assert!(html.len() > 10_000);
            let started = Instant::now();
            let rows = run_baseline(&warehouse, &baseline);
            baseline_times.push(started.elapsed());
            assert!(rows > 0);
        }
        let (report, hand, pdf) = (
            median(report_times),
            median(baseline_times),
            median(pdf_times),
        );
        println!(
            "| {lines} | {:.1} s | {:.2} s | {:.2} s | {:.1}× | {:.2} s |",
            generated.as_secs_f64(),
            report.as_secs_f64(),
            hand.as_secs_f64(),
            report.as_secs_f64() / hand.as_secs_f64(),
            pdf.as_secs_f64()
        );
    }
}
