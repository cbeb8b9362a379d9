//! The monthly report with every section (sales, market, satisfaction,
//! inventory, customers and service, supply chain, product, the forecast)
//! on the sample company at about 1 and 10 million order lines, timed next
//! to the same numbers computed by hand-written DuckDB SQL
//! (benches/baseline.sql) in the same process, on the same warehouse. The
//! sample is written as Parquet files and ingested as a user would (neither
//! is timed). Prints a table; asserts no time. Run with `cargo bench --bench
//! monthly_report` (OPSKPI_BENCH_SCALES overrides the scales, e.g. `4.5,45`).

mod scales;

use std::time::Instant;

use chrono::NaiveDate;
use opskpi::calendar::Period;
use opskpi::indicators::{compute, Catalogue, KpiRequest};
use opskpi::warehouse::Warehouse;
use rust_decimal::Decimal;

const RUNS: usize = 3;

/// The allocator of the `opskpi` binary (`src/main.rs`), so that the
/// figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    opskpi::cli::without_huge_pages();
    let scales = scales::scales();
    let period = Period::parse("2026-10", 1).unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let baseline = scales::baseline_sql();

    println!("| order lines | generate | opskpi report (HTML) | hand-written SQL | ratio | opskpi report (PDF, zh-Hant) |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for scale in scales {
        let (_dir, config, generated) = scales::company(scale, as_of);
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
            &opskpi::jobs::context(&config, as_of),
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
        let pdf_options = opskpi::jobs::ReportOptions {
            formats: vec![opskpi::jobs::ReportFormat::Pdf],
            lang: Some(opskpi::locale::Locale::zh_hant()),
            ..Default::default()
        };
        for _ in 0..RUNS {
            // The whole PDF: the same numbers, then typeset (fonts, charts, pages).
            let started = Instant::now();
            let pdf = opskpi::jobs::render_pdf(
                &warehouse,
                &config,
                as_of,
                &opskpi::jobs::Which::monthly(period),
                &pdf_options,
            )
            .unwrap();
            pdf_times.push(started.elapsed());
            assert!(pdf.starts_with(b"%PDF-"));
            let started = Instant::now();
            let html =
                opskpi::jobs::render_monthly(&warehouse, &config, as_of, period, None).unwrap();
            report_times.push(started.elapsed());
            assert!(html.len() > 10_000);
            let started = Instant::now();
            let rows = scales::run_baseline(&warehouse, &baseline);
            baseline_times.push(started.elapsed());
            assert!(rows > 0);
        }
        let (report, hand, pdf) = (
            scales::median(report_times),
            scales::median(baseline_times),
            scales::median(pdf_times),
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
