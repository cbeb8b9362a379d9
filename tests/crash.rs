//! Crash points: `opskpi ingest` killed with SIGKILL at every named step of
//! a load — after BEGIN, after each staged file, after the delete of the
//! rows a file replaces, after the insert, after the load-log insert, before
//! and after COMMIT, and inside DuckDB's checkpoint — and at pseudo-random
//! moments. After each kill the warehouse opens for writing and reading,
//! holds exactly its state before the load or after it (every table, by
//! DuckDB's own hash of the content), its load log agrees with its rows, and
//! the next load converges on the state after, with no row twice.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::cmd::{config_arg, opskpi, stderr};
use crate::common::copy_fixture;

/// The tiny project loaded (the state before), with its sources then
/// changed: a sales file that brings new lines and changes one, a customer
/// added, and a survey file with a row to set aside (so the staged path
/// runs when `staged` is set).
fn project(staged: bool) -> tempfile::TempDir {
    let dir = copy_fixture("tiny", "");
    let config = config_arg(dir.path());
    let toml = std::fs::read_to_string(dir.path().join("opskpi.toml")).unwrap();
    // A row set aside must not refuse the file.
    std::fs::write(
        dir.path().join("opskpi.toml"),
        toml.replace(
            "path = \"surveys.csv\"",
            "path = \"surveys.csv\"\nmax_bad_rows = 5",
        ),
    )
    .unwrap();
    let output = opskpi(&["ingest", "--config", &config, "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let append = |file: &str, text: &str| {
        let path = dir.path().join(file);
        let mut all = std::fs::read_to_string(&path).unwrap();
        all.push_str(text);
        std::fs::write(path, all).unwrap();
    };
    let sales = std::fs::read_to_string(dir.path().join("sales.csv"))
        .unwrap()
        .replace(
            "O1,1,2023-03-31,C1,P1,S1,store,North,E1,1,1000.00,600.00",
            "O1,1,2023-03-31,C1,P1,S1,store,North,E1,1,1100.00,600.00",
        );
    std::fs::write(dir.path().join("sales.csv"), sales).unwrap();
    append("sales.csv", "O80,1,2024-03-26,C1,P1,S1,store,North,E1,2,300.00,150.00\nO80,2,2024-03-26,C1,P2,S1,store,North,E1,1,90.00,40.00\n");
    append("customers.csv", "C9,retail,North,2024-03-01\n");
    if staged {
        append("surveys.csv", "R90,2024-03-27,C1,O1,store,9,10\n");
    }
    dir
}

/// Every table's rows and content hash.
type State = Vec<(String, i64, String)>;

/// The canonical tables and the load log as a state: every table's rows and
/// the sum of DuckDB's hashes of them — the load log without its load
/// times, which differ from run to run.
fn state(warehouse: &Path) -> State {
    let conn = read_only(warehouse);
    let tables: Vec<(String, bool)> = conn
        .prepare(
            "SELECT table_name, bool_or(column_name = 'loaded_at') FROM duckdb_columns() \
             WHERE NOT internal AND table_name IN (SELECT table_name FROM duckdb_tables()) \
             GROUP BY ALL ORDER BY 1",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<duckdb::Result<_>>()
        .unwrap();
    tables
        .into_iter()
        .map(|(table, timed)| {
            let columns = if timed { "* EXCLUDE (loaded_at)" } else { "*" };
            let (rows, sum): (i64, Option<String>) = conn
                .query_row(
                    &format!("SELECT count(*), sum(hash(t))::VARCHAR FROM (SELECT {columns} FROM {table}) t"),
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .unwrap();
            (table, rows, sum.unwrap_or_default())
        })
        .collect()
}

fn read_only(warehouse: &Path) -> duckdb::Connection {
    duckdb::Connection::open_with_flags(
        warehouse,
        duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .unwrap(),
    )
    .unwrap()
}

/// The load log agrees with the rows: every file's rows are there, under its id.
fn log_agrees(warehouse: &Path) {
    let conn = read_only(warehouse);
    let files: Vec<(i64, String, i64)> = conn
        .prepare("SELECT file_id, table_name, rows_loaded FROM _opskpi_files")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<duckdb::Result<_>>()
        .unwrap();
    for (id, table, loaded) in files {
        let rows: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE _file_id = ?"),
                [id],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(
            rows, loaded,
            "file {id} of `{table}`: {rows} rows, the log says {loaded}"
        );
    }
}

/// The states before and after the load of `project`'s changed sources,
/// and how long that load took.
fn before_and_after(project: &Path) -> (Vec<u8>, State, State, Duration) {
    let warehouse = project.join("warehouse.duckdb");
    let saved = std::fs::read(&warehouse).unwrap();
    let before = state(&warehouse);
    let started = std::time::Instant::now();
    let output = opskpi(&["ingest", "--config", &config_arg(project), "--quiet"]);
    let took = started.elapsed();
    assert!(output.status.success(), "{}", stderr(&output));
    let after = state(&warehouse);
    assert_ne!(before, after);
    std::fs::write(&warehouse, &saved).unwrap();
    (saved, before, after, took)
}

/// One crash: the load killed as `kill` says, then the checks.
fn crash(project: &Path, saved: &[u8], before: &State, after: &State, kill: &Kill) {
    let warehouse = project.join("warehouse.duckdb");
    let _ = std::fs::remove_file(project.join("warehouse.duckdb.wal"));
    std::fs::write(&warehouse, saved).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_opskpi"));
    command
        .args(["ingest", "--quiet", "--config", &config_arg(project)])
        .env_remove("OPSKPI_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let status = match kill {
        Kill::At(point) => command.env("OPSKPI_FAIL_POINTS", point).status().unwrap(),
        Kill::After(delay) => {
            let mut child = command.spawn().unwrap();
            std::thread::sleep(*delay);
            let _ = child.kill();
            child.wait().unwrap()
        }
    };
    if let Kill::At(point) = kill {
        assert!(!status.success(), "`{point}` did not stop the load");
    }
    // It opens for writing (a recovery, if any) and for reading.
    opskpi::warehouse::Warehouse::open(&warehouse).unwrap_or_else(|e| panic!("{kill:?}: {e}"));
    let now = state(&warehouse);
    assert!(
        &now == before || &now == after,
        "{kill:?}: a state neither before nor after"
    );
    log_agrees(&warehouse);
    // The next load converges: the state after, no row twice.
    let output = opskpi(&["ingest", "--config", &config_arg(project), "--quiet"]);
    assert!(output.status.success(), "{kill:?}: {}", stderr(&output));
    assert_eq!(
        &state(&warehouse),
        after,
        "{kill:?}: the next load did not converge"
    );
    log_agrees(&warehouse);
}

#[derive(Debug)]
enum Kill {
    At(String),
    After(Duration),
}

/// The named steps, on the direct path (clean files) and the staged one (a
/// row set aside), each file's own steps at each of the three changed files,
/// and the checkpoint's steps.
#[test]
fn a_load_killed_at_any_step_leaves_the_state_before_or_after() {
    let mut runs = 0;
    for staged in [false, true] {
        let project = project(staged);
        let (saved, before, after, _) = before_and_after(project.path());
        let mut points: Vec<String> = ["after_begin", "before_commit", "after_commit"]
            .map(|point| format!("{point}=kill"))
            .to_vec();
        // The files the load changes: sales and customers, and surveys
        // when staged.
        let files = if staged { 3 } else { 2 };
        for point in ["after_delete", "after_insert", "after_log"] {
            for nth in 1..=files {
                points.push(format!("{point}#{nth}=kill"));
            }
        }
        if staged {
            for nth in 1..=3 {
                points.push(format!("after_stage#{nth}=kill"));
            }
        }
        for step in opskpi::faults::CHECKPOINT_STEPS {
            points.push(format!("checkpoint=abort:{step}"));
        }
        for point in points {
            crash(project.path(), &saved, &before, &after, &Kill::At(point));
            runs += 1;
        }
    }
    // With the seventy random kills below, over a hundred in all.
    assert!(runs >= 36, "{runs} runs");
}

/// Kills at pseudo-random moments of the load (a fixed sequence), seventy
/// times: whatever DuckDB was doing, the same guarantees.
#[test]
fn a_load_killed_at_random_moments_leaves_the_state_before_or_after() {
    let project = project(true);
    let (saved, before, after, took) = before_and_after(project.path());
    // The kills spread over the time a load takes here (not a bound on it:
    // a kill after the load's end kills nothing, and the checks still hold).
    let span = took.as_millis().max(50) as u64;
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..70 {
        // xorshift64
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = Duration::from_millis(x % span);
        crash(project.path(), &saved, &before, &after, &Kill::After(delay));
    }
}

/// The state without the pipeline's own records (`_opskpi_runs`, its
/// steps), which a run adds whether or not it loads.
fn data_state(warehouse: &Path) -> State {
    state(warehouse)
        .into_iter()
        .filter(|(table, ..)| !table.starts_with("_opskpi_run"))
        .collect()
}

/// The canonical tables alone: the load log names each copy's own paths.
fn canonical(state: &State) -> State {
    state
        .iter()
        .filter(|(table, ..)| !table.starts_with("_opskpi"))
        .cloned()
        .collect()
}

const PIPELINE: &str = r#"config = "../opskpi.toml"
period = "2024-03"
out = "../out"

[[steps]]
step = "ingest"

[[steps]]
step = "kpi"
indicators = ["net_sales", "orders"]
by = ["region"]
file = "kpi-{period}.csv"

[[steps]]
step = "report"
formats = ["html"]
"#;

/// Every file of `dir` by name and bytes (none when it does not exist); a
/// report or manifest by its name and whether it is whole, since each says
/// when the source files were loaded, which differs between two projects.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    outputs_as_written(dir)
        .into_iter()
        .map(|(name, bytes)| {
            let text = String::from_utf8_lossy(&bytes);
            let whole = if name.ends_with(".html") {
                text.trim_end().ends_with("</html>")
            } else if name.ends_with(".json") {
                serde_json::from_slice::<serde_json::Value>(&bytes).is_ok()
            } else {
                return (name, bytes);
            };
            (name, vec![u8::from(whole)])
        })
        .collect()
}

fn outputs_as_written(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn run_pipeline(project: &Path, fail: Option<&str>) -> std::process::ExitStatus {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opskpi"));
    command
        .args(["run", "--as-of", "2024-12-31"])
        .arg(project.join("pipelines/close.toml"))
        .env_remove("OPSKPI_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(point) = fail {
        command.env("OPSKPI_FAIL_POINTS", point);
    }
    command.status().unwrap()
}

/// A pipeline run killed after each step and inside its load: the data is
/// as before or after the load, every output file there is whole (the
/// bytes of an uninterrupted run), the killed run is recorded `abandoned`
/// by the next, and the next run converges on the uninterrupted run's
/// data and files.
#[test]
fn a_pipeline_run_killed_at_any_step_converges_on_the_next_run() {
    let make = || {
        let project = project(false);
        std::fs::create_dir(project.path().join("pipelines")).unwrap();
        std::fs::write(project.path().join("pipelines/close.toml"), PIPELINE).unwrap();
        project
    };
    let reference = make();
    let warehouse = reference.path().join("warehouse.duckdb");
    let before = data_state(&warehouse);
    assert!(run_pipeline(reference.path(), None).success());
    let after = data_state(&warehouse);
    assert_ne!(before, after);
    let files = outputs(&reference.path().join("out"));
    assert_eq!(
        files.len(),
        3,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for point in [
        "after_begin=kill",
        "after_insert#1=kill",
        "before_commit=kill",
        "after_commit=kill",
        "after_step#1=kill",
        "after_step#2=kill",
        "after_step#3=kill",
    ] {
        let project = make();
        let warehouse = project.path().join("warehouse.duckdb");
        let before = data_state(&warehouse);
        let status = run_pipeline(project.path(), Some(point));
        assert!(!status.success(), "`{point}` did not stop the run");
        let now = data_state(&warehouse);
        assert!(
            now == before || canonical(&now) == canonical(&after),
            "{point}: data neither before nor after:\n{now:?}\n{before:?}\n{after:?}"
        );
        log_agrees(&warehouse);
        // What is there is whole: each file as the uninterrupted run wrote it.
        for (name, bytes) in outputs(&project.path().join("out")) {
            let expected = files.iter().find(|(n, _)| *n == name);
            assert!(
                expected.is_some_and(|(_, b)| *b == bytes),
                "{point}: `{name}` is not a file of the uninterrupted run, or differs"
            );
        }
        // The next run: the same data and files, and the killed run abandoned.
        assert!(
            run_pipeline(project.path(), None).success(),
            "{point}: the next run failed"
        );
        assert_eq!(
            canonical(&data_state(&warehouse)),
            canonical(&after),
            "{point}: the data did not converge"
        );
        log_agrees(&warehouse);
        let now = outputs(&project.path().join("out"));
        let differ: Vec<String> = now
            .iter()
            .zip(&files)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| {
                format!(
                    "{}:\n{}\n{}",
                    a.0,
                    String::from_utf8_lossy(&a.1),
                    String::from_utf8_lossy(&b.1)
                )
            })
            .collect();
        assert!(
            now.len() == files.len() && differ.is_empty(),
            "{point}: the files differ from the uninterrupted run's: {differ:?}"
        );
        let conn = read_only(&warehouse);
        let statuses: Vec<String> = conn
            .prepare("SELECT status FROM _opskpi_runs ORDER BY started_at, run_id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        assert_eq!(statuses, ["abandoned", "succeeded"], "{point}");
    }
}
