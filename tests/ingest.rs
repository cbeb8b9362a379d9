//! Loading: types checked with file/row/column/value in the error, a bad
//! file leaves the warehouse as it was, loading twice doubles nothing.

use std::path::Path;

use opskpi::config::Source;
use opskpi::warehouse::Warehouse;

use crate::common::*;

fn counts(warehouse: &Warehouse) -> Vec<(&'static str, u64)> {
    warehouse.row_counts().unwrap()
}

fn net_total(warehouse: &Warehouse) -> String {
    warehouse
        .connection()
        .query_row("SELECT sum(net_amount)::VARCHAR FROM sales", [], |row| {
            row.get(0)
        })
        .unwrap()
}

fn source(table: &str, path: &Path) -> Source {
    Source {
        table: table.into(),
        path: path.to_path_buf(),
        format: None,
        delimiter: None,
        columns: Default::default(),
    }
}

/// Loads one file into a fresh warehouse, expecting it to be refused; the
/// error's text, after checking the warehouse stayed empty.
fn load_error(table: &str, path: &Path) -> String {
    let mut warehouse = Warehouse::in_memory().unwrap();
    let error =
        opskpi::ingest::ingest(&mut warehouse, &[source(table, path)], loaded_at(), &|_| {})
            .unwrap_err()
            .to_string();
    assert_eq!(counts(&warehouse).iter().map(|(_, n)| n).sum::<u64>(), 0);
    error
}

/// The tiny sales file with one line replaced.
fn broken_sales(dir: &Path, line: usize, replacement: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture("tiny/sales.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[line] = replacement;
    let path = dir.join("sales.csv");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[test]
fn the_tiny_company_loads_completely() {
    let warehouse = tiny_warehouse();
    let counts = counts(&warehouse);
    let count = |table: &str| counts.iter().find(|(t, _)| *t == table).unwrap().1;
    // Line counts of the fixture files, headers excluded.
    assert_eq!(count("sales"), 12);
    assert_eq!(count("surveys"), 4);
    assert_eq!(count("inventory_snapshots"), 5);
    // Sum of the net_amount column by hand:
    // 1000 + 180 + 90 − 90 + 1900 + 100 + 270 − 90 + 200 + 500 + 1000 + 100 = 5160.
    assert_eq!(net_total(&warehouse), "5160.00");
    // The survey file's Chinese headers were mapped: R4 has no CSAT score.
    let missing: i64 = warehouse
        .connection()
        .query_row(
            "SELECT count(*) FROM surveys WHERE csat_score IS NULL AND response_id = 'R4'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(missing, 1);
}

#[test]
fn a_malformed_file_is_refused_and_the_warehouse_keeps_what_it_had() {
    let mut warehouse = tiny_warehouse();
    let before = counts(&warehouse);
    let dir = tempfile::tempdir().unwrap();
    // Data row 5 (line 6) gets a net amount with a decimal comma.
    let path = broken_sales(
        dir.path(),
        5,
        "O4,1,2024-03-31,C1,P1,S1,store,North,E1,2,\"1900,50\",1200.00",
    );
    let products = source("products", &fixture("tiny/products.csv"));
    let error = opskpi::ingest::ingest(
        &mut warehouse,
        &[products, source("sales", &path)],
        loaded_at(),
        &|_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(error.contains("row 5 (line 6)"), "{error}");
    assert!(error.contains("column `net_amount`"), "{error}");
    assert!(error.contains("value `1900,50`"), "{error}");
    assert!(error.contains("hint:"), "{error}");
    assert_eq!(counts(&warehouse), before);
    assert_eq!(net_total(&warehouse), "5160.00");
}

#[test]
fn each_rule_names_the_offending_value() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // (data row to replace, new line, expected words)
        (
            2,
            "O2,1,2023-02-30,C2,P2,W1,online,South,,2,180.00,80.00",
            "value `2023-02-30`",
        ),
        (
            2,
            "O2,1,2023-03-15,C2,P2,W1,shop,South,,2,180.00,80.00",
            "one of `store`, `online`, `dealer`",
        ),
        (
            2,
            "O2,1,2023-03-15,C2,P2,W1,online,South,,2.5,180.00,80.00",
            "a whole number",
        ),
        (
            2,
            "O2,1,2023-03-15,C2,P2,W1,online,South,,2,180.005,80.00",
            "at most 2 decimals",
        ),
        (
            2,
            "O2,,2023-03-15,C2,P2,W1,online,South,,2,180.00,80.00",
            "a value is required",
        ),
        (
            2,
            "O1,1,2023-03-15,C2,P2,W1,online,South,,2,180.00,80.00",
            "repeats the key (order_id, line_no) of row 1",
        ),
    ];
    for (line, replacement, expected) in cases {
        let path = broken_sales(dir.path(), line, replacement);
        let error = load_error("sales", &path);
        assert!(error.contains(expected), "{replacement}: {error}");
        assert!(error.contains("row 2 (line 3)"), "{replacement}: {error}");
    }
}

#[test]
fn a_missing_column_lists_the_file_s_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    std::fs::write(&path, "customer_id,segment,area\nC1,retail,North\n").unwrap();
    let error = load_error("customers", &path);
    assert!(error.contains("no column `region`"), "{error}");
    assert!(error.contains("customer_id, segment, area"), "{error}");
}

#[test]
fn loading_the_same_rows_twice_changes_nothing() {
    let mut warehouse = tiny_warehouse();
    let before = counts(&warehouse);
    // The same file again is recognised and skipped.
    let config = tiny_config();
    let outcomes =
        opskpi::ingest::ingest(&mut warehouse, &sources(&config), loaded_at(), &|_| {}).unwrap();
    assert!(outcomes.iter().all(|outcome| outcome.unchanged));
    assert_eq!(counts(&warehouse), before);
    // A copy under another name is loaded, and its rows replace their twins.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sales-again.csv");
    std::fs::copy(fixture("tiny/sales.csv"), &copy).unwrap();
    let outcomes = opskpi::ingest::ingest(
        &mut warehouse,
        &[source("sales", &copy)],
        loaded_at(),
        &|_| {},
    )
    .unwrap();
    assert_eq!((outcomes[0].rows, outcomes[0].replaced), (12, 12));
    assert_eq!(counts(&warehouse), before);
    assert_eq!(net_total(&warehouse), "5160.00");
}

#[test]
fn the_warehouse_is_a_plain_duckdb_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.duckdb");
    {
        let mut warehouse = Warehouse::open(&path).unwrap();
        let config = tiny_config();
        opskpi::ingest::ingest(&mut warehouse, &sources(&config), loaded_at(), &|_| {}).unwrap();
    }
    // Any DuckDB client can read it: here, a bare connection.
    let conn = duckdb::Connection::open(&path).unwrap();
    let lines: i64 = conn
        .query_row("SELECT count(*) FROM sales", [], |row| row.get(0))
        .unwrap();
    assert_eq!(lines, 12);
    let loads: i64 = conn
        .query_row("SELECT count(*) FROM _opskpi_loads", [], |row| row.get(0))
        .unwrap();
    assert_eq!(loads, 9);
}

