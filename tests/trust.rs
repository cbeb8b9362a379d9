//! Regression tests of the defects found by reading the code for trust at
//! the edges: each failed before its fix (the name says the bug it pins).

use std::path::Path;

use crate::cmd::{config_arg, kpi, opskpi, stderr, stdout, tiny_project};
use crate::common::*;

/// The tiny project with `lines` appended to its sales file, loaded.
fn tiny_with_sales(lines: &str) -> tempfile::TempDir {
    let dir = copy_fixture("tiny", "");
    append(&dir.path().join("sales.csv"), lines);
    let output = opskpi(&["ingest", "--config", &config_arg(dir.path()), "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

fn append(path: &Path, text: &str) {
    let mut all = std::fs::read_to_string(path).unwrap();
    all.push_str(text);
    std::fs::write(path, all).unwrap();
}

fn sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

/// `kpi --format json` sent money through a double: 9876543212180.1234
/// came out as 9876543212180.123.
#[test]
fn kpi_json_keeps_every_digit_of_money() {
    // 2024-03: the tiny company's 2180 plus one line of 9876543210000.1234.
    let project =
        tiny_with_sales("O90,1,2024-03-20,C1,P1,S1,store,North,E1,1,9876543210000.1234,1.0000\n");
    for format in ["json", "ndjson"] {
        let output = kpi(
            project.path(),
            &["net_sales", "--period", "2024-03", "--format", format],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(
            text.contains("\"value\":") && text.contains("9876543212180.1234,"),
            "{text}"
        );
    }
}

/// A project catalogue with indicators whose values outgrow exact decimals.
fn huge_indicators(dir: &Path) {
    std::fs::write(
        dir.join("huge.toml"),
        r#"
[[indicator]]
id = "net_squared"
label = "Net squared"
unit = "count"
direction = "higher"
query = "sales"
formula = "net_amount * net_amount"
definition = "Net sales squared: 2e12² = 4e24, more than the typed outputs' 20 whole digits."

[[indicator]]
id = "net_cubed"
label = "Net cubed"
unit = "count"
direction = "higher"
query = "sales"
formula = "net_amount * net_amount * net_amount"
definition = "Net sales cubed: 8e36, more than exact decimals' 28 digits."
"#,
    )
    .unwrap();
    append(
        &dir.join("opskpi.toml"),
        "\n[indicators]\nfile = \"huge.toml\"\n",
    );
}

/// A value past Decimal(38, 18) wrapped around in Parquet and Excel, and a
/// formula beyond 28 digits came out as n/a without a word.
#[test]
fn an_overflow_is_an_error_naming_the_indicator_never_a_wrapped_number_or_n_a() {
    let project =
        tiny_with_sales("O90,1,2024-03-20,C1,P1,S1,store,North,E1,1,1999999997820.0000,1.0000\n");
    huge_indicators(project.path());
    // 2024-03's net sales: 2180 + 1999999997820 = 2e12 exactly.
    let output = kpi(
        project.path(),
        &["net_squared", "--period", "2024-03", "--format", "csv"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(",4000000000000000000000000,"),
        "{}",
        stdout(&output)
    );
    let parquet = project.path().join("squared.parquet");
    let output = kpi(
        project.path(),
        &[
            "net_squared",
            "--period",
            "2024-03",
            "--out",
            parquet.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(
        error.contains("`net_squared`") && error.contains("4000000000000000000000000"),
        "{error}"
    );
    assert!(!parquet.exists());
    let output = kpi(
        project.path(),
        &["net_cubed", "--period", "2024-03", "--format", "csv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(
        error.contains("`net_cubed` for 2024-03") && error.contains("beyond the 28 digits"),
        "{error}"
    );
}

/// A component too large for Decimal(38, 10) became NULL — n/a — by Arrow's
/// safe cast.
#[test]
fn a_component_beyond_exact_decimals_is_an_error_not_n_a() {
    let project = tiny_project();
    let dir = project.path();
    std::fs::write(
        dir.join("big.sql"),
        "SELECT w.window_id{% for dim in dims %}, s.{{ dim }}{% endfor %},\n\
         CAST(sum(s.net_amount) * 100000000000000000000000000 AS DECIMAL(38,0)) AS huge\n\
         FROM _opskpi_spine w JOIN sales s ON s.order_date = w.day GROUP BY ALL\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("big.toml"),
        r#"
[queries.big]
description = "net sales times 10^26"
dimensions = ["region"]
components = ["huge"]
file = "big.sql"

[[indicator]]
id = "huge_sales"
label = "Huge sales"
unit = "count"
direction = "higher"
query = "big"
formula = "huge"
definition = "Net sales × 10^26: 2180 × 10^26 has 30 digits."
"#,
    )
    .unwrap();
    append(
        &dir.join("opskpi.toml"),
        "\n[indicators]\nfile = \"big.toml\"\n",
    );
    let output = kpi(
        dir,
        &["huge_sales", "--period", "2024-03", "--format", "csv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(
        error.contains("`huge`") && error.contains("too large"),
        "{error}"
    );
}

/// A failing migration left the columns it had added (each ALTER was its
/// own transaction).
#[test]
fn a_failing_migration_leaves_the_warehouse_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.duckdb");
    {
        // An older opskpi's sales table: amounts as text, no lineage column.
        let conn = duckdb::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE sales (order_id VARCHAR, line_no INTEGER, order_date DATE, net_amount VARCHAR);
             INSERT INTO sales VALUES ('O1', 1, DATE '2024-01-02', 'not a number');",
        )
        .unwrap();
    }
    let error = opskpi::warehouse::Warehouse::open(&path)
        .err()
        .expect("the migration fails");
    assert!(error.to_string().contains("migrate schema"), "{error}");
    let conn = duckdb::Connection::open(&path).unwrap();
    let columns: Vec<String> = conn
        .prepare("SELECT column_name FROM duckdb_columns() WHERE table_name = 'sales' ORDER BY column_index")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<duckdb::Result<_>>()
        .unwrap();
    assert_eq!(columns, ["order_id", "line_no", "order_date", "net_amount"]);
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM duckdb_tables()", [], |row| row.get(0))
        .unwrap();
    assert_eq!(tables, 1, "no table of the schema was left behind");
}

/// `ingest --dry-run` opened an existing warehouse for writing and ran
/// migrations on it, although it "writes nothing".
#[test]
fn a_dry_run_leaves_the_warehouse_file_byte_for_byte() {
    let project = tiny_project();
    let dir = project.path();
    let warehouse = dir.join("warehouse.duckdb");
    {
        // As an older opskpi left it: a column of the load log missing.
        let conn = duckdb::Connection::open(&warehouse).unwrap();
        conn.execute_batch("ALTER TABLE _opskpi_loads DROP COLUMN rows_duplicate")
            .unwrap();
    }
    append(
        &dir.join("sales.csv"),
        "O91,1,2024-03-21,C1,P1,S1,store,North,E1,1,10.00,5.00\n",
    );
    let before = sha256(&warehouse);
    let output = opskpi(&["ingest", "--dry-run", "--config", &config_arg(dir)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("would load"),
        "{}",
        stdout(&output)
    );
    assert_eq!(sha256(&warehouse), before);
    assert!(!dir.join("warehouse.duckdb.wal").exists());
}

/// A file rewritten while it was loaded was recorded with the hash of other
/// bytes than those loaded, and later skipped as unchanged.
#[test]
fn a_file_that_changes_while_it_loads_is_refused() {
    let dir = copy_fixture("tiny", "");
    let config = opskpi::config::Config::load(&dir.path().join("opskpi.toml")).unwrap();
    let sources = sources(&config);
    let sales = dir.path().join("sales.csv");
    let go = dir.path().join("paused");
    let faults =
        opskpi::faults::Faults::parse(&format!("after_delete#4=pause:{}", go.display())).unwrap();
    let loader = std::thread::spawn(move || {
        let mut warehouse = opskpi::warehouse::Warehouse::in_memory().unwrap();
        let options = opskpi::ingest::IngestOptions {
            faults,
            ..Default::default()
        };
        let result =
            opskpi::ingest::ingest(&mut warehouse, &sources, loaded_at(), &options, &|_| {});
        (result.map(|_| ()), warehouse.row_counts().unwrap())
    });
    // The fourth file is sales.csv (products, customers, stores, sales):
    // rewrite it while the load waits between the delete and the insert.
    while !go.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    append(
        &sales,
        "O92,1,2024-03-22,C1,P1,S1,store,North,E1,1,10.00,5.00\n",
    );
    std::fs::remove_file(&go).unwrap();
    let (result, counts) = loader.join().unwrap();
    let error = result.unwrap_err().to_string();
    assert!(
        error.contains("changed while it was being loaded") && error.contains("sales.csv"),
        "{error}"
    );
    assert!(counts.iter().all(|(_, rows)| *rows == 0), "{counts:?}");
}

/// `opskpi report … --format html,pdf` moved each file into place on its
/// own: a PDF that failed (a character no font has) left the new HTML beside
/// the old PDF and an old manifest.
#[test]
fn a_report_set_that_fails_leaves_the_previous_set_whole() {
    let project = tiny_project();
    let dir = project.path();
    let out = dir.join("out");
    let report = |dir: &Path| {
        opskpi(&[
            "report",
            "monthly",
            "--period",
            "2024-03",
            "--as-of",
            "2024-12-31",
            "--format",
            "html,pdf",
            "--out",
            out.to_str().unwrap(),
            "--config",
            &config_arg(dir),
            "--quiet",
        ])
    };
    let output = report(dir);
    assert!(output.status.success(), "{}", stderr(&output));
    let files = [
        "monthly-2024-03.html",
        "monthly-2024-03.pdf",
        "monthly-2024-03.manifest.json",
    ];
    let before: Vec<String> = files.iter().map(|f| sha256(&out.join(f))).collect();
    // A store now in a region no font can write (U+20BB7 𠮷): the HTML
    // would render, the PDF cannot.
    append(
        &dir.join("sales.csv"),
        "O93,1,2024-03-23,C1,P1,S1,store,北𠮷,E1,1,10.00,5.00\n",
    );
    let output = opskpi(&["ingest", "--config", &config_arg(dir), "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = report(dir);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stderr(&output).contains("U+20BB7"), "{}", stderr(&output));
    let after: Vec<String> = files.iter().map(|f| sha256(&out.join(f))).collect();
    assert_eq!(after, before, "the previous set was touched");
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !files.contains(&name.as_str()))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `--each region` mapped `A/B` and `A_B` (or `North.` and `North`) to one
/// file name, and the second edition silently replaced the first.
#[test]
fn editions_whose_names_meet_get_files_of_their_own() {
    let project = tiny_with_sales(
        "O94,1,2024-03-24,C1,P1,S1,store,A/B,E1,1,10.00,5.00\n\
         O95,1,2024-03-24,C1,P1,S1,store,A_B,E1,1,20.00,5.00\n\
         O96,1,2024-03-24,C1,P1,S1,store,North.,E1,1,30.00,5.00\n",
    );
    let dir = project.path();
    let out = dir.join("editions");
    let output = opskpi(&[
        "report",
        "monthly",
        "--period",
        "2024-03",
        "--as-of",
        "2024-12-31",
        "--each",
        "region",
        "--out",
        out.to_str().unwrap(),
        "--config",
        &config_arg(dir),
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut htmls: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".html"))
        .collect();
    htmls.sort();
    // A value that had to change keeps a hash of itself; one that did not
    // keeps its name.
    let hash = |value: &str| {
        use sha2::{Digest, Sha256};
        format!("{:x}", Sha256::digest(value.as_bytes()))[..8].to_string()
    };
    let expected = {
        let mut names = vec![
            format!("monthly-2024-03-region-A_B-{}.html", hash("A/B")),
            "monthly-2024-03-region-A_B.html".to_string(),
            "monthly-2024-03-region-North.html".to_string(),
            format!("monthly-2024-03-region-North-{}.html", hash("North.")),
            "monthly-2024-03-region-South.html".to_string(),
        ];
        names.sort();
        names
    };
    assert_eq!(htmls, expected);
    // Each holds its own region's sales: 10 and 20.
    let a_b = std::fs::read_to_string(out.join("monthly-2024-03-region-A_B.html")).unwrap();
    assert!(
        a_b.contains(">20<") || a_b.contains(">20.00<") || a_b.contains("20"),
        "{a_b}"
    );
    // Two values one letter case apart would be one file on some systems:
    // refused, both named.
    append(
        &dir.join("sales.csv"),
        "O97,1,2024-03-25,C1,P1,S1,store,north,E1,1,10.00,5.00\n",
    );
    let output = opskpi(&["ingest", "--config", &config_arg(dir), "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = opskpi(&[
        "report",
        "monthly",
        "--period",
        "2024-03",
        "--as-of",
        "2024-12-31",
        "--each",
        "region",
        "--out",
        out.to_str().unwrap(),
        "--config",
        &config_arg(dir),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let error = stderr(&output);
    assert!(
        error.contains("`North`") && error.contains("`north`"),
        "{error}"
    );
}

/// A user's message catalogue with a number where text goes, or a short
/// list of month names, panicked (exit 101) half-way through a report.
#[test]
fn a_broken_language_catalogue_is_an_error_naming_the_word() {
    let project = tiny_project();
    let dir = project.path();
    for (broken, named) in [
        ("title = 3\n", "`title`"),
        ("month_names = [\"Jan\", \"Feb\"]\n", "`month_names`"),
        (
            "[indicators.net_sales]\nlabel = 5\n",
            "`indicators.net_sales`",
        ),
    ] {
        let templates = dir.join("templates");
        let _ = std::fs::remove_dir_all(&templates);
        std::fs::create_dir_all(templates.join("messages")).unwrap();
        std::fs::write(templates.join("messages/en.toml"), broken).unwrap();
        let output = opskpi(&[
            "report",
            "monthly",
            "--period",
            "2024-03",
            "--as-of",
            "2024-12-31",
            "--templates",
            templates.to_str().unwrap(),
            "--out",
            dir.join("r").to_str().unwrap(),
            "--config",
            &config_arg(dir),
            "--quiet",
        ]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{broken}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(named),
            "{broken}: {}",
            stderr(&output)
        );
    }
}

/// `--as-of` at the end of the dates chrono holds panicked in the Polars
/// engine; a year far outside any data is a mistake, said so.
#[test]
fn dates_and_periods_outside_the_calendar_are_refused_not_panicked_on() {
    let project = tiny_project();
    for args in [
        vec![
            "net_sales",
            "--period",
            "2024-03",
            "--engine",
            "polars",
            "--as-of",
            "+262143-12-31",
        ],
        vec!["net_sales", "--period", "2024-03", "--as-of", "9999-12-31"],
        vec!["net_sales", "--period", "9999-12", "--engine", "polars"],
        vec!["net_sales", "--period", "0001-01"],
    ] {
        let config = config_arg(project.path());
        let mut all = vec!["kpi"];
        all.extend(&args);
        all.extend(["--config", config.as_str()]);
        let output = opskpi(&all);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&output)
        );
        let error = stderr(&output);
        assert!(
            error.contains("1900") || error.contains("cannot read date"),
            "{args:?}: {error}"
        );
    }
}

/// `--lang ../../x` became part of a path to a catalogue before anything
/// checked it.
#[test]
fn a_language_tag_is_checked_before_it_touches_a_path() {
    let project = tiny_project();
    for tag in ["../../etc/passwd", "en/../../x", "e", "zh_TW", ""] {
        let output = opskpi(&[
            "report",
            "monthly",
            "--period",
            "2024-03",
            "--lang",
            tag,
            "--config",
            &config_arg(project.path()),
            "--quiet",
        ]);
        assert_eq!(output.status.code(), Some(1), "{tag}");
        assert!(
            stderr(&output).contains("not a language tag"),
            "{tag}: {}",
            stderr(&output)
        );
    }
}

/// `[warehouse] path` naming a CSV: DuckDB opened it as an empty database
/// in memory, `ingest` said `loaded 1` and kept nothing.
#[test]
fn a_warehouse_path_that_is_not_a_duckdb_file_is_refused_before_loading() {
    let dir = copy_fixture("tiny", "");
    let toml = std::fs::read_to_string(dir.path().join("opskpi.toml"))
        .unwrap()
        .replace("path = \"warehouse.duckdb\"", "path = \"sales.csv\"");
    std::fs::write(dir.path().join("opskpi.toml"), toml).unwrap();
    let before = sha256(&dir.path().join("sales.csv"));
    let output = opskpi(&["ingest", "--config", &config_arg(dir.path())]);
    assert_eq!(output.status.code(), Some(1));
    let error = stderr(&output);
    assert!(
        error.contains("sales.csv")
            && error.contains("not a DuckDB database")
            && error.contains("a text file beginning `order_id,line_no"),
        "{error}"
    );
    assert!(stdout(&output).is_empty(), "nothing was reported loaded");
    assert_eq!(sha256(&dir.path().join("sales.csv")), before);
}

/// `opskpi templates DIR` and `opskpi sample --out DIR` wrote over a user's
/// edited files without asking.
#[test]
fn templates_and_samples_do_not_overwrite_edited_files_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("my-templates");
    let output = opskpi(&["templates", folder.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    // Copying again over unchanged copies is fine.
    assert!(opskpi(&["templates", folder.to_str().unwrap()])
        .status
        .success());
    std::fs::write(folder.join("report.typ"), "// mine\n").unwrap();
    let output = opskpi(&["templates", folder.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("report.typ") && stderr(&output).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(folder.join("report.typ")).unwrap(),
        "// mine\n"
    );
    assert!(opskpi(&["templates", folder.to_str().unwrap(), "--force"])
        .status
        .success());
    assert_ne!(
        std::fs::read_to_string(folder.join("report.typ")).unwrap(),
        "// mine\n"
    );

    let company = dir.path().join("company");
    std::fs::create_dir(&company).unwrap();
    std::fs::write(company.join("opskpi.toml"), "# mine\n").unwrap();
    let output = opskpi(&[
        "sample",
        "--out",
        company.to_str().unwrap(),
        "--scale",
        "0.01",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("opskpi.toml") && stderr(&output).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(company.join("opskpi.toml")).unwrap(),
        "# mine\n"
    );
}

/// `--data`'s load time (its files' time) was read in the machine's time
/// zone: the same files gave different reports on machines set differently.
#[test]
fn the_same_data_folder_gives_the_same_report_in_any_time_zone() {
    let data = copy_fixture("tiny", ".csv");
    let render = |zone: &str| {
        let out = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_opskpi"))
            .args([
                "report",
                "monthly",
                "--period",
                "2024-03",
                "--as-of",
                "2024-12-31",
                "--data",
                data.path().to_str().unwrap(),
                "--out",
                out.path().to_str().unwrap(),
                "--quiet",
            ])
            .env("TZ", zone)
            .env_remove("OPSKPI_CONFIG")
            .current_dir(data.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        std::fs::read(out.path().join("monthly-2024-03.html")).unwrap()
    };
    assert!(
        render("UTC") == render("Pacific/Kiritimati"),
        "the reports differ"
    );
}

/// The load log knows a file by its path from the project's folder, so the
/// same file reached through another spelling of that folder — an absolute
/// `--config`, a relative one from elsewhere, a pipeline's
/// `config = "../opskpi.toml"` — is the same file: unchanged, not loaded
/// again as a second file (found by the pipeline crash test: every file
/// was loaded twice and the log named each twice).
#[test]
fn the_same_file_by_another_path_to_the_project_is_unchanged() {
    let project = tiny_project(); // loaded with an absolute --config
    let dir = project.path();
    let names = |dir: &Path| -> Vec<String> {
        let output = opskpi(&[
            "sql",
            "select file from _opskpi_files order by file_id",
            "--format",
            "csv",
            "--config",
            &config_arg(dir),
        ]);
        stdout(&output)
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    let before = names(dir);
    assert_eq!(before.len(), 9);
    assert!(before.contains(&"sales.csv".to_string()), "{before:?}");
    // From the folder itself, and from its parent through `sub/..`.
    std::fs::create_dir(dir.join("sub")).unwrap();
    for (cwd, config) in [
        (dir.to_path_buf(), "opskpi.toml".to_string()),
        (dir.join("sub"), "../opskpi.toml".to_string()),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_opskpi"))
            .args(["ingest", "--config", &config])
            .current_dir(&cwd)
            .env_remove("OPSKPI_CONFIG")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let text = stdout(&output);
        assert_eq!(
            text.matches("unchanged, skipped").count(),
            9,
            "{config}: {text}"
        );
    }
    assert_eq!(names(dir), before);
}
