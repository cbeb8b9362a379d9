//! Loading files as real exports write them: encodings (Big5, GBK,
//! UTF-16), delimiters, ERP exports with titles and ROC dates, workbooks
//! with merged headers, JSON and Parquet numbers, cut-off files. Every ERP
//! fixture holds the same six order lines (tests/fixtures/erp, made by
//! make.py with Python's codecs, openpyxl and xlwt, not by opskpi).

use opskpi::warehouse::Warehouse;

use crate::common::*;

use crate::ingest::{broken_sales, erp, load_error, net_total, refused, source};

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
        error.contains("line 4: the row has more fields than the header's 12"),
        "{error}"
    );
}

#[test]
fn a_big5_file_is_read_as_big5() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    // "北區" in Big5 (not UTF-8): detected and decoded.
    std::fs::write(
        &path,
        b"customer_id,segment,region,created_on\nC1,retail,\xa5\x5f\xb0\xcf,2022-01-01\n",
    )
    .unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &[source("customers", &path)]);
    let region: String = warehouse
        .connection()
        .query_row("SELECT region FROM customers", [], |row| row.get(0))
        .unwrap();
    assert_eq!(region, "北區");
}

#[test]
fn a_semicolon_separated_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    std::fs::write(&path, "customer_id;segment;region;created_on\nC1;retail;North;2022-01-01\nC2;trade;\"South; coast\";\n").unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &[source("customers", &path)]);
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

/// The six lines, worked out by hand from make.py:
/// net 1220.0464 + 220.0464 + 957.5775 + 330.1000 − 220.0464 + 2000.0001 = 4507.7240;
/// cost 700 + 80.5 + 600 + 120 − 80.5 + 90 = 1510; units 1 + 2 + 1 + 3 − 1 + 2 = 8;
/// ROC 105/11/08 is 2016-11-08 and 106/01/03 is 2017-01-03.
#[track_caller]
fn assert_erp_sales(warehouse: &Warehouse) {
    assert_eq!(
        text(
            warehouse,
            "SELECT count(*) || ' ' || sum(net_amount) || ' ' || sum(cost_amount) || ' ' || sum(quantity) || ' ' \
             || min(order_date) || ' ' || max(order_date) || ' ' || string_agg(DISTINCT channel, ',' ORDER BY channel) FROM sales"
        ),
        "6 4507.7240 1510.0000 8 2016-11-08 2017-01-03 dealer,online,store"
    );
    // The return kept its sign from `(220.0464)`.
    assert_eq!(
        text(
            warehouse,
            "SELECT net_amount::VARCHAR FROM sales WHERE order_id = 'A1050004'"
        ),
        "-220.0464"
    );
}

#[test]
fn a_big5_erp_export_with_a_title_roc_dates_and_4_decimal_amounts_loads_exactly() {
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcomes = load(&mut warehouse, &[source("sales", &erp("sales-big5.csv"))]);
    assert_erp_sales(&warehouse);
    let notes = &outcomes[0].notes;
    assert!(
        notes.contains(&("encoding".into(), "Big5 (detected)".into())),
        "{notes:?}"
    );
    // The title and the blank line above the header were skipped.
    assert!(
        notes.contains(&("header".into(), "line 3".into())),
        "{notes:?}"
    );
    assert_eq!(
        text(
            &warehouse,
            "SELECT region FROM sales WHERE order_id = 'A1050002'"
        ),
        "南區"
    );
}

#[test]
fn the_same_export_in_gbk_with_simplified_headers_loads_the_same() {
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcomes = load(&mut warehouse, &[source("sales", &erp("sales-gbk.csv"))]);
    assert_erp_sales(&warehouse);
    assert!(
        outcomes[0]
            .notes
            .contains(&("encoding".into(), "gb18030 (detected)".into())),
        "{:?}",
        outcomes[0].notes
    );
}

#[test]
fn excel_unicode_text_utf16_with_tabs_loads_the_same() {
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcomes = load(&mut warehouse, &[source("sales", &erp("sales-utf16.txt"))]);
    assert_erp_sales(&warehouse);
    assert!(
        outcomes[0]
            .notes
            .contains(&("delimiter".into(), "tab".into())),
        "{:?}",
        outcomes[0].notes
    );
}

#[test]
fn workbooks_with_a_title_and_a_merged_two_row_header_load_the_same() {
    for name in ["sales.xlsx", "sales.xls"] {
        let mut warehouse = Warehouse::in_memory().unwrap();
        // `金額` is merged over `未稅` and `成本`: the dictionary knows
        // `金額/未稅`; the cost column is named in the config.
        let sales = source("sales", &erp(name)).map("cost_amount", "金額/成本");
        let outcomes = load(&mut warehouse, &[sales]);
        assert_erp_sales(&warehouse);
        let outcome = &outcomes[0];
        assert!(
            outcome
                .notes
                .contains(&("header".into(), "sheet row 4".into())),
            "{name}: {:?}",
            outcome.notes
        );
        assert!(
            outcome
                .mapping
                .contains(&("net_amount".into(), "`金額/未稅` (dictionary)".into())),
            "{name}: {:?}",
            outcome.mapping
        );
    }
}

