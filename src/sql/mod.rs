//! `opskpi sql`: ad-hoc questions to the warehouse, which can only read it.
//!
//! Three locks, all DuckDB's own rather than a hand-made SQL filter: the
//! warehouse is opened read-only (no write reaches it), with external access
//! off (no file read or written, no ATTACH, INSTALL or LOAD) and the
//! configuration locked (no SET or PRAGMA turns that back on); and the
//! question must be one query, since it is run as a subquery — a statement
//! that is not a query (COPY, CREATE, INSERT, ATTACH, PRAGMA, SET …) cannot
//! stand there, in a CTE or anywhere else.

mod functions;
pub mod saved;

use std::path::Path;
use std::time::Duration;

use duckdb::arrow::datatypes::SchemaRef;
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::Connection;

use crate::error::{Error, Result};
use crate::export::{self, ExportFormat, Written};
use crate::warehouse::{self, Access};
pub use functions::Functions;

/// A query's answer: column names and every value as exact text (`None`
/// for NULL), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Whether each column is a number (for alignment and JSON).
    pub numeric: Vec<bool>,
}

/// Opens the warehouse at `path` for questions only: read-only, external
/// access off, configuration locked; with `context`, the indicator
/// functions `kpi()` and `kpi_indicators()` are there beside the tables.
pub fn open(path: &Path, wait: Duration, functions: Option<Functions>) -> Result<Connection> {
    let conn = warehouse::connect(
        path,
        Access::ReadOnly,
        wait,
        &[
            ("enable_external_access", "false"),
            ("lock_configuration", "true"),
        ],
    )?;
    if let Some(with) = functions {
        functions::register(&conn, with)?;
    }
    Ok(conn)
}

/// Runs the one query `sql` (a trailing `;` is fine), with `params` bound to
/// its `$name` placeholders, and hands its schema and its batches — fetched
/// from DuckDB as they are consumed — to `use_batches`.
fn run<T>(
    conn: &Connection,
    sql: &str,
    params: &[(String, duckdb::types::Value)],
    use_batches: impl FnOnce(SchemaRef, &mut dyn Iterator<Item = Result<RecordBatch>>) -> Result<T>,
) -> Result<T> {
    let bound: Vec<(&str, &dyn duckdb::ToSql)> = params
        .iter()
        .map(|(name, value)| (name.as_str(), value as &dyn duckdb::ToSql))
        .collect();
    let query = sql.trim().trim_end_matches(';').trim_end();
    if query.is_empty() {
        return Err(Error::config_hint(
            "the query is empty",
            "e.g. opskpi sql \"select count(*) from sales\"",
        ));
    }
    // On a line of its own, so that DuckDB's "LINE n" is the query's line + 1.
    let wrapped = format!("SELECT * FROM (\n{query}\n)");
    let mut statement = conn
        .prepare(&wrapped)
        .map_err(|error| query_error(query, &error.to_string()))?;
    let stream = statement
        .stream_arrow(bound.as_slice())
        .map_err(|error| query_error(query, &error.to_string()))?;
    // The columns come with the answer, even an empty one.
    let schema = stream.get_schema();
    let mut batches =
        stream.map(|batch| batch.map_err(|error| query_error(query, &error.to_string())));
    use_batches(schema, &mut batches)
}

/// Runs the one query `sql` and keeps its whole answer as Arrow record
/// batches with DuckDB's own types (for the library: `frames::to_polars`
/// makes a frame of them).
pub fn batches(
    conn: &Connection,
    sql: &str,
    params: &[(String, duckdb::types::Value)],
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    run(conn, sql, params, |schema, batches| {
        Ok((schema, batches.collect::<Result<Vec<_>>>()?))
    })
}

/// Runs the one query `sql` and keeps its whole answer in memory, every
/// value as exact text (for small answers; `export` streams).
pub fn ask(
    conn: &Connection,
    sql: &str,
    params: &[(String, duckdb::types::Value)],
) -> Result<Answer> {
    run(conn, sql, params, |schema, batches| {
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let numeric: Vec<bool> = schema
            .fields()
            .iter()
            .map(|f| f.data_type().is_numeric())
            .collect();
        let mut rows = Vec::new();
        for batch in batches {
            let batch = batch?;
            let texts: Vec<Vec<Option<String>>> = batch
                .columns()
                .iter()
                .map(export::texts)
                .collect::<Result<_>>()?;
            for row in 0..batch.num_rows() {
                rows.push(texts.iter().map(|column| column[row].clone()).collect());
            }
        }
        Ok(Answer {
            columns,
            rows,
            numeric,
        })
    })
}

/// Runs the one query `sql` and writes its answer in `format` to `out`
/// (the terminal when `None`), batch by batch, at most `limit` rows.
pub fn export(
    conn: &Connection,
    sql: &str,
    params: &[(String, duckdb::types::Value)],
    format: ExportFormat,
    out: Option<&Path>,
    limit: Option<usize>,
) -> Result<Written> {
    run(conn, sql, params, |schema, batches| {
        export::write_all(format, &schema, batches, out, limit)
    })
}

/// DuckDB's error, with the line numbers of the user's query and the reason
/// a statement that is not a query was refused.
fn query_error(query: &str, text: &str) -> Error {
    // The query sits on line 2 of what DuckDB saw: "LINE n:" is its n − 1.
    let message = match text.split_once("LINE ") {
        Some((before, after)) => match after.split_once(':') {
            Some((number, rest)) => match number.parse::<usize>() {
                Ok(n) if n > 1 => format!("{before}LINE {}:{rest}", n - 1),
                _ => text.to_string(),
            },
            None => text.to_string(),
        },
        None => text.to_string(),
    };
    let not_a_query = first_word(query).is_some_and(|word| {
        matches!(
            word.as_str(),
            "INSERT"
                | "UPDATE"
                | "DELETE"
                | "CREATE"
                | "DROP"
                | "ALTER"
                | "COPY"
                | "ATTACH"
                | "DETACH"
                | "INSTALL"
                | "LOAD"
                | "PRAGMA"
                | "SET"
                | "RESET"
                | "CALL"
                | "EXPORT"
                | "IMPORT"
                | "CHECKPOINT"
                | "VACUUM"
                | "BEGIN"
                | "COMMIT"
                | "USE"
                | "TRUNCATE"
                | "UPSERT"
                | "MERGE"
        )
    });
    let hint = if message.contains("kpi():") && message.contains("hint:") {
        // The indicator layer's own hint is in the message already.
        None
    } else if message.contains("kpi():") {
        Some("kpi('id[,id…]', 'PERIOD' [, by := 'dim[,dim…]'] [, periods := n]); kpi_indicators() lists the indicators and their dimensions")
    } else if not_a_query {
        Some("`opskpi sql` only reads: one query (SELECT, WITH, FROM, VALUES, DESCRIBE, SUMMARIZE); loads go through `opskpi ingest`")
    } else if message.contains("external access") || message.contains("disabled by configuration") {
        Some("`opskpi sql` reads the warehouse only: no files, no other databases, no extensions")
    } else if message.contains("read-only") {
        Some("`opskpi sql` only reads; loads go through `opskpi ingest`")
    } else {
        Some("the tables are those of DOMAIN.md (`opskpi sql \"show tables\"` lists them)")
    };
    Error::Config {
        message: format!("the query failed: {message}"),
        hint: hint.map(String::from),
    }
}

fn first_word(query: &str) -> Option<String> {
    query
        .split_whitespace()
        .next()
        .map(|word| word.trim_start_matches('(').to_ascii_uppercase())
}
