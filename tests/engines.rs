//! The Polars engine against the DuckDB engine: every indicator of the
//! catalogue, at every grain, for the company and by each of its
//! dimensions, must give identical rows — values, comparisons, status,
//! sample sizes — to the last digit. Then the edge fixtures of the
//! indicator tests through Polars.

use opskpi::calendar::{Calendar, Period, Retail, YearEnd};
use opskpi::config::Config;
use opskpi::engine::polars::PolarsEngine;
use opskpi::indicators::{compute, Catalogue, KpiRequest};
use opskpi::warehouse::Warehouse;

use crate::common::*;

/// The sample company with its time zone (tickets and deliveries are dated
/// in company time).
fn sample_company() -> (Config, Warehouse) {
    let config = Config::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/opskpi.toml"),
    )
    .unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &sources(&config));
    let offset = opskpi::config::parse_offset(&config.company.timezone).unwrap();
    (config, warehouse.in_timezone(offset))
}

/// Every indicator × period × (no dimension, each dimension) through both
/// engines; returns the number of rows compared.
fn compare(
    warehouse: &Warehouse,
    context: &opskpi::indicators::compute::Context,
    periods: &[&str],
) -> usize {
    let polars = PolarsEngine::new(warehouse);
    let catalogue = Catalogue::builtin();
    let mut compared = 0;
    for id in catalogue.ids() {
        let indicator = catalogue.indicator(id).unwrap();
        let dims = catalogue.dimensions(indicator).to_vec();
        for period in periods {
            for by in std::iter::once(None).chain(dims.iter().map(Some)) {
                let request = KpiRequest {
                    indicators: vec![id.to_string()],
                    periods: vec![Period::parse(period, context.calendar).unwrap()],
                    dims: by.into_iter().cloned().collect(),
                };
                let duck = compute(warehouse, &catalogue, context, &request)
                    .unwrap_or_else(|e| panic!("DuckDB, {id} {period} by {by:?}: {e}"));
                let pl = compute(&polars, &catalogue, context, &request)
                    .unwrap_or_else(|e| panic!("Polars, {id} {period} by {by:?}: {e}"));
                assert_eq!(duck.len(), pl.len(), "{id} {period} by {by:?}: row counts");
                for (d, p) in duck.iter().zip(&pl) {
                    assert_eq!(d, p, "{id} {period} by {by:?}");
                }
                compared += duck.len();
            }
        }
    }
    compared
}

#[test]
fn every_indicator_agrees_at_every_grain_and_dimension_on_the_sample_company() {
    let (config, warehouse) = sample_company();
    let mut context = opskpi::pipeline::context(&config, date("2026-11-02"));
    // A fiscal year from April, so that FY differs from the calendar year.
    context.calendar = Calendar::from(4);
    // Day, week, month, quarter, year, fiscal year; whole and running
    // (cut by the as-of date) periods; the sofa stock-out month.
    let periods = [
        "2026-06-30",
        "2026-10-31",
        "2026-W27",
        "2026-W44",
        "2026-06",
        "2026-10",
        "2026-11",
        "2026-Q2",
        "2026-Q4",
        "2025",
        "2026",
        "FY2026",
        "FY2027",
    ];
    let compared = compare(&warehouse, &context, &periods);
    println!("{compared} rows compared");
    assert!(compared > 5_000, "{compared} rows compared");
}

#[test]
fn every_indicator_agrees_in_a_retail_calendar() {
    // The NRF 4-5-4 calendar (the year ends on the Saturday nearest the end
    // of January): retail weeks, months, quarters and years.
    let (config, warehouse) = sample_company();
    let mut context = opskpi::pipeline::context(&config, date("2026-11-02"));
    context.calendar = Calendar {
        fiscal_first_month: 1,
        retail: Some(Retail {
            pattern: [4, 5, 4],
            end_month: 1,
            end_weekday: 5,
            rule: YearEnd::Nearest,
        }),
    };
    let compared = compare(
        &warehouse,
        &context,
        &["R2026-W22", "R2026-M05", "R2026-M09", "R2026-Q2", "R2025"],
    );
    println!("{compared} rows compared");
    assert!(compared > 2_000, "{compared} rows compared");
}

#[test]
fn every_indicator_agrees_on_the_tiny_company_edges() {
    // Partial periods, a missing prior year (2023), returns, a zero base.
    let warehouse = tiny_warehouse();
    let compared = compare(
        &warehouse,
        &context("2024-12-31"),
        &[
            "2024-03",
            "2024-04",
            "2024-Q1",
            "2024",
            "2024-03-31",
            "2024-W13",
            "2023-03",
        ],
    );
    assert!(compared > 500, "{compared} rows compared");
}
