//! The data team's SQL door: `opskpi sql` answers with every digit and
//! only reads; saved queries bind typed parameters.

use crate::cmd::*;

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
        // DuckDB's refusal, or the door's own for a second statement.
        assert!(
            stderr(&output).contains("the query failed")
                || stderr(&output).contains("more than one statement"),
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