#[test]
fn a_row_with_an_extra_field_is_named_not_taken_for_the_header() {
    let dir = tempfile::tempdir().unwrap();
    // Regression: DuckDB's dialect sniffer took the wider last row for the header.
    let path = broken_sales(
        dir.path(),
        3,
        "O3,1,2023-04-10,C2,P2,W1,online,South,,1,90.00,40.00,surplus",
    );
    let error = load_error("sales", &path);
    assert!(
        error.contains("row 3 (line 4): the row has 13 fields where the header has 12"),
        "{error}"
    );
}

#[test]
fn a_file_that_is_not_utf8_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    // "北區" in Big5 is not UTF-8.
    std::fs::write(
        &path,
        b"customer_id,segment,region,created_on\nC1,retail,\xa5\x5f\xb0\xcf,2022-01-01\n",
    )
    .unwrap();
    let error = load_error("customers", &path);
    assert!(
        error.contains("row 1 (line 2): the row is not UTF-8 text")
            && error.contains("hint: save the file as UTF-8"),
        "{error}"
    );
}

#[test]
fn a_semicolon_separated_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    std::fs::write(&path, "customer_id;segment;region;created_on\nC1;retail;North;2022-01-01\nC2;trade;\"South; coast\";\n").unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    opskpi::ingest::ingest(
        &mut warehouse,
        &[source("customers", &path)],
        loaded_at(),
        &|_| {},
    )
    .unwrap();
    let region: String = warehouse
        .connection()
        .query_row(
            "SELECT region FROM customers WHERE customer_id = 'C2' AND created_on IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(region, "South; coast");
}
