//! The sample company generator.

use opskpi::config::Format;
use opskpi::sample::{self, SampleSpec};

use crate::common::*;

fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|e| e == "csv" || e == "parquet")
        })
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_same_seed_gives_byte_identical_files() {
    for format in [Format::Csv, Format::Parquet] {
        let spec = SampleSpec {
            scale: 0.02,
            format,
            ..SampleSpec::default()
        };
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        sample::write(&spec, a.path(), &|_| {}).unwrap();
        sample::write(&spec, b.path(), &|_| {}).unwrap();
        let (first, second) = (files(a.path()), files(b.path()));
        assert_eq!(first.len(), sample::TABLES.len());
        assert!(first == second, "{format:?} files differ between runs");
    }
    // Another seed gives another company.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sample::write(
        &SampleSpec {
            scale: 0.02,
            format: Format::Csv,
            ..SampleSpec::default()
        },
        a.path(),
        &|_| {},
    )
    .unwrap();
    sample::write(
        &SampleSpec {
            scale: 0.02,
            seed: 7,
            format: Format::Csv,
            ..SampleSpec::default()
        },
        b.path(),
        &|_| {},
    )
    .unwrap();
    assert!(files(a.path()) != files(b.path()));
}

#[test]
fn the_committed_sample_data_is_what_the_generator_writes() {
    // sample-data/ was written by `opskpi sample --out sample-data --scale 0.05 --format csv`.
    let dir = tempfile::tempdir().unwrap();
    sample::write(
        &SampleSpec {
            scale: 0.05,
            format: Format::Csv,
            ..SampleSpec::default()
        },
        dir.path(),
        &|_| {},
    )
    .unwrap();
    let committed = files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data"));
    assert!(
        files(dir.path()) == committed,
        "sample-data/ is stale: regenerate it (see sample-data/README.md)"
    );
}

#[test]
fn the_sample_company_is_believable() {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    sample::generate(
        &conn,
        &SampleSpec {
            scale: 0.2,
            ..SampleSpec::default()
        },
        &|_| {},
    )
    .unwrap();
    let one = |sql: &str| -> String {
        conn.query_row(sql, [], |row| row.get::<_, String>(0))
            .unwrap()
    };
    assert_eq!(
        one("SELECT string_agg(DISTINCT category, ',' ORDER BY category) FROM products"),
        "beds,decor,lighting,sofas,storage,tables,textiles"
    );
    assert_eq!(
        one("SELECT string_agg(DISTINCT channel, ',' ORDER BY channel) FROM sales"),
        "dealer,online,store"
    );
    assert_eq!(
        one("SELECT string_agg(DISTINCT segment, ',' ORDER BY segment) FROM customers"),
        "dealer,retail,trade"
    );
    assert_eq!(
        one("SELECT count(DISTINCT region)::VARCHAR FROM sales"),
        "4"
    );
    assert_eq!(
        one("SELECT min(order_date)::VARCHAR || ' ' || max(order_date)::VARCHAR FROM sales"),
        "2023-01-01 2026-10-31"
    );
    // Returns exist and are a few per cent of lines.
    let returns: f64 = conn
        .query_row("SELECT avg((quantity < 0)::INT) FROM sales", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert!((0.01..0.08).contains(&returns), "{returns}");
    // A year-end peak: December sells more than the average month of its year.
    let peak: bool = conn
        .query_row(
            "WITH m AS (SELECT month(order_date) AS m, sum(net_amount) AS s FROM sales WHERE year(order_date) = 2025 GROUP BY 1)
             SELECT (SELECT s FROM m WHERE m = 12) > 1.2 * (SELECT avg(s) FROM m)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(peak);
    // Growth: 2025 sold more than 2023.
    let growth: bool = conn
        .query_row(
            "SELECT sum(net_amount) FILTER (WHERE year(order_date) = 2025) > sum(net_amount) FILTER (WHERE year(order_date) = 2023) FROM sales",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(growth);
    // Every canonical sales line carries a date-matched opening stock: a snapshot the day before the first sale.
    assert_eq!(
        one("SELECT min(snapshot_date)::VARCHAR FROM inventory_snapshots"),
        "2022-12-31"
    );
}

#[test]
fn order_lines_grow_linearly_with_scale() {
    let lines = |scale: f64| -> f64 {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        sample::generate(
            &conn,
            &SampleSpec {
                scale,
                ..SampleSpec::default()
            },
            &|_| {},
        )
        .unwrap();
        conn.query_row("SELECT count(*)::DOUBLE FROM sales", [], |row| row.get(0))
            .unwrap()
    };
    let (small, large) = (lines(0.1), lines(0.4));
    let ratio = large / small;
    assert!(
        (3.8..4.2).contains(&ratio),
        "4× the scale gave {ratio}× the lines"
    );
}

#[test]
fn a_parquet_sample_loads_completely() {
    let dir = tempfile::tempdir().unwrap();
    let config = sample::write(
        &SampleSpec {
            scale: 0.02,
            ..SampleSpec::default()
        },
        dir.path(),
        &|_| {},
    )
    .unwrap();
    // The file's own count and total, read by a bare DuckDB connection.
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let file = dir.path().join("sales.parquet").display().to_string();
    let (lines, total): (i64, String) = conn
        .query_row(
            "SELECT count(*), sum(net_amount)::DECIMAL(38,4)::VARCHAR FROM read_parquet(?)",
            [file],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    let mut warehouse = opskpi::warehouse::Warehouse::in_memory().unwrap();
    let outcomes = load(&mut warehouse, &sources(&config));
    assert_eq!(outcomes.len(), sample::TABLES.len());
    let (loaded, loaded_total): (i64, String) = warehouse
        .connection()
        .query_row(
            "SELECT count(*), sum(net_amount)::VARCHAR FROM sales",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((loaded, loaded_total), (lines, total));
}
