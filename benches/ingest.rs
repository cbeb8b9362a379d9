//! Ingest throughput against DuckDB's own loader, in the same process: the
//! sample company's sales at about 1 and 10 million order lines, as CSV and
//! as Parquet, loaded by `opskpi` (every value read and checked, quarantine,
//! lineage, one transaction) and by a plain `CREATE TABLE … AS SELECT * FROM
//! read_csv/read_parquet` into a fresh DuckDB file; and, as the floor any
//! checked load can reach, a hand-written DuckDB load that only casts each
//! column to its type and checks the key is unique. Then the CSV as real
//! exports come: with a row filter that keeps every row (the staged path,
//! which counts what a filter leaves out) and packed in gzip (unpacked into
//! the scratch folder first). Prints two tables; asserts no time.
//! `cargo bench --bench ingest` (OPSKPI_BENCH_SCALES, e.g. `4.5,45`).

mod scales;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use opskpi::config::{Format, Source};
use opskpi::ingest::{ingest, IngestOptions};
use opskpi::sample::{self, SampleSpec};
use opskpi::warehouse::Warehouse;

const RUNS: usize = 3;
/// The same for both loads: opskpi's default.
const MEMORY_LIMIT: &str = "1.5GB";

/// DuckDB's own load of `file` into a new database file; rows and net total.
fn duckdb_load(dir: &Path, file: &Path, format: Format) -> (Duration, i64, String) {
    let path = dir.join("baseline.duckdb");
    let _ = std::fs::remove_file(&path);
    let conn = duckdb::Connection::open(&path).unwrap();
    conn.execute_batch(&format!(
        "SET memory_limit = '{MEMORY_LIMIT}'; SET temp_directory = '{}'",
        dir.join("baseline.tmp").display()
    ))
    .unwrap();
    let reader = match format {
        Format::Csv => "read_csv",
        _ => "read_parquet",
    };
    let started = Instant::now();
    conn.execute(
        &format!("CREATE TABLE sales AS SELECT * FROM {reader}(?)"),
        [file.display().to_string()],
    )
    .unwrap();
    let elapsed = started.elapsed();
    // DuckDB sniffs the amounts as DOUBLE, whose sum drifts from the exact
    // total (by 0.0004 at 1M lines): compare the values rounded to cents.
    let (rows, total) = conn
        .query_row(
            "SELECT count(*), sum(CAST(net_amount AS DECIMAL(18,2)))::DECIMAL(38,4)::VARCHAR FROM sales",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    (elapsed, rows, total)
}

/// The least a checked load does, by hand: every column cast to its
/// canonical type (an unreadable value fails the load) into a new database
/// file, then the key checked for repeats. No trimming, no other formats, no
/// quarantine, no lineage.
fn floor_load(dir: &Path, file: &Path) -> Duration {
    let path = dir.join("floor.duckdb");
    let _ = std::fs::remove_file(&path);
    let conn = duckdb::Connection::open(&path).unwrap();
    conn.execute_batch(&format!(
        "SET memory_limit = '{MEMORY_LIMIT}'; SET temp_directory = '{}'",
        dir.join("floor.tmp").display()
    ))
    .unwrap();
    let started = Instant::now();
    conn.execute(
        "CREATE TABLE sales AS SELECT order_id::VARCHAR AS order_id, line_no::BIGINT AS line_no,
             order_date::DATE AS order_date, customer_id::VARCHAR AS customer_id, sku::VARCHAR AS sku,
             store_id::VARCHAR AS store_id, channel::VARCHAR AS channel, region::VARCHAR AS region,
             salesperson_id::VARCHAR AS salesperson_id, quantity::BIGINT AS quantity,
             net_amount::DECIMAL(18,4) AS net_amount, cost_amount::DECIMAL(18,4) AS cost_amount
         FROM read_csv(?, all_varchar = true)",
        [file.display().to_string()],
    )
    .unwrap();
    let repeats: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT order_id, line_no FROM sales GROUP BY ALL HAVING count(*) > 1)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(repeats, 0);
    started.elapsed()
}

/// `staged`: every file through a stage table (the path before the direct
/// write, and still the one for a file with rows to set aside).
fn opskpi_load(dir: &Path, file: &Path, staged: bool) -> (Duration, i64, String) {
    opskpi_load_source(dir, Source::new("sales", file), staged)
}

