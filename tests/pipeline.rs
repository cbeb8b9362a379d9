//! `opskpi run` and `opskpi runs` on the tiny company, whose numbers are
//! worked out by hand (tests/indicators.rs): a run twice, a killed run, a
//! failed step, alerts, and eight readers beside a writer.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::cmd::*;
use crate::common::*;

/// The tiny company's files and a pipeline file for March 2024.
fn project_with_pipeline(steps: &str) -> tempfile::TempDir {
    let dir = copy_fixture("tiny", "");
    std::fs::create_dir(dir.path().join("pipelines")).unwrap();
    std::fs::write(
        dir.path().join("pipelines").join("close.toml"),
        format!("config = \"../opskpi.toml\"\nperiod = \"2024-03\"\nout = \"../out/{{period}}\"\n\n{steps}"),
    )
    .unwrap();
    dir
}

const STEPS: &str = r#"
[[steps]]
step = "ingest"

[[steps]]
step = "kpi"
indicators = ["net_sales", "market_share"]
by = ["region"]
file = "kpi-{period}.parquet"

[[steps]]
step = "report"
formats = ["html", "pdf"]
languages = ["en", "zh-Hant"]

[[steps]]
step = "export"
query = "top_products"
params = { n = 3 }
file = "top-{period}.xlsx"

[[steps]]
step = "alert"

[[steps.rules]]
name = "at the boundary"
indicator = "net_sales"
below = 2180

[[steps.rules]]
indicator = "net_sales"
at_most = 2180

[[steps.rules]]
indicator = "market_share"
where = { region = "North" }
status = "warning"

[[steps.rules]]
indicator = "net_sales"
where = { region = "East" }
below = 1000000
"#;

fn run(project: &Path, extra: &[&str]) -> std::process::Output {
    let pipeline = project.join("pipelines").join("close.toml");
    let mut args = vec!["run", pipeline.to_str().unwrap(), "--as-of", "2024-12-31"];
    args.extend_from_slice(extra);
    opskpi(&args)
}

fn one_i64(project: &Path, sql: &str) -> i64 {
    let conn = duckdb::Connection::open_with_flags(
        project.join("warehouse.duckdb"),
        duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .unwrap(),
    )
    .unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

/// Every file under `dir`, by name, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_pipeline_run_twice_writes_the_same_files_and_loads_once() {
    let project = project_with_pipeline(STEPS);
    let dir = project.path();
    let first = run(dir, &[]);
    // The tiny company's March 2024 net sales are 2,180 (tests/indicators.rs):
    // `at_most 2180` fires, so the run exits 3 (an alert), after every step.
    assert_eq!(first.status.code(), Some(3), "{}", stderr(&first));
    let out = dir.join("out").join("2024-03");
    let written = files(&out);
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "alerts-2024-03.json",
            "kpi-2024-03.parquet",
            "monthly-2024-03.html",
            "monthly-2024-03.manifest.json",
            "monthly-2024-03.pdf",
            "monthly-2024-03.zh-Hant.html",
            "monthly-2024-03.zh-Hant.manifest.json",
            "monthly-2024-03.zh-Hant.pdf",
            "top-2024-03.xlsx",
        ]
    );
    // stdout lists the files, one per line.
    assert_eq!(stdout(&first).lines().count(), 9, "{}", stdout(&first));
    let loads = one_i64(dir, "SELECT count(*) FROM _opskpi_loads");
    let rows = one_i64(dir, "SELECT count(*) FROM sales");
    assert_eq!(rows, 12, "tests/fixtures/tiny/sales.csv has 12 lines");

    let second = run(dir, &[]);
    assert_eq!(second.status.code(), Some(3), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("0 loaded (0 rows, 0 set aside), 9 unchanged"),
        "{}",
        stderr(&second)
    );
    assert!(
        files(&out) == written,
        "the second run wrote different bytes"
    );
    assert_eq!(one_i64(dir, "SELECT count(*) FROM _opskpi_loads"), loads);
    assert_eq!(one_i64(dir, "SELECT count(*) FROM sales"), 12);

    // Both runs recorded, with their five steps each.
    let runs = opskpi(&["runs", "--config", &config_arg(dir), "--format", "csv"]);
    assert!(runs.status.success(), "{}", stderr(&runs));
    let table = stdout(&runs);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with(
        "run_id,pipeline,period,as_of,started_at,seconds,status,exit_code,steps,error"
    ));
    assert!(
        lines[1].starts_with("2,close,2024-03,2024-12-31,"),
        "{table}"
    );
    assert!(lines[1].ends_with(",alerted,3,5,"), "{table}");
    assert!(
        lines[2].starts_with("1,close,2024-03,2024-12-31,"),
        "{table}"
    );
    let steps = opskpi(&[
        "runs",
        "--run",
        "1",
        "--config",
        &config_arg(dir),
        "--format",
        "json",
    ]);
    let steps: serde_json::Value = serde_json::from_str(&stdout(&steps)).unwrap();
    let kinds: Vec<&str> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ingest", "kpi", "report", "export", "alert"]);
}

