//! The Spark engine against DuckDB, on a real Spark Connect server
//! (`.ci/run` starts Spark 4.3 from PyPI's pyspark on 127.0.0.1; elsewhere
//! set `OPSKPI_TEST_SPARK_REMOTE=sc://127.0.0.1:15002`). Every indicator ×
//! grain × grouping must give the same rows as DuckDB, and a report the same
//! bytes; what fails (no server, a lost connection, a missing or changed lake
//! table) fails with exit 1 and a hint, and writes no report.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;

use opskpi::calendar::Calendar;
use opskpi::config::Config;
use opskpi::engine::spark::SparkEngine;
use opskpi::warehouse::Warehouse;

use crate::common::*;
use crate::engines::{compare_with, nrf_calendar, sample_company};

/// The test server's address; without one the test is skipped, except
/// under CI, where a missing server is a failure.
fn remote() -> Option<String> {
    match std::env::var("OPSKPI_TEST_SPARK_REMOTE") {
        Ok(remote) if !remote.is_empty() => Some(remote),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI needs OPSKPI_TEST_SPARK_REMOTE (a Spark Connect server, started by .ci/run)")
        }
        _ => {
            eprintln!("skipped: no OPSKPI_TEST_SPARK_REMOTE");
            None
        }
    }
}

/// `warehouse` exported to a lake in `dir`, and a Spark session over it.
fn spark_over(warehouse: &Warehouse, dir: &Path, remote: &str) -> SparkEngine {
    opskpi::jobs::lake_export_warehouse(warehouse, &dir.join("lake"), &|_| {}).unwrap();
    let mut config = Config::with_root(dir);
    config.lake.path = Some("lake".into());
    config.spark.remote = remote.to_string();
    SparkEngine::connect(&config, warehouse.offset_seconds()).unwrap()
}

#[test]
fn every_indicator_agrees_with_duckdb_on_the_sample_company() {
    let Some(remote) = remote() else { return };
    let (config, warehouse) = sample_company();
    let dir = tempfile::tempdir().unwrap();
    let spark = spark_over(&warehouse, dir.path(), &remote);
    let mut context = opskpi::jobs::context(&config, date("2026-11-02"));
    context.calendar = Calendar::from(4);
    // Day, week, month, quarter, year, fiscal year; whole and running.
    let periods = [
        "2026-10-31",
        "2026-W44",
        "2026-10",
        "2026-11",
        "2026-Q4",
        "2025",
        "FY2027",
    ];
    let compared = compare_with(&spark, &warehouse, &context, &periods);
    println!("{compared} rows compared through Spark");
    assert!(compared > 3_000, "{compared} rows compared");
}

#[test]
fn every_indicator_agrees_in_a_retail_calendar_and_on_the_tiny_company_edges() {
    let Some(remote) = remote() else { return };
    let warehouse = tiny_warehouse();
    let dir = tempfile::tempdir().unwrap();
    let spark = spark_over(&warehouse, dir.path(), &remote);
    // Partial periods, a missing prior year (2023), returns, a zero base.
    let periods = [
        "2024-03",
        "2024-04",
        "2024-Q1",
        "2024",
        "2024-03-31",
        "2024-W13",
        "2023-03",
    ];
    let compared = compare_with(&spark, &warehouse, &context("2024-12-31"), &periods);
    assert!(compared > 500, "{compared} rows compared");
    let mut retail = context("2024-12-31");
    retail.calendar = nrf_calendar();
    let compared = compare_with(
        &spark,
        &warehouse,
        &retail,
        &["R2024-M02", "R2024-Q1", "R2024"],
    );
    assert!(compared > 200, "{compared} rows compared");
}

/// The tiny project with `[lake]` and `[spark]`, its lake exported.
fn spark_project(remote: &str) -> tempfile::TempDir {
    let project = crate::cmd::tiny_project();
    let path = project.path().join("opskpi.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("{text}\n[lake]\npath = \"lake\"\n\n[spark]\nremote = \"{remote}\"\nconnect_timeout_seconds = 5\n"),
    )
    .unwrap();
    let config = crate::cmd::config_arg(project.path());
    let output = crate::cmd::opskpi(&["lake", "export", "--config", &config, "--quiet"]);
    assert!(output.status.success(), "{}", crate::cmd::stderr(&output));
    project
}

