//! Many users at once: readers side by side, a load alone, and what a
//! command says when it waits for or cannot open the warehouse.

use std::path::Path;
use std::process::Command;

use crate::cmd::*;

/// A DuckDB client of the test's own with the warehouse open read-only.
fn open_read_only(path: &Path) -> duckdb::Connection {
    duckdb::Connection::open_with_flags(
        path,
        duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn readers_run_side_by_side() {
    let project = tiny_project();
    let config = config_arg(project.path());
    // Several commands that only read, started together, and a DuckDB
    // client of our own holding the file open read-only all along.
    let path = project.path().join("warehouse.duckdb");
    let reader = open_read_only(&path);
    let out = project.path().join("reports");
    let commands: Vec<Vec<String>> = vec![
        vec!["kpi", "net_sales", "--period", "2024-03"],
        vec!["kpi", "csat", "--period", "2024-03", "--by", "channel"],
        vec!["check", "--fail-on", "never"],
        vec![
            "report",
            "monthly",
            "--period",
            "2024-03",
            "--out",
            &out.display().to_string(),
        ],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(String::from).collect())
    .collect();
    let children: Vec<std::process::Child> = commands
        .iter()
        .map(|args| {
            Command::new(env!("CARGO_BIN_EXE_opskpi"))
                .args(args)
                .args(["--config", &config, "--as-of", "2024-12-31", "--quiet"])
                .env_remove("OPSKPI_CONFIG")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (child, args) in children.into_iter().zip(&commands) {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    drop(reader);
}

#[test]
fn a_reader_waits_for_a_load_or_says_who_holds_the_warehouse() {
    let project = tiny_project();
    let path = project.path().join("warehouse.duckdb");
    // This test process holds the warehouse for writing, as a load would.
    let writer = duckdb::Connection::open(&path).unwrap();
    set_wait(project.path(), 0);
    let output = kpi(project.path(), &["net_sales", "--period", "2024-03"]);
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(
        error.contains("cannot read the warehouse")
            && error.contains(&format!("PID {}", std::process::id())),
        "{error}"
    );
    assert!(error.contains("wait_seconds"), "{error}");
    // With time to wait, the reader gets the warehouse once the writer is done.
    set_wait(project.path(), 60);
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        drop(writer);
    });
    let output = kpi(project.path(), &["net_sales", "--period", "2024-03"]);
    release.join().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_load_waits_for_readers_or_says_who_holds_the_warehouse() {
    let project = tiny_project();
    let path = project.path().join("warehouse.duckdb");
    let reader = open_read_only(&path);
    set_wait(project.path(), 0);
    let config = config_arg(project.path());
    let output = opskpi(&["ingest", "--full", "--config", &config, "--quiet"]);
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(
        error.contains("cannot write to the warehouse")
            && error.contains(&format!("PID {}", std::process::id())),
        "{error}"
    );
    drop(reader);
    let output = opskpi(&["ingest", "--full", "--config", &config, "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_reader_says_when_the_warehouse_is_older_than_opskpi() {
    let project = tiny_project();
    let path = project.path().join("warehouse.duckdb");
    // As if written before the load log had its files table.
    duckdb::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE _opskpi_files")
        .unwrap();
    let output = kpi(project.path(), &["net_sales", "--period", "2024-03"]);
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(
        error.contains("lacks the tables or columns _opskpi_files"),
        "{error}"
    );
    assert!(error.contains("run `opskpi ingest` once"), "{error}");
    // A load brings it up to date, and the reader works again.
    let config = config_arg(project.path());
    let output = opskpi(&["ingest", "--config", &config, "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(kpi(project.path(), &["net_sales", "--period", "2024-03"])
        .status
        .success());
}