#[test]
fn alerts_state_their_outcome_and_no_data_is_not_zero() {
    let project = project_with_pipeline(STEPS);
    let output = run(project.path(), &["--log-format", "json"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let text =
        std::fs::read_to_string(project.path().join("out/2024-03/alerts-2024-03.json")).unwrap();
    let alerts: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(alerts["period"], "2024-03");
    assert_eq!(alerts["fired"], 2);
    let outcome = |i: usize| alerts["alerts"][i]["outcome"].as_str().unwrap().to_string();
    // 2,180 is not below 2,180 (strict) …
    assert_eq!(outcome(0), "clear");
    assert_eq!(alerts["alerts"][0]["observed"], "2180");
    // … but is at most 2,180 (inclusive).
    assert_eq!(outcome(1), "fired");
    // North's market share 2000 / 21000 = 9.5 % against a target of 10 %
    // with warning from 8.5 %: warning.
    assert_eq!(outcome(2), "fired");
    assert_eq!(alerts["alerts"][2]["observed"], "warning");
    // The tiny company sells nothing in the East: no data, not a fired `below`.
    assert_eq!(outcome(3), "no_data");
    assert_eq!(alerts["alerts"][3]["fires"], false);
    assert!(alerts["alerts"][3]["observed"].is_null());
    // The log: JSON lines, each with the run's keys; the fired alerts among them.
    let lines: Vec<serde_json::Value> = stderr(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(lines
        .iter()
        .all(|l| l["pipeline"] == "close" && l["period"] == "2024-03" && l["time"].is_string()));
    let fired: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "alert")
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(fired.len(), 2, "{fired:?}");
    assert!(
        fired[0].starts_with("ALERT net_sales 2024-03: "),
        "{fired:?}"
    );
    let last = lines.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["exit_code"].as_i64()),
        (Some("run_finished"), Some(3))
    );
}