fn report(
    project: &Path,
    kind: &str,
    period: &str,
    engine: &str,
    out: &str,
) -> std::process::Output {
    let config = crate::cmd::config_arg(project);
    let out = project.join(out);
    crate::cmd::opskpi(&[
        "report",
        kind,
        "--period",
        period,
        "--as-of",
        "2024-12-31",
        "--format",
        "html,pdf",
        "--engine",
        engine,
        "--config",
        &config,
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn the_monthly_report_and_the_assessment_are_the_same_bytes_through_spark() {
    let Some(remote) = remote() else { return };
    let project = spark_project(&remote);
    for (kind, period, stem) in [
        ("monthly", "2024-03", "monthly-2024-03"),
        ("assessment", "2024-Q1", "assessment-2024-Q1"),
    ] {
        for engine in ["duckdb", "spark"] {
            let output = report(project.path(), kind, period, engine, engine);
            assert!(
                output.status.success(),
                "{kind} {engine}: {}",
                crate::cmd::stderr(&output)
            );
        }
        for suffix in ["html", "pdf"] {
            let read = |engine: &str| {
                std::fs::read(project.path().join(engine).join(format!("{stem}.{suffix}"))).unwrap()
            };
            assert!(read("duckdb") == read("spark"), "{stem}.{suffix} differs");
        }
    }
    // March 2024's net sales by hand (tests/indicators.rs): 2,180.
    let page = std::fs::read_to_string(project.path().join("spark/monthly-2024-03.html")).unwrap();
    assert!(page.contains("2,180"));
}

#[test]
fn a_lake_export_writes_only_what_changed() {
    let warehouse = tiny_warehouse();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let first = opskpi::jobs::lake_export_warehouse(&warehouse, &lake, &|_| {}).unwrap();
    // 17 tables; the tiny company's sales span the months of its fixture.
    let months = text(
        &warehouse,
        "SELECT count(DISTINCT strftime(order_date, '%Y-%m'))::VARCHAR FROM sales",
    );
    let months: usize = months.trim().parse().unwrap();
    assert_eq!(first.tables, 17);
    assert_eq!(first.parts_written, 16 + months);
    let second = opskpi::jobs::lake_export_warehouse(&warehouse, &lake, &|_| {}).unwrap();
    assert_eq!(
        (second.parts_written, second.parts_unchanged),
        (0, 16 + months)
    );
    // One more line in March 2024: only March is written again.
    warehouse
        .connection()
        .execute_batch(
            "INSERT INTO sales SELECT * REPLACE ('O99' AS order_id, 1 AS line_no) FROM sales
             WHERE order_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31' LIMIT 1",
        )
        .unwrap();
    let third = opskpi::jobs::lake_export_warehouse(&warehouse, &lake, &|_| {}).unwrap();
    assert_eq!(
        (third.parts_written, third.parts_unchanged),
        (1, 15 + months)
    );
    assert_eq!(third.rows, second.rows + 1);
}

fn kpi(project: &Path) -> std::process::Output {
    let config = crate::cmd::config_arg(project);
    crate::cmd::opskpi(&[
        "kpi",
        "net_sales",
        "target_attainment",
        "--period",
        "2024-03",
        "--as-of",
        "2024-12-31",
        "--engine",
        "spark",
        "--config",
        &config,
        "--format",
        "csv",
    ])
}

fn set_remote(project: &Path, remote: &str, extra: &str) {
    let path = project.join("opskpi.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("[spark]").unwrap();
    std::fs::write(
        &path,
        format!(
            "{}[spark]\nremote = \"{remote}\"\nconnect_timeout_seconds = 2\n{extra}",
            &text[..start]
        ),
    )
    .unwrap();
}

#[test]
fn failures_are_errors_with_a_hint_never_a_hang_or_a_partial_report() {
    let Some(remote) = remote() else { return };
    let project = spark_project(&remote);
    let ok = kpi(project.path());
    assert!(ok.status.success(), "{}", crate::cmd::stderr(&ok));
    // March 2024 by hand (tests/indicators.rs): 2,180 of sales.
    assert!(
        crate::cmd::stdout(&ok).contains(",2024-03,false,2180,"),
        "{}",
        crate::cmd::stdout(&ok)
    );

    // Nobody listening.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    set_remote(project.path(), &format!("sc://127.0.0.1:{port}"), "");
    let output = kpi(project.path());
    assert_eq!(output.status.code(), Some(1));
    let error = crate::cmd::stderr(&output);
    assert!(
        error.contains("cannot reach Spark Connect") && error.contains("hint:"),
        "{error}"
    );

    // A server that accepts and never answers: the query timeout ends it.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let held: Vec<TcpStream> = silent.incoming().take(1).filter_map(|s| s.ok()).collect();
        std::thread::sleep(std::time::Duration::from_secs(8));
        drop(held);
    });
    set_remote(
        project.path(),
        &format!("sc://127.0.0.1:{port}"),
        "query_timeout_seconds = 2\n",
    );
    let output = kpi(project.path());
    assert_eq!(output.status.code(), Some(1));
    let error = crate::cmd::stderr(&output);
    assert!(
        error.contains("hint:") && (error.contains("within") || error.contains("cannot reach")),
        "{error}"
    );
    holder.join().unwrap();

    // The connection lost in the middle of an answer: the report is not written.
    let port = cutting_proxy(&remote, 20_000);
    set_remote(project.path(), &format!("sc://127.0.0.1:{port}"), "");
    let output = report(project.path(), "monthly", "2024-03", "spark", "cut");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        crate::cmd::stderr(&output)
    );
    let error = crate::cmd::stderr(&output);
    assert!(
        error.contains("Spark") && error.contains("hint:"),
        "{error}"
    );
    assert!(!project.path().join("cut/monthly-2024-03.html").exists());
    assert!(!project.path().join("cut/monthly-2024-03.pdf").exists());

    // A lake table missing from the export, and one that no longer matches the model.
    set_remote(project.path(), &remote, "");
    let manifest_path = project.path().join("lake/_opskpi_lake.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let mut changed: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    changed["tables"]
        .as_object_mut()
        .unwrap()
        .remove("sales_targets");
    std::fs::write(&manifest_path, changed.to_string()).unwrap();
    let output = kpi(project.path());
    assert_eq!(output.status.code(), Some(1));
    let error = crate::cmd::stderr(&output);
    assert!(
        error.contains("the lake has no table `sales_targets`")
            && error.contains("opskpi lake export"),
        "{error}"
    );
    std::fs::write(&manifest_path, &manifest).unwrap();
    let targets = project.path().join("lake/sales_targets");
    let part = std::fs::read_dir(&targets)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let duck = opskpi::warehouse::Warehouse::in_memory().unwrap();
    std::fs::remove_file(&part).unwrap();
    duck.connection()
        .execute_batch(&format!(
        "COPY (SELECT DATE '2024-03-01' AS period, 'company' AS scope, NULL::VARCHAR AS scope_value,
                      1000.0::DOUBLE AS target_amount) TO '{}' (FORMAT parquet)",
        part.display()
    ))
        .unwrap();
    let output = kpi(project.path());
    assert_eq!(output.status.code(), Some(1));
    let error = crate::cmd::stderr(&output);
    assert!(
        error.contains("does not match the model: column `target_amount` is Float64")
            && error.contains("hint:"),
        "{error}"
    );
}

/// A TCP proxy to `remote` that cuts the connection once the server has
/// sent `limit` bytes; its port.
fn cutting_proxy(remote: &str, limit: usize) -> u16 {
    let target = remote
        .trim_start_matches("sc://")
        .trim_end_matches('/')
        .to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&target) else {
                return;
            };
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut c_read, &mut s_write));
            let (mut s_read, mut c_write) = (server, client);
            let mut sent = 0;
            let mut buffer = [0u8; 8192];
            while let Ok(n) = s_read.read(&mut buffer) {
                if n == 0 || c_write.write_all(&buffer[..n]).is_err() {
                    break;
                }
                sent += n;
                if sent >= limit {
                    let _ = c_write.shutdown(std::net::Shutdown::Both);
                    let _ = s_read.shutdown(std::net::Shutdown::Both);
                    break;
                }
            }
        }
    });
    port
}

