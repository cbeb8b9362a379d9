//! Loading, as a load behaves: types checked with file, row, column and
//! value in the error, a bad file leaves the warehouse as it was, loading
//! twice doubles nothing, a changed file replaces exactly its rows, bad rows
//! go to quarantine under the source's policies. (The file formats
//! themselves: formats.rs.)

use std::path::Path;

use opskpi::config::Source;
use opskpi::warehouse::Warehouse;

use crate::common::*;

pub fn counts(warehouse: &Warehouse) -> Vec<(&'static str, u64)> {
    warehouse.row_counts().unwrap()
}

pub fn net_total(warehouse: &Warehouse) -> String {
    warehouse
        .connection()
        .query_row("SELECT sum(net_amount)::VARCHAR FROM sales", [], |row| {
            row.get(0)
        })
        .unwrap()
}

pub fn source(table: &str, path: &Path) -> Source {
    Source::new(table, path)
}

/// Loads one file into a fresh warehouse, expecting it to be refused; the
/// error's text, after checking the warehouse stayed empty.
pub fn load_error(table: &str, path: &Path) -> String {
    refused(&[source(table, path)])
}

/// The tiny sales file with one line replaced.
pub fn broken_sales(dir: &Path, line: usize, replacement: &str) -> std::path::PathBuf {
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
    assert_eq!(net_total(&warehouse), "5160.0000");
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
        &Default::default(),
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
    assert_eq!(net_total(&warehouse), "5160.0000");
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
            "O2,1,2023-03-15,C2,P2,W1,mail order,South,,2,180.00,80.00",
            "one of `store`, `online`, `dealer`",
        ),
        (
            2,
            "O2,1,2023-03-15,C2,P2,W1,online,South,,2.5,180.00,80.00",
            "a whole number",
        ),
        (
            2,
            "O2,1,2023-03-15,C2,P2,W1,online,South,,2,180.00005,80.00",
            "at most 4 decimals",
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
    std::fs::write(&path, "cust,segment,area\nC1,retail,North\n").unwrap();
    let error = load_error("customers", &path);
    assert!(
        error.contains("no column for `customers.customer_id`, which is required"),
        "{error}"
    );
    assert!(error.contains("`cust`, `segment`, `area`"), "{error}");
}

#[test]
fn loading_the_same_rows_twice_changes_nothing() {
    let mut warehouse = tiny_warehouse();
    let before = counts(&warehouse);
    // The same file again is recognised and skipped.
    let config = tiny_config();
    let outcomes = load(&mut warehouse, &sources(&config));
    assert!(outcomes.iter().all(|outcome| outcome.unchanged));
    assert_eq!(counts(&warehouse), before);
    // A copy under another name is loaded, and its rows replace their twins.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sales-again.csv");
    std::fs::copy(fixture("tiny/sales.csv"), &copy).unwrap();
    let outcomes = load(&mut warehouse, &[source("sales", &copy)]);
    assert_eq!((outcomes[0].rows, outcomes[0].replaced), (12, 12));
    assert_eq!(counts(&warehouse), before);
    assert_eq!(net_total(&warehouse), "5160.0000");
}