#[test]
fn a_missing_sheet_lists_the_sheets() {
    let mut sales = source("sales", &erp("sales.xlsx"));
    sales.sheet = Some("2026".into());
    let error = refused(&[sales]);
    assert!(
        error.contains("no sheet `2026`") && error.contains("銷售明細, 說明"),
        "{error}"
    );
}

#[test]
fn a_truncated_file_is_refused_as_cut_off() {
    let error = refused(&[source("sales", &erp("sales-truncated.csv"))]);
    assert!(
        error.contains("ends in the middle of a row") && error.contains("line 5"),
        "{error}"
    );
}

#[test]
fn public_mops_revenue_loads_as_competitor_sales() {
    // Taiwan's MOPS open data, three real rows for December 2023: quoted
    // fields, a byte-order mark, ROC months (`112/12`), a note with commas.
    // Revenue in thousands of NT$: 9514039 + 6313936 + 283279 = 16111254.
    let mut revenue = source("competitor_sales", &erp("mops-revenue-112-12.csv"));
    revenue.columns.insert(
        "region".into(),
        opskpi::config::ColumnSpec::Detail(opskpi::config::ColumnDetail {
            constant: Some("Taiwan".into()),
            ..Default::default()
        }),
    );
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = load(&mut warehouse, &[revenue]).remove(0);
    assert_eq!((outcome.rows, outcome.loaded), (3, 3));
    assert_eq!(
        text(
            &warehouse,
            "SELECT min(period) || ' ' || string_agg(competitor, ',' ORDER BY competitor) || ' ' || sum(sales_amount) || ' ' || min(category) FROM competitor_sales"
        ),
        "2023-12-01 亞泥,台泥,嘉泥 16111254.0000 水泥工業"
    );
}

#[test]
fn json_numbers_keep_every_digit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sales.json");
    // Through a float, 0.1 + 0.2-style noise or a lost digit would show.
    std::fs::write(
        &path,
        r#"[{"order_id": "J1", "line_no": 1, "order_date": "2026-10-01", "net_amount": 957.5775, "cost_amount": 0.1},
            {"order_id": "J2", "line_no": 1, "order_date": "2026-10-02", "net_amount": 12345678901.2345, "cost_amount": 0.2}]"#,
    )
    .unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = load(&mut warehouse, &[source("sales", &path)]).remove(0);
    // A record's place is the line it starts on.
    assert_eq!(outcome.place, "line");
    // 957.5775 + 12345678901.2345 = 12345679858.8120; 0.1 + 0.2 = 0.3.
    assert_eq!(
        text(
            &warehouse,
            "SELECT sum(net_amount) || ' ' || sum(cost_amount) FROM sales"
        ),
        "12345679858.8120 0.3000"
    );
}

#[test]
fn typed_parquet_numbers_load_exactly_and_extra_decimals_are_set_aside() {
    use opskpi::config::Threshold;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sales.parquet");
    // Integers of any width, decimals of fewer places than the canonical 4,
    // and of more: 220.046400 has only zeros past the 4th place; 1.234567
    // does not (rounding it would change the total).
    duckdb::Connection::open_in_memory()
        .unwrap()
        .execute_batch(&format!(
            "COPY (SELECT order_id, line_no::TINYINT AS line_no, DATE '2026-10-01' AS order_date,
                          quantity::HUGEINT AS quantity, net::DECIMAL(12,6) AS net_amount,
                          cost::INTEGER AS cost_amount
                   FROM (VALUES ('A1', 1, 2, 220.0464, 100), ('A1', 2, 1, 1.234567, 1),
                                ('A2', 1, -1, -5.5, 200)) v(order_id, line_no, quantity, net, cost))
             TO '{}' (FORMAT PARQUET)",
            path.display()
        ))
        .unwrap();
    let mut sales = source("sales", &path);
    sales.max_bad_rows = Threshold::Rows(1);
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = load(&mut warehouse, &[sales]).remove(0);
    assert_eq!((outcome.loaded, outcome.quarantined), (2, 1));
    // 220.0464 − 5.5 and 100 + 200, exactly; line numbers and quantities kept.
    assert_eq!(net_total(&warehouse), "214.5464");
    assert_eq!(
        text(
            &warehouse,
            "SELECT sum(cost_amount)::VARCHAR || ' ' || string_agg(order_id || '/' || line_no || '/' || quantity, ',' ORDER BY order_id) FROM sales"
        ),
        "300.0000 A1/1/2,A2/1/-1"
    );
    assert_eq!(
        text(
            &warehouse,
            "SELECT line || '|' || column_name || '|' || value FROM _opskpi_quarantine"
        ),
        "2|net_amount|1.234567"
    );
}