#[test]
fn ingest_writes_straight_into_the_lake_and_keeps_no_warehouse() {
    let project = copy_fixture("tiny", "");
    let toml = project.path().join("opskpi.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{text}\n[lake]\npath = \"lake\"\n")).unwrap();
    let config = crate::cmd::config_arg(project.path());
    let ingest = || crate::cmd::opskpi(&["ingest", "--to-lake", "--config", &config, "--quiet"]);
    let first = ingest();
    assert!(first.status.success(), "{}", crate::cmd::stderr(&first));
    let said = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(said.contains("parts written"), "{said}");
    // Nothing sits in a DuckDB file: no warehouse, no scratch folder left.
    let leftovers: Vec<String> = std::fs::read_dir(project.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.contains("duckdb") || name.starts_with(".opskpi-ingest-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // March 2024's sales lines by hand (tests/indicators.rs: net sales
    // 2,180), read back from the lake's Parquet by DuckDB itself.
    let lake = project.path().join("lake");
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let march: String = conn
        .query_row(
            &format!(
                "SELECT CAST(sum(net_amount) AS DECIMAL(18,2))::VARCHAR
                 FROM read_parquet('{}/sales/**/*.parquet')
                 WHERE order_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'",
                lake.display()
            ),
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(march, "2180.00");
    let generation = |lake: &Path| {
        opskpi::lake::Manifest::read(lake)
            .unwrap()
            .unwrap()
            .generation
    };
    // Again: every source read again, no part written.
    let again = ingest();
    assert!(again.status.success(), "{}", crate::cmd::stderr(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(" 0 parts written"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    let before = generation(&lake);
    // A refused load (a sales file without the model's columns) leaves the
    // lake as it was, and no scratch warehouse behind.
    std::fs::write(project.path().join("broken.csv"), "colour,size\nred,3\n").unwrap();
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        format!("{text}\n[[sources]]\ntable = \"sales\"\npath = \"broken.csv\"\n"),
    )
    .unwrap();
    let refused = ingest();
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        crate::cmd::stderr(&refused)
    );
    assert_eq!(generation(&lake), before);
    assert!(
        !std::fs::read_dir(project.path()).unwrap().any(|entry| entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".opskpi-ingest-"))
    );
}