#[test]
fn the_warehouse_is_a_plain_duckdb_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.duckdb");
    {
        let mut warehouse = Warehouse::open(&path).unwrap();
        let config = tiny_config();
        load(&mut warehouse, &sources(&config));
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
fn a_dry_run_shows_the_mapping_and_first_rows_and_loads_nothing() {
    let mut warehouse = Warehouse::in_memory().unwrap();
    let options = opskpi::ingest::IngestOptions {
        dry_run: true,
        ..Default::default()
    };
    let outcomes = opskpi::ingest::ingest(
        &mut warehouse,
        &[source("sales", &erp("sales-big5.csv"))],
        loaded_at(),
        &options,
        &|_| {},
    )
    .unwrap();
    assert_eq!(counts(&warehouse).iter().map(|(_, n)| n).sum::<u64>(), 0);
    let outcome = &outcomes[0];
    assert_eq!((outcome.rows, outcome.loaded), (6, 6));
    assert!(
        outcome
            .mapping
            .contains(&("order_id".into(), "`訂單編號` (dictionary)".into())),
        "{:?}",
        outcome.mapping
    );
    assert!(
        outcome
            .mapping
            .contains(&("salesperson_id".into(), "not in the source".into())),
        "{:?}",
        outcome.mapping
    );
    let first = &outcome.preview[0];
    // order_id, line_no, order_date, …, channel (7th), …, net_amount (11th).
    assert_eq!(
        (
            first[0].as_str(),
            first[2].as_str(),
            first[6].as_str(),
            first[10].as_str()
        ),
        ("A1050001", "2016-11-08", "store", "1220.0464")
    );
    let report = opskpi::ingest::summary(&outcomes, true);
    assert!(
        report.contains("would load 6") && report.contains("訂單編號"),
        "{report}"
    );
}

#[test]
fn repeated_survey_ids_follow_the_source_s_policy() {
    use opskpi::config::{DuplicatePolicy, Threshold};
    let surveys = |policy| {
        let mut surveys = source("surveys", &erp("surveys.ndjson"));
        surveys.duplicates = policy;
        surveys.max_bad_rows = Threshold::Rows(10);
        surveys
    };
    // Quarantine (the default): both R2 answers are set aside, R1 and R3 load.
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = load(&mut warehouse, &[surveys(DuplicatePolicy::Quarantine)]).remove(0);
    assert_eq!(
        (outcome.loaded, outcome.quarantined, outcome.duplicates),
        (2, 2, 2)
    );
    assert_eq!(
        text(
            &warehouse,
            "SELECT string_agg(response_id, ',' ORDER BY response_id) FROM surveys"
        ),
        "R1,R3"
    );
    assert_eq!(
        text(
            &warehouse,
            "SELECT string_agg(line || ':' || rule, ',' ORDER BY line) FROM _opskpi_quarantine"
        ),
        "2:duplicate_key,3:duplicate_key"
    );
    // Keep last: the second R2 (order A1050003, CSAT 2) wins.
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = load(&mut warehouse, &[surveys(DuplicatePolicy::KeepLast)]).remove(0);
    assert_eq!(
        (
            outcome.loaded,
            outcome.superseded,
            outcome.quarantined,
            outcome.duplicates
        ),
        (3, 1, 0, 2)
    );
    assert_eq!(
        text(
            &warehouse,
            "SELECT order_id || ' ' || csat_score FROM surveys WHERE response_id = 'R2'"
        ),
        "A1050003 2"
    );
    // Refuse: nothing loads.
    let error = refused(&[surveys(DuplicatePolicy::Refuse)]);
    assert!(
        error.contains("record 3") || error.contains("line 3"),
        "{error}"
    );
    assert!(
        error.contains("repeats the key (response_id) of row 2"),
        "{error}"
    );
}

/// A CSV of `rows` good customers, with `bad` rows whose date is impossible.
fn customers_with_bad_dates(dir: &Path, rows: usize, bad: &[usize]) -> std::path::PathBuf {
    let mut text = String::from("customer_id,segment,region,created_on\n");
    for i in 1..=rows {
        let date = if bad.contains(&i) {
            "2023-02-30"
        } else {
            "2023-02-28"
        };
        text.push_str(&format!("C{i},retail,North,{date}\n"));
    }
    let path = dir.join("customers.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_few_bad_rows_go_to_quarantine_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    // 1 bad row of 200 is 0.5 %, under the default 1 %.
    let path = customers_with_bad_dates(dir.path(), 200, &[57]);
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = load(&mut warehouse, &[source("customers", &path)]).remove(0);
    assert_eq!(
        (outcome.rows, outcome.loaded, outcome.quarantined),
        (200, 199, 1)
    );
    // Data row 57 is line 58 (the header is line 1).
    assert_eq!(
        text(&warehouse, "SELECT file || '|' || line || '|' || column_name || '|' || rule || '|' || value FROM _opskpi_quarantine"),
        format!("{}|58|created_on|type|2023-02-30", path.display())
    );
    // 3 of 200 is 1.5 %: refused, with the first bad row named.
    let path = customers_with_bad_dates(dir.path(), 200, &[57, 90, 120]);
    let error = refused(&[source("customers", &path)]);
    assert!(
        error.contains("row 57 (line 58)")
            && error.contains("value `2023-02-30`")
            && error.contains("3 of 200 rows are bad"),
        "{error}"
    );
    // `max_bad_rows = 0` is the strict mode: one bad row refuses the file.
    let path = customers_with_bad_dates(dir.path(), 200, &[57]);
    let mut strict = source("customers", &path);
    strict.max_bad_rows = opskpi::config::Threshold::Rows(0);
    assert!(refused(&[strict]).contains("row 57 (line 58)"));
}

#[test]
fn two_digit_years_and_day_month_order_are_refused_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    std::fs::write(
        &path,
        "customer_id,segment,region,created_on\nC1,retail,North,16/11/08\n",
    )
    .unwrap();
    let error = refused(&[source("customers", &path)]);
    // Refused with the reason and the setting that settles it.
    assert!(
        error.contains("two-digit year") && error.contains("`\"roc\"`"),
        "{error}"
    );
    // Stated as ROC, a two-digit year loads: ROC 99 is 1911 + 99 = 2010.
    std::fs::write(
        &path,
        "customer_id,segment,region,created_on\nC1,retail,North,99/12/31\n",
    )
    .unwrap();
    let mut roc = source("customers", &path);
    roc.dates = Some(opskpi::config::DateOrder::Roc);
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &[roc]);
    assert_eq!(
        text(&warehouse, "SELECT created_on::VARCHAR FROM customers"),
        "2010-12-31"
    );
    std::fs::write(
        &path,
        "customer_id,segment,region,created_on\nC1,retail,North,10/03/2026\n",
    )
    .unwrap();
    assert!(refused(&[source("customers", &path)]).contains("could be day/month/year"));
}

