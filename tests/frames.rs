//! KPI rows and query answers as Polars frames: typed columns, every digit,
//! one chunk — checked against numbers worked out by hand and against
//! DuckDB's own text of the same answer.

use opskpi::contract::kpi_frame;
use opskpi::frames::to_polars;
use polars::prelude::{AnyValue, DataType};

use crate::common::*;

#[test]
fn kpi_rows_become_a_typed_frame() {
    let warehouse = tiny_warehouse();
    // March 2024 by region (tests/indicators.rs): North 2000, South 180.
    let rows = kpi(
        &warehouse,
        &["net_sales", "csat"],
        "2024-03",
        &["region"],
        "2024-12-31",
    );
    let frame = kpi_frame(&rows).unwrap();
    assert_eq!(frame.height(), rows.len());
    let schema = frame.schema();
    assert_eq!(schema.get("indicator"), Some(&DataType::String));
    assert_eq!(schema.get("partial"), Some(&DataType::Boolean));
    assert_eq!(schema.get("value"), Some(&DataType::Decimal(38, 18)));
    assert_eq!(schema.get("sample_size"), Some(&DataType::Int64));
    let at = |indicator: &str, region: &str, column: &str| -> String {
        let i = (0..frame.height())
            .find(|&i| {
                frame.column("indicator").unwrap().get(i).unwrap() == AnyValue::String(indicator)
                    && frame.column("region").unwrap().get(i).unwrap() == AnyValue::String(region)
            })
            .unwrap();
        frame.column(column).unwrap().get(i).unwrap().to_string()
    };
    assert_eq!(at("net_sales", "North", "value"), "2000.000000000000000000");
    assert_eq!(at("net_sales", "South", "value"), "180.000000000000000000");
    assert_eq!(at("net_sales", "North", "period"), "\"2024-03\"");
}

#[test]
fn an_answer_of_many_batches_keeps_its_types_and_digits_in_one_chunk() {
    let warehouse = tiny_warehouse();
    // 5,000 rows: DuckDB hands them out in batches of at most 2,048.
    let sql = "SELECT range AS n, CAST(range AS DECIMAL(18,4)) * CAST(1.2345 AS DECIMAL(18,4)) AS amount, \
               DATE '2024-01-01' + CAST(range AS INTEGER) AS day, \
               CASE WHEN range % 3 = 0 THEN NULL ELSE 'x' || range END AS label \
               FROM range(5000)";
    let batches = warehouse.arrow("frames test", sql).unwrap();
    assert!(batches.len() > 1);
    let frame = to_polars(&batches[0].schema(), &batches).unwrap();
    assert_eq!(frame.height(), 5000);
    assert_eq!(frame.first_col_n_chunks(), 1);
    let schema = frame.schema();
    assert_eq!(schema.get("day"), Some(&DataType::Date));
    assert!(matches!(
        schema.get("amount"),
        Some(DataType::Decimal(_, _))
    ));
    // Row 4,999, by hand: 4999 × 1.2345 = 6171.2655, 2024-01-01 + 4999 days = 2037-09-08.
    let last = |name: &str| frame.column(name).unwrap().get(4999).unwrap().to_string();
    let amount = last("amount");
    assert!(
        amount.starts_with("6171.2655")
            && amount
                .trim_start_matches("6171.2655")
                .chars()
                .all(|c| c == '0'),
        "{amount}"
    );
    assert_eq!(last("day"), "2037-09-08");
    assert_eq!(frame.column("label").unwrap().null_count(), 1667);
    // No batches at all: the columns, no rows.
    let empty = warehouse
        .arrow("frames test", "SELECT 1 AS one WHERE false")
        .unwrap();
    let schema = duckdb::arrow::datatypes::Schema::new(vec![duckdb::arrow::datatypes::Field::new(
        "one",
        duckdb::arrow::datatypes::DataType::Int32,
        true,
    )]);
    let frame = to_polars(&std::sync::Arc::new(schema), &empty).unwrap();
    assert_eq!((frame.height(), frame.width()), (0, 1));
}

#[test]
fn a_query_answer_becomes_a_frame_even_when_empty() {
    let warehouse = tiny_warehouse();
    // The tiny company's March 2024 lines (tests/indicators.rs): 2180 net.
    let frame = opskpi::jobs::query_frame(
        &warehouse,
        "SELECT order_date, net_amount FROM sales WHERE order_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'",
    )
    .unwrap();
    assert_eq!(frame.height(), 4);
    assert_eq!(frame.schema().get("order_date"), Some(&DataType::Date));
    let total = frame
        .column("net_amount")
        .unwrap()
        .as_materialized_series()
        .sum_reduce()
        .unwrap();
    assert_eq!(total.value().to_string(), "2180.0000");
    let none =
        opskpi::jobs::query_frame(&warehouse, "SELECT order_id FROM sales WHERE false").unwrap();
    assert_eq!((none.height(), none.width()), (0, 1));
}

#[test]
fn sql_and_saved_query_answers_become_typed_frames() {
    let project = crate::cmd::tiny_project();
    let config = opskpi::config::Config::load(&project.path().join("opskpi.toml")).unwrap();
    let as_of = date("2024-12-31");
    // The South's March 2024 lines (tests/fixtures/tiny/sales.csv).
    let frame = opskpi::jobs::sql_frame(
        &config,
        as_of,
        "SELECT order_date, net_amount FROM sales WHERE region = 'South' \
         AND order_date BETWEEN '2024-03-01' AND '2024-03-31' ORDER BY order_date",
    )
    .unwrap();
    assert_eq!(frame.schema().get("order_date"), Some(&DataType::Date));
    assert!(matches!(
        frame.schema().get("net_amount"),
        Some(DataType::Decimal(_, 4))
    ));
    let amounts: Vec<String> = (0..frame.height())
        .map(|i| {
            frame
                .column("net_amount")
                .unwrap()
                .get(i)
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(amounts, ["270.0000", "-90.0000"]);
    // top_products for March 2024: P1 1900, P2 100 + 270 − 90 = 280.
    let frame = opskpi::jobs::saved_query_frame(
        &config,
        as_of,
        "top_products",
        &[
            ("period".into(), "2024-03".into()),
            ("n".into(), "2".into()),
        ],
    )
    .unwrap();
    let column = |name: &str| -> Vec<String> {
        (0..frame.height())
            .map(|i| frame.column(name).unwrap().get(i).unwrap().to_string())
            .collect()
    };
    assert_eq!(column("sku"), ["\"P1\"", "\"P2\""]);
    let sales: Vec<rust_decimal::Decimal> = column("net_sales")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(
        sales,
        [
            rust_decimal::Decimal::from(1900),
            rust_decimal::Decimal::from(280)
        ]
    );
}
