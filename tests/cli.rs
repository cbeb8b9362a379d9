//! The command line as scripts use it: the JSON contract, CSV, exit codes.

use std::path::Path;
use std::process::Command;

use crate::cmd::*;

#[test]
fn kpi_json_is_the_documented_contract() {
    let project = tiny_project();
    let output = kpi(
        project.path(),
        &[
            "market_share",
            "sales_growth",
            "--period",
            "2024-03",
            "--by",
            "region",
            "--format",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let rows = rows.as_array().unwrap();
    let find = |indicator: &str, region: &str| {
        rows.iter()
            .find(|row| row["indicator"] == indicator && row["region"] == region)
            .unwrap_or_else(|| panic!("{indicator} {region}"))
    };
    let north = find("market_share", "North");
    for key in [
        "indicator",
        "period",
        "region",
        "value",
        "previous",
        "change_vs_previous",
        "last_year",
        "change_vs_last_year",
        "target",
        "status",
    ] {
        assert!(north.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(north["period"], "2024-03");
    // 2000 / 21000 = 0.0952380952380952… → 15 significant digits, as a
    // fraction, not a percentage.
    assert_eq!(north["value"], serde_json::json!(0.0952380952380952));
    // North had no market data in February 2024 (nor any month but March): null, not 0.
    assert!(north["previous"].is_null());
    // North March 2023: 1000 / 10000 = 0.1; change in points
    // 0.0952380952380952… − 0.1 = −0.00476190476190476… (15 significant digits).
    assert_eq!(north["last_year"], serde_json::json!(0.1));
    // Survey-less indicators carry no sample size.
    assert_eq!(north["sample_size"], serde_json::Value::Null);
    assert_eq!(
        north["change_vs_last_year"],
        serde_json::json!(-0.00476190476190476)
    );
    // Target 0.10 with warning from 0.085: 0.095 is a warning.
    assert_eq!(north["status"], "warning");
    // South growth: (180 − 180) / 180 = 0.
    assert_eq!(find("sales_growth", "South")["value"], serde_json::json!(0));
}

#[test]
fn kpi_csv_leaves_not_available_empty() {
    let project = tiny_project();
    let output = kpi(
        project.path(),
        &["net_sales", "--period", "2024-03", "--format", "csv"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let values: Vec<&str> = lines.next().unwrap().split(',').collect();
    let field = |name: &str| values[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(field("value"), "2180");
    // February 2024 had no sales.
    assert_eq!(field("previous"), "");
    assert_eq!(field("last_year"), "1180");
}

#[test]
fn kpi_writes_ndjson_to_a_file() {
    let project = tiny_project();
    let file = project.path().join("kpi.ndjson");
    let output = kpi(
        project.path(),
        &[
            "net_sales",
            "--period",
            "2024-03",
            "--by",
            "region",
            "--format",
            "ndjson",
            "--out",
            &file.display().to_string(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "", "the rows go to the file");
    let text = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // March 2024 by region (tests/fixtures/tiny/sales.csv): North 1,900 +
    // 100 = 2,000; South 270 − 90 = 180.
    assert_eq!(rows.len(), 2);
    let value = |region: &str| {
        rows.iter()
            .find(|row| row["region"] == region)
            .map(|row| row["value"].clone())
            .unwrap()
    };
    assert_eq!(value("North"), serde_json::json!(2000));
    assert_eq!(value("South"), serde_json::json!(180));
}

#[test]
fn unknown_indicator_exits_1_and_lists_the_indicators() {
    let project = tiny_project();
    let config = config_arg(project.path());
    let output = opskpi(&[
        "kpi",
        "market_shar",
        "--period",
        "2024-03",
        "--config",
        &config,
    ]);
    assert_eq!(output.status.code(), Some(1));
    let error = stderr(&output);
    assert!(
        error.contains("unknown indicator `market_shar`")
            && error.contains("hint:")
            && error.contains("market_share"),
        "{error}"
    );
}

#[test]
fn fail_on_bad_exits_3_for_pipelines() {
    let project = tiny_project();
    // April 2024 net sales 1800 against a 3000 target is bad (see indicators.rs).
    let output = kpi(
        project.path(),
        &[
            "net_sales",
            "--period",
            "2024-04",
            "--fail-on",
            "bad",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    // March 2024, 2180 against 2000, is good.
    let output = kpi(
        project.path(),
        &["net_sales", "--period", "2024-03", "--fail-on", "bad"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn report_command_writes_one_html_file() {
    let project = tiny_project();
    let config = config_arg(project.path());
    let out = project.path().join("out");
    let output = opskpi(&[
        "report",
        "monthly",
        "--period",
        "2024-03",
        "--out",
        &out.display().to_string(),
        "--config",
        &config,
        "--as-of",
        "2024-12-31",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().collect::<Vec<_>>(),
        [
            out.join("monthly-2024-03.html").display().to_string(),
            out.join("monthly-2024-03.manifest.json")
                .display()
                .to_string(),
        ]
    );
    assert!(out.join("monthly-2024-03.html").is_file());
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in [
        vec![],
        vec!["demo"],
        vec!["sample"],
        vec!["ingest"],
        vec!["kpi"],
        vec!["report", "monthly"],
        vec!["templates"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let output = opskpi(&args);
        assert!(output.status.success());
        assert!(
            stdout(&output).contains("Example"),
            "{command:?} --help has no example"
        );
    }
}

#[test]
fn a_missing_config_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_arg(dir.path());
    let output = opskpi(&["ingest", "--config", &config]);
    assert_eq!(output.status.code(), Some(1));
    let error = stderr(&output);
    assert!(
        error.contains("opskpi.toml") && error.contains("hint:"),
        "{error}"
    );
}

#[test]
fn demo_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (project, reports) = (dir.path().join("demo"), dir.path().join("reports"));
    let output = opskpi(&[
        "demo",
        "--scale",
        "0.02",
        "--dir",
        &project.display().to_string(),
        "--out",
        &reports.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = reports.join("monthly-2026-10.html");
    // HTML, PDF and manifest, in English and in Traditional Chinese.
    let written: Vec<String> = [
        "monthly-2026-10.html",
        "monthly-2026-10.pdf",
        "monthly-2026-10.manifest.json",
        "monthly-2026-10.zh-Hant.html",
        "monthly-2026-10.zh-Hant.pdf",
        "monthly-2026-10.zh-Hant.manifest.json",
    ]
    .iter()
    .map(|name| reports.join(name).display().to_string())
    .collect();
    assert_eq!(stdout(&output).lines().collect::<Vec<_>>(), written);
    assert!(std::fs::read(reports.join("monthly-2026-10.zh-Hant.pdf"))
        .unwrap()
        .starts_with(b"%PDF-"));
    let html = std::fs::read_to_string(&report).unwrap();
    // The demo's as-of date is the sample's last day: October 2026 is complete.
    assert!(html.contains("as of 2026-10-31") && !html.contains("partial period"));
    // It leaves a project the other commands can use.
    let config = project.join("data/opskpi.toml").display().to_string();
    let output = opskpi(&[
        "kpi",
        "net_sales",
        "--period",
        "2026-10",
        "--config",
        &config,
        "--format",
        "csv",
        "--as-of",
        "2026-10-31",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn whole_numbers_are_json_integers() {
    let project = tiny_project();
    let output = kpi(
        project.path(),
        &[
            "csat",
            "net_sales",
            "--period",
            "2024-03",
            "--format",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    // March 2024: 3 CSAT answers; net sales 2180 (see indicators.rs).
    assert!(text.contains("\"sample_size\": 3,"), "{text}");
    assert!(text.contains("\"value\": 2180,"), "{text}");
    // 2 of 3 satisfied, to 15 significant digits.
    assert!(text.contains("\"value\": 0.666666666666667,"), "{text}");
}

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
fn sql_answers_with_every_digit() {
    let project = tiny_project();
    // tests/fixtures/tiny/sales.csv: O1 line 1 is 1000.00, O3 line 101 a
    // return of -90.00 (money is stored with 4 decimals).
    let query = "select order_id, line_no, net_amount from sales where order_id in ('O1', 'O3') order by 1, 2";
    let output = sql(project.path(), query, &["--format", "csv"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "order_id,line_no,net_amount\nO1,1,1000.0000\nO3,1,90.0000\nO3,101,-90.0000\n"
    );
    let output = sql(project.path(), query, &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json[2]["net_amount"].to_string(), "-90.0");
    assert!(
        stdout(&output).contains("\"net_amount\": -90.0000"),
        "{}",
        stdout(&output)
    );
    assert_eq!(json[0]["order_id"], "O1");
    // An empty answer keeps its columns.
    let output = sql(
        project.path(),
        "select order_id, net_amount from sales where false",
        &["--format", "csv"],
    );
    assert_eq!(stdout(&output), "order_id,net_amount\n");
    // NDJSON: one object per line, the same values.
    let output = sql(project.path(), query, &["--format", "ndjson"]);
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["line_no"], 101);
    assert!(
        stdout(&output).ends_with("\"net_amount\": -90.0000}\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn sql_only_reads() {
    let project = tiny_project();
    let dir = project.path().display().to_string();
    let refused = [
        "insert into sales select * from sales".to_string(),
        "delete from sales".into(),
        "create table x as select 1".into(),
        "drop table sales".into(),
        "with x as (select 1) insert into sales select * from sales".into(),
        "select 1; drop table sales".into(),
        format!("copy sales to '{dir}/leak.csv'"),
        format!("attach '{dir}/other.duckdb' as other"),
        "install httpfs".into(),
        "load httpfs".into(),
        "pragma enable_external_access".into(),
        "set enable_external_access = true".into(),
        format!("select * from read_csv('{dir}/sales.csv')"),
        format!("select * from '{dir}/sales.csv'"),
    ];
    let count = || {
        let output = sql(
            project.path(),
            "select count(*) as n from sales",
            &["--format", "csv"],
        );
        stdout(&output)
    };
    let before = count();
    assert!(before.starts_with("n\n") && before != "n\n0\n", "{before}");
    for query in &refused {
        let output = sql(project.path(), query, &[]);
        assert!(!output.status.success(), "`{query}` was not refused");
        assert!(
            stderr(&output).contains("the query failed"),
            "{query}: {}",
            stderr(&output)
        );
    }
    // Nothing changed and nothing was written.
    assert_eq!(count(), before);
    assert!(!project.path().join("leak.csv").exists());
    assert!(!project.path().join("other.duckdb").exists());
    // A refused write says why.
    let output = sql(project.path(), "delete from sales", &[]);
    assert!(
        stderr(&output).contains("only reads"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn sql_errors_point_at_the_query_and_tables_are_cut_only_on_the_terminal() {
    let project = tiny_project();
    let output = sql(project.path(), "select order_id,\n  nope\nfrom sales", &[]);
    let error = stderr(&output);
    assert!(error.contains("\"nope\" not found"), "{error}");
    assert!(error.contains("LINE 2:"), "the user's line 2: {error}");
    // A table shows the first 100 rows and says so; CSV, JSON and files get all.
    let output = sql(project.path(), "select range as n from range(250)", &[]);
    let text = stdout(&output);
    assert!(text.contains("(100 of 250 rows shown"), "{text}");
    assert!(text.contains(" 99 ") && !text.contains(" 100 "));
    let output = sql(
        project.path(),
        "select range as n from range(250)",
        &["--format", "csv"],
    );
    assert_eq!(stdout(&output).lines().count(), 251);
    let file = project.path().join("all.csv");
    let output = sql(
        project.path(),
        "select range as n from range(250)",
        &["--format", "csv", "--out", &file.display().to_string()],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 251);
    let output = sql(
        project.path(),
        "select range as n from range(250)",
        &["--limit", "0"],
    );
    assert!(stdout(&output).contains(" 249 ") && !stdout(&output).contains("rows shown"));
}

/// Parses CSV text into rows of fields.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn saved_queries_answer_with_hand_worked_numbers() {
    let project = tiny_project();
    let config = config_arg(project.path());
    let run = |args: &[&str]| {
        let mut all = vec!["query"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--config", &config, "--format", "csv"]);
        let output = opskpi(&all);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        csv_rows(&stdout(&output))
    };
    // March 2024 (tests/fixtures/tiny/sales.csv): North sold O4 = 1,900 +
    // 100 = 2,000 (March 2023: O1, 1,000); South O5 = 270 − 90 = 180
    // (March 2023: O2, 180). Total 2,180.
    let regions = run(&["region_ranking", "--param", "period=2024-03"]);
    let number = |text: &str| text.parse::<f64>().unwrap();
    assert_eq!(regions.len(), 2);
    assert_eq!(&regions[0][..3], ["1", "North", "2000.0000"]);
    assert!(
        (number(&regions[0][3]) - 0.9174).abs() < 1e-9,
        "share {}",
        regions[0][3]
    );
    assert_eq!(
        (regions[0][4].as_str(), regions[0][5].as_str()),
        ("1", "1000.0000")
    );
    assert!(
        (number(&regions[0][6]) - 1.0).abs() < 1e-9,
        "growth {}",
        regions[0][6]
    );
    assert_eq!(&regions[1][..3], ["2", "South", "180.0000"]);
    assert!(
        number(&regions[1][6]).abs() < 1e-9,
        "no growth: {}",
        regions[1][6]
    );
    // Products: P1 1,900 (2 units, margin 700 → 0.3684), P2 100 + 270 − 90
    // = 280 (3 units, margin 160 → 0.5714); n = 1 keeps the first.
    let top = run(&["top_products", "--param", "period=2024-03"]);
    assert_eq!(
        &top[0][..5],
        ["P1", "Oslo 3-seat sofa", "sofas", "1900.0000", "2"]
    );
    assert_eq!(
        &top[1][..5],
        ["P2", "Luna table lamp", "lighting", "280.0000", "3"]
    );
    assert!((number(&top[1][5]) - 0.5714).abs() < 1e-9);
    let first = run(&[
        "top_products",
        "--param",
        "period=2024-03",
        "--param",
        "n=1",
    ]);
    assert_eq!(first.len(), 1);
}

#[test]
fn a_projects_own_queries_bind_values_as_parameters() {
    let project = tiny_project();
    let folder = project.path().join("my-queries");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(
        folder.join("lines_in_region.sql"),
        "-- description: Order lines of one region.\n-- param region: text   The region.\nselect count(*) as n from sales where region = $region\n",
    )
    .unwrap();
    let path = project.path().join("opskpi.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("{text}\n[queries]\nfolder = \"my-queries\"\n"),
    )
    .unwrap();
    let config = config_arg(project.path());
    let count = |region: &str| {
        let param = format!("region={region}");
        let output = opskpi(&[
            "query",
            "lines_in_region",
            "--param",
            &param,
            "--config",
            &config,
            "--format",
            "csv",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    // North: O1, O4 (two lines), O7, O8, O9.
    assert_eq!(count("North"), "n\n6\n");
    // A value is a value, never SQL.
    assert_eq!(count("North' OR '1'='1"), "n\n0\n");
    let list = stdout(&opskpi(&["query", "--list", "--config", &config]));
    assert!(
        list.contains("lines_in_region") && list.contains("Order lines of one region."),
        "{list}"
    );
    assert!(list.contains("top_products"), "built-ins stay listed");
    // A mistake in a declaration names the file and line.
    std::fs::write(
        folder.join("broken.sql"),
        "-- description: x\n-- param when: moment\nselect 1\n",
    )
    .unwrap();
    let output = opskpi(&["query", "--list", "--config", &config]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("broken.sql line 2") && stderr(&output).contains("`moment`"),
        "{}",
        stderr(&output)
    );
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
    assert!(error.contains("lacks the tables _opskpi_files"), "{error}");
    assert!(error.contains("run `opskpi ingest` once"), "{error}");
    // A load brings it up to date, and the reader works again.
    let config = config_arg(project.path());
    let output = opskpi(&["ingest", "--config", &config, "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(kpi(project.path(), &["net_sales", "--period", "2024-03"])
        .status
        .success());
}

/// The command line's surface as a user meets it: every command's help and
/// a terminal table. A change shows up in review as a snapshot diff.
#[test]
fn cli_snapshots() {
    let help = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_opskpi"))
            .args(args)
            .env_remove("OPSKPI_CONFIG")
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
        stdout(&output)
    };
    for command in [
        "", "ingest", "check", "kpi", "explain", "sql", "query", "run", "runs",
    ] {
        let mut args: Vec<&str> = command.split_whitespace().collect();
        args.push("--help");
        let name = format!(
            "help_{}",
            if command.is_empty() {
                "opskpi"
            } else {
                command
            }
        );
        insta::assert_snapshot!(name, help(&args));
    }
    // The tiny company's March 2024, by hand from tests/fixtures/tiny: net
    // sales North 2,000 (1900 + 100) against 1,000, South 180 (270 − 90)
    // against 180; market share North 2000 / 21000 = 9.5 %.
    let project = tiny_project();
    let output = kpi(
        project.path(),
        &[
            "net_sales",
            "market_share",
            "--period",
            "2024-03",
            "--by",
            "region",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!("kpi_table_tiny_2024_03_by_region", stdout(&output));
}

#[test]
fn a_projects_own_indicators_work_everywhere_and_mistakes_name_file_and_line() {
    let project = tiny_project();
    let dir = project.path();
    let config = config_arg(dir);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[indicators]\nfile = \"my-indicators.toml\"\n"),
    )
    .unwrap();
    let catalogue = "# The project's own indicators.\n\n\
        [[indicator]]\nid = \"average_line_value\"\nlabel = \"Average line value\"\nunit = \"money\"\n\
        direction = \"higher\"\nquery = \"sales\"\nformula = \"net_amount / lines\"\n\
        definition = \"Net sales per order line, returns included.\"\ntarget = 500\nwarning = 400\n\n\
        [[indicator]]\nid = \"average_line_value_growth\"\nlabel = \"Average line value growth\"\nunit = \"ratio\"\n\
        direction = \"higher\"\ngrowth_of = \"average_line_value\"\ncompare = \"last_year\"\n\
        definition = \"Average line value against last year.\"\ntarget = 0\nwarning = -0.05\n";
    std::fs::write(dir.join("my-indicators.toml"), catalogue).unwrap();
    let output = kpi(
        dir,
        &[
            "average_line_value",
            "average_line_value_growth",
            "--period",
            "2024-03",
            "--format",
            "csv",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // March 2024: 2180 over O4's two lines and O5's two (its return is a
    // line) = 545; March 2023: (1000 + 180) / 2 = 590; growth 545/590 − 1
    // = −45/590 = −0.0762711864406779…, to 15 significant digits
    // −0.0762711864406780, written without its trailing zero.
    let text = stdout(&output);
    assert!(text.contains("average_line_value,Average line value,money,relative,2024-03,false,545,,,590,-0.076271186440678,500,good"), "{text}");
    assert!(text.contains("average_line_value_growth,Average line value growth,ratio,difference,2024-03,false,-0.076271186440678"), "{text}");
    // Listed, explained, and in SQL.
    let list = stdout(&opskpi(&["kpi", "--list", "--config", &config]));
    assert!(
        list.contains("average_line_value") && list.contains("net_amount / lines"),
        "{list}"
    );
    let explained = stdout(&opskpi(&[
        "explain",
        "average_line_value",
        "--config",
        &config,
    ]));
    assert!(
        explained.contains("formula:     net_amount / lines   [sales]"),
        "{explained}"
    );
    assert!(explained.contains("count(*) AS lines"), "{explained}");
    // A component the formula reads twice is asked for once.
    let explained = stdout(&opskpi(&["explain", "sell_through", "--config", &config]));
    assert!(
        explained.contains("components:  units_sold, closing_units of query `inventory`"),
        "{explained}"
    );
    let output = sql(
        dir,
        "select value from kpi('average_line_value', '2024-03')",
        &["--format", "csv", "--as-of", "2024-12-31"],
    );
    assert_eq!(
        stdout(&output),
        "value\n545.000000000000000000\n",
        "{}",
        stderr(&output)
    );

    // A mistake: the file, the line of the indicator, what is wrong, a hint.
    std::fs::write(
        dir.join("my-indicators.toml"),
        catalogue.replace("net_amount / lines", "net_amout / lines"),
    )
    .unwrap();
    let output = kpi(dir, &["net_sales", "--period", "2024-03"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("my-indicators.toml` line 4: indicator `average_line_value`: `net_amout` is not a component of query `sales`"), "{message}");
    assert!(
        message.contains(
            "hint: a formula reads the components of one query, built in or the file's own"
        ),
        "{message}"
    );
    // A built-in id cannot be taken.
    std::fs::write(
        dir.join("my-indicators.toml"),
        catalogue.replace("id = \"average_line_value\"\n", "id = \"net_sales\"\n"),
    )
    .unwrap();
    let message = stderr(&kpi(dir, &["net_sales", "--period", "2024-03"]));
    assert!(
        message.contains("line 4: indicator `net_sales` exists already"),
        "{message}"
    );
    // TOML itself: its line.
    std::fs::write(
        dir.join("my-indicators.toml"),
        "[[indicator]]\nid = \"x\"\nlabel = 3\n",
    )
    .unwrap();
    let message = stderr(&kpi(dir, &["net_sales", "--period", "2024-03"]));
    assert!(
        message.contains("my-indicators.toml`: TOML parse error at line 3"),
        "{message}"
    );
}

#[test]
fn a_forecast_with_a_gap_in_its_history_says_so() {
    // The tiny company sold in March and April 2023, then not until March
    // 2024: its history from March 2023 has no May 2023.
    let project = tiny_project();
    let config = config_arg(project.path());
    let output = opskpi(&[
        "forecast",
        "--period",
        "2024-04",
        "--config",
        &config,
        "--as-of",
        "2024-12-31",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("company: no forecast — no data for 2023-05, inside the history"),
        "{}",
        stdout(&output)
    );
    let output = opskpi(&["forecast", "--period", "2024-Q1", "--config", &config]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is not a month"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_project_adds_its_own_component_query_in_sql() {
    let project = tiny_project();
    let dir = project.path();
    let config = config_arg(dir);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[indicators]\nfile = \"my/indicators.toml\"\n"),
    )
    .unwrap();
    std::fs::create_dir(dir.join("my")).unwrap();
    // The query's file is relative to the catalogue file.
    std::fs::write(
        dir.join("my/returned_lines.sql"),
        "-- Order lines and returned lines per window.\n\
         {% set components = {\"returned_lines\": \"count(*) FILTER (WHERE s.quantity < 0)\", \"lines\": \"count(*)\"} %}\n\
         SELECT w.window_id{% for dim in dims %}, s.{{ dim }}{% endfor %}\n\
         {%- for name in wanted %}, {{ components[name] }} AS {{ name }}{% endfor %}\n\
         FROM _opskpi_spine w JOIN sales s ON s.order_date = w.day\n\
         GROUP BY ALL\n",
    )
    .unwrap();
    let catalogue = "[queries.line_returns]\ndescription = \"order lines and returned lines\"\n\
        dimensions = [\"region\"]\ncomponents = [\"returned_lines\", \"lines\"]\nfile = \"returned_lines.sql\"\n\n\
        [[indicator]]\nid = \"returned_line_share\"\nlabel = \"Returned lines\"\nunit = \"ratio\"\n\
        direction = \"lower\"\nquery = \"line_returns\"\nformula = \"returned_lines / lines\"\n\
        definition = \"Returned lines ÷ all order lines.\"\ntarget = 0.1\nwarning = 0.2\n";
    std::fs::write(dir.join("my/indicators.toml"), catalogue).unwrap();
    // March 2024: O4/1, O4/2, O5/1 and O5's return: 1 of 4. North: O4's two
    // lines, none returned; South: O5 and its return, 1 of 2.
    let output = kpi(
        dir,
        &[
            "returned_line_share",
            "--period",
            "2024-03",
            "--by",
            "region",
            "--format",
            "csv",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains(",North,0,"), "{text}");
    assert!(text.contains(",South,0.5,"), "{text}");
    let total = stdout(&kpi(
        dir,
        &[
            "returned_line_share",
            "--period",
            "2024-03",
            "--format",
            "csv",
        ],
    ));
    assert!(total.contains("2024-03,false,0.25,"), "{total}");
    // explain shows the project's SQL.
    let explained = stdout(&opskpi(&[
        "explain",
        "returned_line_share",
        "--config",
        &config,
    ]));
    assert!(
        explained.contains("count(*) FILTER (WHERE s.quantity < 0) AS returned_lines"),
        "{explained}"
    );
    // A template mistake names the file and line, before anything runs.
    std::fs::write(
        dir.join("my/returned_lines.sql"),
        "SELECT 1\n{% for x in %}\n",
    )
    .unwrap();
    let message = stderr(&kpi(dir, &["net_sales", "--period", "2024-03"]));
    assert!(message.contains("returned_lines.sql"), "{message}");
    assert!(message.contains("line 2"), "{message}");
    // A built-in query name is refused with the catalogue's line.
    std::fs::write(
        dir.join("my/indicators.toml"),
        "[queries.sales]\ndescription = \"x\"\ncomponents = [\"a\"]\nfile = \"returned_lines.sql\"\n",
    )
    .unwrap();
    let message = stderr(&kpi(dir, &["net_sales", "--period", "2024-03"]));
    assert!(
        message.contains("indicators.toml` line 1: query `sales` exists already"),
        "{message}"
    );
}
