//! Exports read back by readers that are not the writers: DuckDB reads the
//! Parquet files (written by arrow-rs), calamine the workbooks (written by
//! rust_xlsxwriter), the csv crate and serde_json the text; the values
//! compared are written out by hand.

use std::path::Path;

use calamine::{open_workbook_auto, Data, DataType, Reader};

use crate::cmd::*;

/// One row whose every value needs care: a decimal of 16 significant
/// digits (more than a double holds), a double that needs all its digits,
/// a date, text with a comma and quotes, NULL, an integer past 2^53, a
/// boolean.
const AWKWARD: &str =
    "select 123456789012.3456::DECIMAL(18,4) as big, 1.884970000001::DOUBLE as ratio, \
     DATE '2026-10-03' as d, 'é, \"x\"' as t, NULL::INTEGER as missing, \
     9007199254740993::BIGINT as huge, true as flag, 220.0464::DECIMAL(18,4) as small";

fn duckdb_row(path: &Path, columns: &str) -> Vec<Option<String>> {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    conn.query_row(
        &format!("SELECT {columns} FROM read_parquet(?)"),
        [path.display().to_string()],
        |row| {
            (0..row.as_ref().column_count())
                .map(|i| row.get::<_, Option<String>>(i))
                .collect()
        },
    )
    .unwrap()
}