/// `opskpi_load` of a source as given.
fn opskpi_load_source(dir: &Path, source: Source, staged: bool) -> (Duration, i64, String) {
    let path = dir.join("warehouse.duckdb");
    let _ = std::fs::remove_file(&path);
    let mut warehouse = Warehouse::open(&path).unwrap();
    warehouse
        .limit_memory(MEMORY_LIMIT, &dir.join("warehouse.tmp"))
        .unwrap();
    let loaded_at = NaiveDate::from_ymd_opt(2026, 11, 2)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let options = IngestOptions {
        scratch: Some(dir.join("scratch")),
        staged,
        ..IngestOptions::default()
    };
    let started = Instant::now();
    let outcomes = ingest(&mut warehouse, &[source], loaded_at, &options, &|_| {}).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(outcomes[0].quarantined, 0);
    let (rows, total) = warehouse
        .connection()
        .query_row(
            "SELECT count(*), sum(net_amount)::DECIMAL(38,4)::VARCHAR FROM sales",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    (elapsed, rows, total)
}

/// The allocator of the `opskpi` binary (`src/main.rs`), so that the
/// figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    opskpi::cli::without_huge_pages();
    let scales = scales::scales();
    println!("| order lines | format | opskpi ingest | DuckDB's own load | throughput vs DuckDB | opskpi, staged | floor: casts + key check by hand | floor vs DuckDB |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    let mut exports = Vec::new();
    for scale in scales {
        for format in [Format::Csv, Format::Parquet] {
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("data");
            sample::write(
                &SampleSpec {
                    scale,
                    format,
                    ..SampleSpec::default()
                },
                &data,
                &|_| {},
            )
            .unwrap();
            let file = data.join(if format == Format::Csv {
                "sales.csv"
            } else {
                "sales.parquet"
            });
            let mut ours = Vec::new();
            let mut theirs = Vec::new();
            let mut floor = Vec::new();
            let mut staged = Vec::new();
            let mut lines = 0;
            for _ in 0..RUNS {
                let (time, rows, total) = duckdb_load(dir.path(), &file, format);
                theirs.push(time);
                if format == Format::Csv {
                    floor.push(floor_load(dir.path(), &file));
                }
                let (time, our_rows, our_total) = opskpi_load(dir.path(), &file, false);
                ours.push(time);
                let (time, staged_rows, staged_total) = opskpi_load(dir.path(), &file, true);
                staged.push(time);
                assert_eq!((our_rows, &our_total), (staged_rows, &staged_total));
                assert_eq!(
                    (rows, &total),
                    (our_rows, &our_total),
                    "both loads hold the same rows and net total"
                );
                lines = rows;
            }
            let (ours, theirs) = (scales::median(ours), scales::median(theirs));
            let floor = if floor.is_empty() {
                "| – | – |".to_string()
            } else {
                let floor = scales::median(floor).as_secs_f64();
                format!("| {floor:.1} s | {:.2}× |", theirs.as_secs_f64() / floor)
            };
            println!(
                "| {lines} | {} | {:.1} s | {:.1} s | {:.2}× | {:.1} s {floor}",
                format.name(),
                ours.as_secs_f64(),
                theirs.as_secs_f64(),
                theirs.as_secs_f64() / ours.as_secs_f64(),
                scales::median(staged).as_secs_f64()
            );
            if format == Format::Csv {
                exports.push(as_exported(dir.path(), &file, lines, ours));
            }
        }
    }
    println!();
    println!("| order lines | opskpi ingest, CSV | with a row filter keeping every row | packed in gzip | gzip file |");
    println!("|---:|---:|---:|---:|---:|");
    for line in exports {
        println!("{line}");
    }
}

/// The CSV with a row filter that keeps every row, and packed in gzip: the
/// same rows and total as the plain load, and their median times.
fn as_exported(dir: &Path, file: &Path, lines: i64, plain: Duration) -> String {
    use std::io::Write;
    let gz = dir.join("sales.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::copy(&mut std::fs::File::open(file).unwrap(), &mut encoder).unwrap();
    encoder.finish().unwrap().flush().unwrap();
    let (_, _, total) = opskpi_load(dir, file, false);
    let mut filtered = Vec::new();
    let mut packed = Vec::new();
    for _ in 0..RUNS {
        let mut source = Source::new("sales", file);
        source.keep = Some(
            toml::from_str::<Holder>(r#"keep = { column = "order_id", not_in = ["none"] }"#)
                .unwrap()
                .keep,
        );
        let (time, rows, sum) = opskpi_load_source(dir, source, false);
        assert_eq!((rows, &sum), (lines, &total));
        filtered.push(time);
        let (time, rows, sum) = opskpi_load(dir, &gz, false);
        assert_eq!((rows, &sum), (lines, &total));
        packed.push(time);
    }
    let size = std::fs::metadata(&gz).unwrap().len() as f64 / 1e6;
    format!(
        "| {lines} | {:.1} s | {:.1} s | {:.1} s | {size:.0} MB |",
        plain.as_secs_f64(),
        scales::median(filtered).as_secs_f64(),
        scales::median(packed).as_secs_f64()
    )
}

#[derive(serde::Deserialize)]
struct Holder {
    keep: opskpi::config::Filters,
}