#[test]
fn constants_expressions_and_word_maps_fill_columns_the_file_lacks() {
    use opskpi::config::{ColumnDetail, ColumnSpec};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.csv");
    // A POS export: no channel column, profit instead of cost, Chinese regions.
    std::fs::write(
        &path,
        "單號,日期,區域,金額,毛利\nP1,2026-10-01,北區,\"1,000.50\",400.25\nP2,2026-10-02,南區,99.9999,(10.0001)\n",
    )
    .unwrap();
    let mut pos = source("sales", &path);
    let detail = |detail: ColumnDetail| ColumnSpec::Detail(detail);
    pos.columns.insert(
        "line_no".into(),
        detail(ColumnDetail {
            constant: Some("1".into()),
            ..Default::default()
        }),
    );
    pos.columns.insert(
        "channel".into(),
        detail(ColumnDetail {
            constant: Some("門市".into()),
            ..Default::default()
        }),
    );
    pos.columns.insert(
        "cost_amount".into(),
        detail(ColumnDetail {
            expr: Some("金額 - 毛利".into()),
            ..Default::default()
        }),
    );
    pos.columns.insert(
        "region".into(),
        detail(ColumnDetail {
            values: [
                ("北區".to_string(), "North".to_string()),
                ("南區".to_string(), "South".to_string()),
            ]
            .into(),
            ..Default::default()
        }),
    );
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &[pos]);
    // Costs by hand: 1000.50 − 400.25 = 600.25; 99.9999 − (−10.0001) = 110.0000.
    assert_eq!(
        text(&warehouse, "SELECT string_agg(order_id || ' ' || line_no || ' ' || channel || ' ' || region || ' ' || cost_amount, '; ' ORDER BY order_id) FROM sales"),
        "P1 1 store North 600.2500; P2 1 store South 110.0000"
    );
}

#[test]
fn a_source_without_costs_loads_and_gross_margin_is_n_a() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sales.csv");
    std::fs::write(
        &path,
        "order_id,line_no,order_date,net_amount\nO1,1,2024-03-05,100.00\nO2,1,2024-03-06,50.00\n",
    )
    .unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &[source("sales", &path)]);
    let rows = kpi(
        &warehouse,
        &["net_sales", "gross_margin"],
        "2024-03",
        &[],
        "2024-04-30",
    );
    assert_exact(row(&rows, "net_sales", &[]).value, "150");
    assert_eq!(row(&rows, "gross_margin", &[]).value, None);
}

#[test]
fn rows_dated_after_the_load_and_unknown_skus_are_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let sales = dir.path().join("sales.csv");
    let mut text_rows = String::from("order_id,line_no,order_date,sku,net_amount\n");
    for i in 0..150 {
        text_rows.push_str(&format!("O{i},1,2024-03-05,P1,10.00\n"));
    }
    // loaded_at() is 2026-11-02: 2026-12-01 lies in the future; P9 is no product.
    text_rows.push_str("F1,1,2026-12-01,P1,10.00\nU1,1,2024-03-05,P9,10.00\n");
    std::fs::write(&sales, text_rows).unwrap();
    let mut relaxed = source("sales", &sales);
    relaxed.max_bad_rows = opskpi::config::Threshold::Rows(5);
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(
        &mut warehouse,
        &[source("products", &fixture("tiny/products.csv")), relaxed],
    );
    assert_eq!(
        text(
            &warehouse,
            "SELECT string_agg(rule || ':' || value, ',' ORDER BY line) FROM _opskpi_quarantine"
        ),
        "future_date:2026-12-01,unknown_reference:P9"
    );
    assert_eq!(
        text(&warehouse, "SELECT count(*)::VARCHAR FROM sales"),
        "150"
    );
}