#[test]
fn sql_answers_export_to_every_format_with_every_digit() {
    let project = tiny_project();
    let dir = project.path();

    // Parquet keeps the types: DuckDB reads the decimal back exactly.
    let parquet = dir.join("awkward.parquet");
    let output = sql(dir, AWKWARD, &["--out", &parquet.display().to_string()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        duckdb_row(
            &parquet,
            "big::VARCHAR, typeof(big), ratio::VARCHAR, d::VARCHAR, t, missing::VARCHAR, huge::VARCHAR, flag::VARCHAR, small::VARCHAR"
        ),
        [
            Some("123456789012.3456"),
            Some("DECIMAL(18,4)"),
            Some("1.884970000001"),
            Some("2026-10-03"),
            Some("é, \"x\""),
            None,
            Some("9007199254740993"),
            Some("true"),
            Some("220.0464"),
        ]
        .map(|v| v.map(String::from))
    );

    // Excel: a double holds 15 significant digits, so the 16-digit decimal
    // and the integer past 2^53 are text with every digit; the rest are
    // numbers, a date and a boolean.
    let xlsx = dir.join("awkward.xlsx");
    let output = sql(
        dir,
        AWKWARD,
        &["--format", "xlsx", "--out", &xlsx.display().to_string()],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let mut workbook = open_workbook_auto(&xlsx).unwrap();
    assert_eq!(workbook.sheet_names(), ["data"]);
    let range = workbook.worksheet_range("data").unwrap();
    let header: Vec<String> = (0..8)
        .map(|c| range.get((0, c)).unwrap().to_string())
        .collect();
    assert_eq!(
        header,
        ["big", "ratio", "d", "t", "missing", "huge", "flag", "small"]
    );
    assert_eq!(
        range.get((1, 0)),
        Some(&Data::String("123456789012.3456".into()))
    );
    assert_eq!(range.get((1, 1)), Some(&Data::Float(1.884970000001)));
    assert_eq!(
        range.get((1, 2)).unwrap().as_date(),
        chrono::NaiveDate::from_ymd_opt(2026, 10, 3)
    );
    assert_eq!(range.get((1, 3)), Some(&Data::String("é, \"x\"".into())));
    assert!(range.get((1, 4)).is_none_or(|cell| cell.is_empty()));
    assert_eq!(
        range.get((1, 5)),
        Some(&Data::String("9007199254740993".into()))
    );
    assert_eq!(range.get((1, 6)), Some(&Data::Bool(true)));
    assert_eq!(range.get((1, 7)), Some(&Data::Float(220.0464)));

    // CSV and JSON: the exact text.
    let output = sql(dir, AWKWARD, &["--format", "csv"]);
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let record = reader.records().next().unwrap().unwrap();
    assert_eq!(
        record.iter().collect::<Vec<_>>(),
        [
            "123456789012.3456",
            "1.884970000001",
            "2026-10-03",
            "é, \"x\"",
            "",
            "9007199254740993",
            "true",
            "220.0464"
        ]
    );
    let output = sql(dir, AWKWARD, &["--format", "json"]);
    let text = stdout(&output);
    assert!(text.contains("\"big\": 123456789012.3456,"), "{text}");
    assert!(text.contains("\"huge\": 9007199254740993,"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json[0]["flag"], serde_json::json!(true));
    assert_eq!(json[0]["missing"], serde_json::Value::Null);
    assert_eq!(json[0]["t"], "é, \"x\"");
}

#[test]
fn files_get_every_row_and_binary_formats_need_a_file() {
    let project = tiny_project();
    let dir = project.path();
    // No limit applies silently to a file: 250 rows, though a terminal table shows 100.
    let parquet = dir.join("n.parquet");
    let output = sql(
        dir,
        "select range as n from range(250)",
        &["--out", &parquet.display().to_string()],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        duckdb_row(&parquet, "count(*)::VARCHAR, sum(n)::VARCHAR"),
        [Some("250".to_string()), Some((249 * 250 / 2).to_string())]
    );
    // Parquet on a terminal: refused, with the way out.
    let output = sql(dir, "select 1", &["--format", "parquet"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("parquet is a file format"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("--out FILE.parquet"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_failed_export_leaves_no_file_and_keeps_the_old_one() {
    let project = tiny_project();
    let dir = project.path();
    let target = dir.join("answer.csv");
    std::fs::write(&target, "the previous export\n").unwrap();
    // The error comes while the rows stream, after the file was begun.
    let query =
        "select range, case when range = 5000 then error('stop here') end from range(10000)";
    for format in ["csv", "parquet", "xlsx"] {
        let output = sql(
            dir,
            query,
            &["--format", format, "--out", &target.display().to_string()],
        );
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("stop here"), "{}", stderr(&output));
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "the previous export\n"
        );
    }
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".opskpi-export-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_excel_export_continues_on_further_sheets() {
    let project = tiny_project();
    let dir = project.path();
    let xlsx = dir.join("big.xlsx");
    // One more row than a sheet holds under its header, and one more.
    let rows = 1_048_575 + 2;
    let output = sql(
        dir,
        &format!("select range + 1 as n from range({rows})"),
        &["--out", &xlsx.display().to_string()],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let mut workbook = open_workbook_auto(&xlsx).unwrap();
    assert_eq!(workbook.sheet_names(), ["data", "data 2"]);
    let first = workbook.worksheet_range("data").unwrap();
    assert_eq!(first.height(), 1_048_576);
    assert_eq!(first.get((1_048_575, 0)), Some(&Data::Float(1_048_575.0)));
    let second = workbook.worksheet_range("data 2").unwrap();
    assert_eq!(second.height(), 3);
    assert_eq!(second.get((0, 0)), Some(&Data::String("n".into())));
    assert_eq!(second.get((1, 0)), Some(&Data::Float(1_048_576.0)));
    assert_eq!(second.get((2, 0)), Some(&Data::Float(1_048_577.0)));
}

#[test]
fn kpi_rows_export_to_parquet_and_excel_with_their_digits() {
    let project = tiny_project();
    let dir = project.path();
    let parquet = dir.join("share.parquet");
    let output = kpi(
        dir,
        &[
            "market_share",
            "--from",
            "2024-02",
            "--to",
            "2024-03",
            "--by",
            "region",
            "--out",
            &parquet.display().to_string(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let (value, last_year, kind): (String, String, String) = conn
        .query_row(
            "SELECT value::VARCHAR, last_year::VARCHAR, typeof(value) \
             FROM read_parquet($1) WHERE period = '2024-03' AND region = 'North'",
            [parquet.display().to_string()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    // North, March 2024: 2000 / 21000 = 0.095238095238095238…, carried to
    // 15 significant digits; March 2023: 1000 / 10000 = 0.1.
    assert_eq!(value, "0.095238095238095200");
    assert_eq!(last_year, "0.100000000000000000");
    assert_eq!(kind, "DECIMAL(38,18)");
    // --from/--to: both months; February has no market data at all, so its
    // share is missing (NULL), not 0.
    let whole = dir.join("whole.parquet");
    let output = kpi(
        dir,
        &[
            "market_share",
            "--from",
            "2024-02",
            "--to",
            "2024-03",
            "--out",
            &whole.display().to_string(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        duckdb_row(
            &whole,
            "string_agg(period || '=' || coalesce(value::VARCHAR, 'NULL'), ' ' ORDER BY period)"
        )[0]
        .as_deref()
        .map(|s| s.starts_with("2024-02=NULL 2024-03=0.09")),
        Some(true)
    );

    let xlsx = dir.join("share.xlsx");
    let output = kpi(
        dir,
        &[
            "market_share",
            "--period",
            "2024-03",
            "--by",
            "region",
            "--out",
            &xlsx.display().to_string(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let mut workbook = open_workbook_auto(&xlsx).unwrap();
    let range = workbook.worksheet_range("data").unwrap();
    let column = |name: &str| {
        (0..range.width())
            .find(|&c| *range.get((0, c)).unwrap() == name)
            .unwrap()
    };
    let north = (1..range.height())
        .find(|&r| *range.get((r, column("region"))).unwrap() == "North")
        .unwrap();
    assert_eq!(
        range.get((north, column("value"))),
        Some(&Data::Float(0.0952380952380952))
    );
    assert_eq!(
        range.get((north, column("status"))),
        Some(&Data::String("warning".into()))
    );
}

#[test]
fn indicator_results_are_a_table_function_beside_the_tables() {
    let project = tiny_project();
    let dir = project.path();
    let ask = |query: &str| sql(dir, query, &["--format", "csv", "--as-of", "2024-12-31"]);
    // North, March 2024: 2000 / 21000 (to 15 significant digits), last year
    // 1000 / 10000, status warning against 10 % with warning from 8.5 %.
    let output = ask(
        "select region, value, last_year, status from kpi('market_share', '2024-03', by := 'region') order by region",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().nth(1),
        Some("North,0.095238095238095200,0.100000000000000000,warning")
    );
    // Joined like any table: March 2024 net sales 2,180 (1900 + 100 + 270 − 90)
    // against the lines in the sales table.
    let output = ask(
        "select k.value = s.total as same, k.value::DECIMAL(18,2) as value \
         from kpi('net_sales', '2024-03') k, \
         (select sum(net_amount) as total from sales where order_date between '2024-03-01' and '2024-03-31') s",
    );
    assert_eq!(
        stdout(&output),
        "same,value\ntrue,2180.00\n",
        "{}",
        stderr(&output)
    );
    // A series, and the catalogue.
    let output = ask("select string_agg(period, ' ' order by period) from kpi('net_sales', '2024-03', periods := 3)");
    assert!(
        stdout(&output).ends_with("2024-01 2024-02 2024-03\n"),
        "{}",
        stdout(&output)
    );
    let output = ask("select count(*) from kpi_indicators() where indicator in ('net_sales', 'market_share', 'csat')");
    assert!(stdout(&output).ends_with("\n3\n"), "{}", stdout(&output));
    // A mistake is the indicator layer's message, at the query's position.
    let output = ask("select * from kpi('inventory_turnover', '2024-03', by := 'region')");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("kpi(): indicator `inventory_turnover` cannot be cut by `region`"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("can be cut by: category"),
        "{}",
        stderr(&output)
    );
}