#[test]
fn a_failed_step_stops_the_run_and_a_fixed_rerun_completes() {
    let broken = STEPS.replace("kpi-{period}.parquet", "kpi-{period}.txt");
    let project = project_with_pipeline(&broken);
    let dir = project.path();
    let output = run(dir, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error: step 2: cannot tell the format of"),
        "{}",
        stderr(&output)
    );
    // Nothing after step 2 ran.
    assert!(!dir.join("out/2024-03/monthly-2024-03.html").exists());
    let runs = opskpi(&["runs", "--config", &config_arg(dir), "--format", "csv"]);
    let listed = stdout(&runs);
    assert!(
        listed.contains("\n1,close,2024-03,2024-12-31,")
            && listed.contains(",failed,1,2,\"step 2: cannot tell the format"),
        "{listed}"
    );
    std::fs::write(
        dir.join("pipelines/close.toml"),
        std::fs::read_to_string(dir.join("pipelines/close.toml"))
            .unwrap()
            .replace(".txt", ".csv"),
    )
    .unwrap();
    let output = run(dir, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(one_i64(dir, "SELECT count(*) FROM sales"), 12);
}

#[test]
fn a_mistake_in_any_step_is_found_before_the_first_runs() {
    let broken = STEPS.replace(
        "where = { region = \"North\" }",
        "where = { shelf = \"X\" }",
    );
    let project = project_with_pipeline(&broken);
    let output = run(project.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("close.toml`, step 5 (alert): unknown dimension `shelf`"),
        "{message}"
    );
    // Nothing ran: no warehouse, no outputs.
    assert!(!project.path().join("warehouse.duckdb").exists());
    assert!(!project.path().join("out").exists());
    // An unknown key is refused with the line of its step.
    let project = project_with_pipeline("[[steps]]\nstep = \"ingest\"\nfull = true\nfast = true\n");
    let message = stderr(&run(project.path(), &[]));
    assert!(message.contains("line 5"), "{message}");
    assert!(message.contains("unknown field `fast`"), "{message}");
}

#[test]
fn a_killed_run_leaves_the_warehouse_whole_and_the_next_run_completes() {
    let project = project_with_pipeline(STEPS);
    let dir = project.path();
    let pipeline = dir.join("pipelines").join("close.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_opskpi"))
        .args(["run", pipeline.to_str().unwrap(), "--as-of", "2024-12-31"])
        .env_remove("OPSKPI_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed as the load begins (wherever it has got to, the warehouse holds
    // a committed state: the load's one transaction, or nothing).
    let stderr_pipe = child.stderr.take().unwrap();
    for line in std::io::BufReader::new(stderr_pipe).lines() {
        if line.unwrap().contains("step 1/5 ingest") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let output = run(dir, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(one_i64(dir, "SELECT count(*) FROM sales"), 12);
    assert_eq!(
        one_i64(dir, "SELECT count(*) FROM (SELECT order_id, line_no FROM sales GROUP BY ALL HAVING count(*) > 1)"),
        0
    );
    // One record per source file of the tiny company (nine).
    assert_eq!(one_i64(dir, "SELECT count(*) FROM _opskpi_files"), 9);
    // The killed run is on record as abandoned, the next as alerted.
    assert_eq!(
        one_i64(
            dir,
            "SELECT count(*) FROM _opskpi_runs WHERE run_id = 1 AND status = 'abandoned'"
        ),
        1
    );
    assert_eq!(
        one_i64(
            dir,
            "SELECT count(*) FROM _opskpi_runs WHERE run_id = 2 AND status = 'alerted'"
        ),
        1
    );
}

#[test]
fn eight_readers_and_a_writer_at_once_see_whole_loads() {
    let project = tiny_project();
    let dir = project.path();
    let config = config_arg(dir);
    set_wait(dir, 120);
    // Before: the tiny company's 12 lines, 5,160.00 net (1000 + 180 + 90 −
    // 90 + 1900 + 100 + 270 − 90 + 200 + 500 + 1000 + 100). The writer adds
    // two lines of 100.00.
    let before = "12,5160.0000\n";
    let after = "14,5360.0000\n";
    let sales = dir.join("sales.csv");
    let mut csv = std::fs::read_to_string(&sales).unwrap();
    csv.push_str("O90,1,2024-03-20,C1,P1,S1,store,North,,1,100.00,60.00\nO90,2,2024-03-20,C1,P1,S1,store,North,,1,100.00,60.00\n");
    std::fs::write(&sales, csv).unwrap();
    let spawn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_opskpi"))
            .args(args)
            .args(["--config", &config, "--quiet"])
            .env_remove("OPSKPI_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let query = "select count(*) as n, sum(net_amount) as total from sales";
    let mut readers: Vec<std::process::Child> = (0..4)
        .map(|_| spawn(&["sql", query, "--format", "csv"]))
        .collect();
    let writer = spawn(&["ingest"]);
    readers.extend((0..4).map(|_| spawn(&["sql", query, "--format", "csv"])));
    let written = writer.wait_with_output().unwrap();
    assert!(written.status.success(), "{}", stderr(&written));
    for reader in readers {
        let output = reader.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let answer = stdout(&output);
        let body = answer.strip_prefix("n,total\n").unwrap();
        assert!(body == before || body == after, "a torn read: {answer}");
    }
    let output = sql(dir, query, &["--format", "csv"]);
    assert_eq!(stdout(&output), format!("n,total\n{after}"));
}

#[test]
fn a_pipeline_writes_the_assessment_of_its_period() {
    let project = project_with_pipeline(
        "[[steps]]\nstep = \"ingest\"\n\n[[steps]]\nstep = \"report\"\nreport = \"assessment\"\nformats = [\"html\"]\n",
    );
    let file = project.path().join("pipelines/close.toml");
    let output = opskpi(&["run", file.to_str().unwrap(), "--as-of", "2024-12-31"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // The tiny company has no employees: the department's line is all there is.
    let html = std::fs::read_to_string(project.path().join("out/2024-03/assessment-2024-03.html"))
        .unwrap();
    assert!(html.contains("Employee assessment March 2024"), "{html}");
    assert!(html.contains("The department"));
}