#[test]
fn a_changed_file_replaces_exactly_the_rows_it_brought() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    let other = dir.path().join("more-customers.csv");
    std::fs::write(&other, "customer_id,segment,region\nX1,trade,East\n").unwrap();
    std::fs::write(
        &path,
        "customer_id,segment,region\nC1,retail,North\nC2,retail,South\nC3,dealer,East\n",
    )
    .unwrap();
    let sources = [source("customers", &path), source("customers", &other)];
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &sources);
    let ids = |w: &Warehouse| {
        text(w, "SELECT string_agg(customer_id || '=' || segment, ',' ORDER BY customer_id) FROM customers")
    };
    assert_eq!(ids(&warehouse), "C1=retail,C2=retail,C3=dealer,X1=trade");
    // The file changes: C2 and C3 are gone, C1 changed, C4 is new.
    std::fs::write(
        &path,
        "customer_id,segment,region\nC1,trade,North\nC4,retail,West\n",
    )
    .unwrap();
    let outcomes = load(&mut warehouse, &sources);
    assert!(outcomes[1].unchanged, "the other file is skipped");
    assert_eq!((outcomes[0].loaded, outcomes[0].replaced), (2, 3));
    assert_eq!(ids(&warehouse), "C1=trade,C4=retail,X1=trade");
    // Loading again changes nothing; `full` rebuilds to the same rows.
    assert!(load(&mut warehouse, &sources).iter().all(|o| o.unchanged));
    let full = opskpi::ingest::IngestOptions {
        full: true,
        ..Default::default()
    };
    opskpi::ingest::ingest(&mut warehouse, &sources, loaded_at(), &full, &|_| {}).unwrap();
    assert_eq!(ids(&warehouse), "C1=trade,C4=retail,X1=trade");
    assert_eq!(
        text(&warehouse, "SELECT count(*)::VARCHAR FROM _opskpi_files"),
        "2"
    );
}

#[test]
fn a_folder_source_loads_each_of_its_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("2026-09.csv"),
        "customer_id,segment,region\nC1,retail,North\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("2026-10.csv"),
        "customer_id,segment,region\nC2,retail,South\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("~$2026-10.xlsx"), "an Excel lock file").unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcomes = load(&mut warehouse, &[source("customers", dir.path())]);
    assert_eq!(outcomes.len(), 2);
    let pattern = dir.path().join("2026-1*.csv");
    let mut warehouse = Warehouse::in_memory().unwrap();
    assert_eq!(
        load(&mut warehouse, &[source("customers", &pattern)]).len(),
        1
    );
}

#[test]
fn a_file_s_rows_are_known_before_it_is_checked_for_the_progress_bar() {
    use opskpi::ingest::read::RowCount;
    use opskpi::ingest::Report;
    let counted = |path: &Path| -> Vec<RowCount> {
        let seen = std::sync::Mutex::new(Vec::new());
        let mut warehouse = Warehouse::in_memory().unwrap();
        opskpi::ingest::ingest(
            &mut warehouse,
            &[source("sales", path)],
            loaded_at(),
            &Default::default(),
            &|report| {
                if let Report::Rows(count) = report {
                    seen.lock().unwrap().push(count);
                }
            },
        )
        .unwrap();
        seen.into_inner().unwrap()
    };
    // The tiny CSV: 13 lines, the header on line 1 — 12 rows (a CSV's count
    // is never claimed exact: a quoted field may hold a line break).
    assert_eq!(
        counted(&fixture("tiny/sales.csv")),
        [RowCount {
            rows: 12,
            exact: false
        }]
    );
    // A CSV beyond the 1 MiB sample: estimated from its size, here within
    // 1 % of its 40,000 rows (lines of 30 to 32 bytes, evenly mixed).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sales.csv");
    let mut text = String::from("order_id,line_no,order_date,net_amount\n");
    for i in 0..40_000 {
        text.push_str(&format!("A{i:07},1,2026-10-01,{}.00\n", 10 + i % 990));
    }
    std::fs::write(&path, &text).unwrap();
    let estimate = counted(&path);
    assert_eq!(estimate.len(), 1);
    assert!(!estimate[0].exact);
    assert!(
        (39_600..=40_400).contains(&estimate[0].rows),
        "{estimate:?}"
    );
    // Parquet: the file's own count, exact.
    let path = dir.path().join("sales.parquet");
    duckdb::Connection::open_in_memory()
        .unwrap()
        .execute_batch(&format!(
            "COPY (SELECT 'A' || range AS order_id, 1 AS line_no, DATE '2026-10-01' AS order_date,
                          1.5 AS net_amount FROM range(2500))
             TO '{}' (FORMAT PARQUET)",
            path.display()
        ))
        .unwrap();
    assert_eq!(
        counted(&path),
        [RowCount {
            rows: 2500,
            exact: true
        }]
    );
}

pub fn erp(name: &str) -> std::path::PathBuf {
    fixture("erp").join(name)
}

pub fn refused(sources: &[Source]) -> String {
    let mut warehouse = Warehouse::in_memory().unwrap();
    let error = opskpi::ingest::ingest(
        &mut warehouse,
        sources,
        loaded_at(),
        &Default::default(),
        &|_| {},
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        counts(&warehouse).iter().map(|(_, n)| n).sum::<u64>(),
        0,
        "{error}"
    );
    error
}
