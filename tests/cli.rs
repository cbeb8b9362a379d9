//! The command line as scripts use it: the kpi contract
//! (docs/kpi-contract.md), CSV and NDJSON, exit codes, help, the demo, the
//! forecast, and the command line's snapshots.

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
