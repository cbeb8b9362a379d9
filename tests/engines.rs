//! The Polars engine against the DuckDB engine: the same indicators, grains
//! and dimensions must give identical rows — values, comparisons, status,
//! sample sizes — to the last digit. (Issue 9, in progress: the queries the
//! Polars engine computes so far.)

use opskpi::calendar::Period;
use opskpi::engine::polars::PolarsEngine;
use opskpi::indicators::{compute, Catalogue, KpiRequest};

use crate::common::*;

/// Indicators over the `sales` query (net sales itself reads its target
/// from the `targets` query, not written for Polars yet; its values are in
/// the growths).
const SALES: [&str; 8] = [
    "units",
    "orders",
    "average_order_value",
    "gross_margin",
    "return_rate",
    "sales_growth",
    "sales_growth_ytd",
    "sales_growth_mat",
];

#[test]
fn the_polars_engine_agrees_with_duckdb_on_sales() {
    let warehouse = tiny_warehouse();
    let polars = PolarsEngine::new(&warehouse);
    let catalogue = Catalogue::builtin();
    let context = context("2024-12-31");
    let mut compared = 0;
    for period in [
        "2024-03",
        "2024-04",
        "2024-Q1",
        "2024",
        "2024-03-31",
        "2024-W13",
        "2023-03",
    ] {
        for dims in [
            vec![],
            vec!["region"],
            vec!["channel"],
            vec!["category"],
            vec!["store", "salesperson"],
        ] {
            let request = KpiRequest {
                indicators: SALES.iter().map(|s| s.to_string()).collect(),
                periods: Period::parse(period, 1).unwrap().series(2),
                dims: dims.iter().map(|s| s.to_string()).collect(),
            };
            let duck = compute(&warehouse, &catalogue, &context, &request).unwrap();
            let pl = compute(&polars, &catalogue, &context, &request).unwrap();
            assert_eq!(duck, pl, "{period} by {dims:?}");
            compared += duck.len();
        }
    }
    assert!(compared > 500, "{compared} rows compared");
}
