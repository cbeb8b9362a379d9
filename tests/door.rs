//! The SQL door, probed (`opskpi sql`, saved queries and exports share it):
//! writes, DDL, COPY, EXPORT, ATTACH, INSTALL/LOAD, SET, secrets, file and
//! URL readers, a second statement by every splitting trick, and runaway
//! queries — each refused with DuckDB's (or our) message, no file created
//! anywhere, the warehouse's bytes and digest unchanged.

use std::path::{Path, PathBuf};

use opskpi::config::Config;
use opskpi::export::ExportFormat;
use opskpi::jobs::{self, AnswerOptions};

use crate::cmd::tiny_project;
use crate::common::date;

/// A table's rows and the sum of their hashes, for every table of the
/// warehouse (DuckDB's own digest of the content).
pub fn digest(warehouse: &Path) -> Vec<(String, i64, String)> {
    let conn = duckdb::Connection::open_with_flags(
        warehouse,
        duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .unwrap(),
    )
    .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT table_name FROM duckdb_tables() ORDER BY 1")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<duckdb::Result<_>>()
        .unwrap();
    tables
        .into_iter()
        .map(|table| {
            let (rows, sum): (i64, Option<String>) = conn
                .query_row(
                    &format!("SELECT count(*), sum(hash(t))::VARCHAR FROM {table} t"),
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .unwrap();
            (table, rows, sum.unwrap_or_default())
        })
        .collect()
}

fn sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The attempts, each with a word its refusal must contain.
const ATTEMPTS: &[(&str, &str)] = &[
    // Writes and DDL.
    ("insert into sales select * from sales", "only reads"),
    ("update sales set net_amount = 0", "only reads"),
    ("delete from sales", "only reads"),
    ("truncate sales", "only reads"),
    ("create table t as select 1", "only reads"),
    ("create temp table t as select 1", "only reads"),
    ("create view v as select 1", "only reads"),
    ("create macro m() as 1", "only reads"),
    ("drop table sales", "only reads"),
    ("alter table sales add column x integer", "only reads"),
    ("checkpoint", "only reads"),
    ("vacuum", "only reads"),
    ("begin transaction", "only reads"),
    // Files in and out, other databases.
    ("copy sales to 'PROBE/out.csv'", "only reads"),
    (
        "copy (select 1) to 'PROBE/out.parquet' (format parquet)",
        "only reads",
    ),
    ("copy sales from 'PROBE/in.csv'", "only reads"),
    ("export database 'PROBE/db'", "only reads"),
    ("import database 'PROBE/db'", "only reads"),
    ("attach 'PROBE/other.duckdb' as other", "only reads"),
    ("attach ':memory:' as scratch", "only reads"),
    ("use memory", "only reads"),
    // Extensions, settings, secrets.
    ("install httpfs", "only reads"),
    ("load httpfs", "only reads"),
    ("load 'PROBE/evil.duckdb_extension'", "only reads"),
    ("set enable_external_access = true", "only reads"),
    ("set memory_limit = '100GB'", "only reads"),
    ("reset lock_configuration", "only reads"),
    ("pragma enable_profiling", "only reads"),
    ("call pragma_database_size()", "only reads"),
    (
        "create secret s (type s3, key_id 'x', secret 'y')",
        "only reads",
    ),
    // File and URL readers inside a query.
    ("select * from read_csv('/etc/passwd')", "the query failed"),
    (
        "select * from read_csv_auto('/proc/self/environ')",
        "the query failed",
    ),
    ("select * from '/etc/passwd'", "the query failed"),
    (
        "select * from read_text('/etc/hostname')",
        "the query failed",
    ),
    (
        "select * from read_blob('/etc/hostname')",
        "the query failed",
    ),
    ("select * from glob('/etc/*')", "the query failed"),
    ("select * from sniff_csv('/etc/passwd')", "the query failed"),
    (
        "select * from read_parquet('PROBE/x.parquet')",
        "the query failed",
    ),
    (
        "select * from read_json('PROBE/x.json')",
        "the query failed",
    ),
    (
        "select * from 'https://example.com/data.csv'",
        "the query failed",
    ),
    ("select getenv('HOME')", "the query failed"),
    // A second statement, by every splitting trick.
    ("select 1; drop table sales", "more than one statement"),
    ("select 1; select 2", "more than one statement"),
    (
        "select 1 /* ; */ ; delete from sales",
        "more than one statement",
    ),
    ("select ';'; delete from sales", "more than one statement"),
    ("select $$;$$; delete from sales", "more than one statement"),
    (
        "select 1);\ncreate temp table t as select 42;\nselect * from (select 1",
        "more than one statement",
    ),
    (
        "with x as (select 1) select * from x; checkpoint",
        "more than one statement",
    ),
    (
        "select 1;\n-- a comment\ndrop table sales;",
        "more than one statement",
    ),
    // Runaway queries: stopped at the configured time.
    (
        "select count(*) from range(1e12::BIGINT)",
        "ran longer than",
    ),
    (
        "select count(*) from range(100000000) a, range(100000000) b",
        "ran longer than",
    ),
];

#[test]
fn every_attempt_through_the_sql_door_is_refused_and_changes_nothing() {
    let project = tiny_project();
    let dir = project.path();
    // A short time limit for the runaway queries.
    let toml = std::fs::read_to_string(dir.join("opskpi.toml")).unwrap();
    std::fs::write(
        dir.join("opskpi.toml"),
        format!("{toml}\n[sql]\ntimeout_seconds = 2\n"),
    )
    .unwrap();
    let config = Config::load(&dir.join("opskpi.toml")).unwrap();
    let probe = tempfile::tempdir().unwrap();
    let warehouse = config.warehouse_path();
    let (bytes, content) = (sha256(&warehouse), digest(&warehouse));
    let files_before = files(dir);
    assert!(ATTEMPTS.len() >= 40);
    let answer = AnswerOptions {
        format: ExportFormat::Csv,
        out: None,
        limit: None,
    };
    let mut let_through = Vec::new();
    for (attempt, expected) in ATTEMPTS {
        let query = attempt.replace("PROBE", &probe.path().display().to_string());
        match jobs::sql(&config, date("2024-12-31"), &query, &answer) {
            Ok(_) => let_through.push(query),
            Err(error) => {
                let text = error.to_string();
                assert!(text.contains(expected), "{query}\n  → {text}");
                assert_eq!(error.exit_code(), 1, "{query}\n  → {text}");
            }
        }
    }
    assert!(let_through.is_empty(), "let through: {let_through:#?}");
    assert_eq!(sha256(&warehouse), bytes, "the warehouse's bytes changed");
    assert_eq!(digest(&warehouse), content);
    assert_eq!(files(dir), files_before, "a file appeared in the project");
    assert!(
        files(probe.path()).is_empty(),
        "a file appeared in the probe folder"
    );
}

/// The same door for saved queries and the indicator functions: a second
/// statement hidden in a project's saved query, or SQL text in `kpi()`'s
/// arguments, is refused too.
#[test]
fn saved_queries_and_kpi_arguments_are_behind_the_same_door() {
    let project = tiny_project();
    let dir = project.path();
    std::fs::create_dir(dir.join("queries")).unwrap();
    std::fs::write(
        dir.join("queries/sneaky.sql"),
        "-- description: Looks like a query.\nselect 1);\ncreate temp table t as select 42;\nselect * from (select 1\n",
    )
    .unwrap();
    let toml = std::fs::read_to_string(dir.join("opskpi.toml")).unwrap();
    std::fs::write(
        dir.join("opskpi.toml"),
        format!("{toml}\n[queries]\nfolder = \"queries\"\n"),
    )
    .unwrap();
    let config = Config::load(&dir.join("opskpi.toml")).unwrap();
    let answer = AnswerOptions {
        format: ExportFormat::Csv,
        out: None,
        limit: None,
    };
    let error = jobs::saved_query(&config, date("2024-12-31"), "sneaky", &[], &answer)
        .unwrap_err()
        .to_string();
    assert!(error.contains("more than one statement"), "{error}");
    for attempt in [
        "select * from kpi('net_sales''); drop table sales; --', '2024-03')",
        "select * from kpi('net_sales', '2024-03; drop table sales')",
        "select * from kpi('net_sales', '2024-03', by := 'region; drop table sales')",
    ] {
        let error = jobs::sql(&config, date("2024-12-31"), attempt, &answer)
            .unwrap_err()
            .to_string();
        assert!(error.contains("kpi()"), "{attempt}\n  → {error}");
    }
}

#[test]
fn a_query_s_parameters_are_counted_without_running_it() {
    let project = tiny_project();
    let config = jobs::load_config(&project.path().join("opskpi.toml")).unwrap();
    let door = opskpi::sql::open(
        &config.warehouse_path(),
        std::time::Duration::from_secs(5),
        None,
        &config.sql,
    )
    .unwrap();
    let types = |sql: &str| door.parameter_types(sql).unwrap();
    // DuckDB binds a value's own type at execution: it reports each
    // parameter, typed or not, as UNKNOWN until then.
    assert_eq!(
        types("select * from sales where order_date >= $1 and quantity > $2 and region = $3"),
        ["UNKNOWN", "UNKNOWN", "UNKNOWN"]
    );
    assert_eq!(types("select 1"), Vec::<String>::new());
    // Preparing runs nothing, and a second statement is still refused.
    assert!(door.parameter_types("select 1); select (2").is_err());
}
