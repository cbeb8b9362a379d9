//! `opskpi sql`: ad-hoc questions to the warehouse, which can only read it.
//!
//! Three locks, all DuckDB's own rather than a hand-made SQL filter: the
//! warehouse is opened read-only (no write reaches it), with external access
//! off (no file read or written, no ATTACH, INSTALL or LOAD) and the
//! configuration locked (no SET or PRAGMA turns that back on); and the
//! question must be one query, since it is run as a subquery — a statement
//! that is not a query (COPY, CREATE, INSERT, ATTACH, PRAGMA, SET …) cannot
//! stand there, in a CTE or anywhere else.

use std::path::Path;
use std::time::Duration;

use duckdb::arrow::array::Array;
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};
use duckdb::Connection;

use crate::error::{Error, Result};

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
/// access off, configuration locked.
pub fn open(path: &Path, wait: Duration) -> Result<Connection> {
    crate::warehouse::connect(
        path,
        crate::warehouse::Access::ReadOnly,
        wait,
        &[
            ("enable_external_access", "false"),
            ("lock_configuration", "true"),
        ],
    )
}

/// Runs the one query `sql` (a trailing `;` is fine), with `params` bound to
/// its `$name` placeholders.
pub fn ask(
    conn: &Connection,
    sql: &str,
    params: &[(String, duckdb::types::Value)],
) -> Result<Answer> {
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
    let arrow = statement
        .query_arrow(bound.as_slice())
        .map_err(|error| query_error(query, &error.to_string()))?;
    // The columns come with the answer, even an empty one.
    let schema = arrow.get_schema();
    let batches: Vec<RecordBatch> = arrow.collect();
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let numeric: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let options = FormatOptions::default().with_null("");
    let mut rows = Vec::new();
    for batch in &batches {
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Internal(format!("format an answer: {e}")))?;
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .zip(&formatters)
                    .map(|(column, formatter)| {
                        (!column.is_null(row)).then(|| formatter.value(row).to_string())
                    })
                    .collect(),
            );
        }
    }
    Ok(Answer {
        columns,
        rows,
        numeric,
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
    let hint = if not_a_query {
        "`opskpi sql` only reads: one query (SELECT, WITH, FROM, VALUES, DESCRIBE, SUMMARIZE); loads go through `opskpi ingest`"
    } else if message.contains("external access") || message.contains("disabled by configuration") {
        "`opskpi sql` reads the warehouse only: no files, no other databases, no extensions"
    } else if message.contains("read-only") {
        "`opskpi sql` only reads; loads go through `opskpi ingest`"
    } else {
        "the tables are those of DOMAIN.md (`opskpi sql \"show tables\"` lists them)"
    };
    Error::Config {
        message: format!("the query failed: {message}"),
        hint: Some(hint.into()),
    }
}

fn first_word(query: &str) -> Option<String> {
    query
        .split_whitespace()
        .next()
        .map(|word| word.trim_start_matches('(').to_ascii_uppercase())
}

/// How an answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlFormat {
    /// Aligned columns for a terminal (the first 100 rows unless --limit).
    Table,
    Csv,
    /// An array of objects; numbers as JSON numbers with every digit.
    Json,
    /// One JSON object per line (newline-delimited JSON).
    Ndjson,
}

/// The rows the terminal table shows when no limit is given.
pub const TABLE_ROWS: usize = 100;

/// Writes `answer` in `format`, with at most `limit` rows (all when `None`).
/// A table that leaves rows out says so.
pub fn render(answer: &Answer, format: SqlFormat, limit: Option<usize>) -> Result<String> {
    let shown = &answer.rows[..limit.unwrap_or(usize::MAX).min(answer.rows.len())];
    Ok(match format {
        SqlFormat::Table => {
            let mut table = comfy_table::Table::new();
            table
                .load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
                .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
                .set_header(answer.columns.clone());
            for row in shown {
                table.add_row(row.iter().zip(&answer.numeric).map(|(value, numeric)| {
                    let cell = comfy_table::Cell::new(value.as_deref().unwrap_or("NULL"));
                    if *numeric {
                        cell.set_alignment(comfy_table::CellAlignment::Right)
                    } else {
                        cell
                    }
                }));
            }
            let mut text = format!("{table}\n");
            if shown.len() < answer.rows.len() {
                text.push_str(&format!(
                    "({} of {} rows shown; --limit 0 shows all, --format csv --out FILE writes all)\n",
                    shown.len(),
                    answer.rows.len()
                ));
            }
            text
        }
        SqlFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let io = |e: csv::Error| Error::Internal(format!("write CSV: {e}"));
            writer.write_record(&answer.columns).map_err(io)?;
            for row in shown {
                writer
                    .write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))
                    .map_err(io)?;
            }
            String::from_utf8(
                writer
                    .into_inner()
                    .map_err(|e| Error::Internal(e.to_string()))?,
            )
            .map_err(|e| Error::Internal(e.to_string()))?
        }
        SqlFormat::Json => {
            let mut text = String::from("[");
            for (i, row) in shown.iter().enumerate() {
                text.push_str(if i == 0 { "\n  " } else { ",\n  " });
                text.push_str(&json_object(answer, row));
            }
            text.push_str(if shown.is_empty() { "]\n" } else { "\n]\n" });
            text
        }
        SqlFormat::Ndjson => shown
            .iter()
            .map(|row| json_object(answer, row) + "\n")
            .collect(),
    })
}

/// One row as a JSON object: numbers with every digit DuckDB gave.
fn json_object(answer: &Answer, row: &[Option<String>]) -> String {
    let mut text = String::from("{");
    for (j, (value, column)) in row.iter().zip(&answer.columns).enumerate() {
        if j > 0 {
            text.push_str(", ");
        }
        text.push_str(&serde_json::to_string(column).expect("a string"));
        text.push_str(": ");
        match value {
            None => text.push_str("null"),
            Some(v) if answer.numeric[j] && is_json_number(v) => text.push_str(v),
            Some(v) => text.push_str(&serde_json::to_string(v).expect("a string")),
        }
    }
    text.push('}');
    text
}

/// Whether `text` is a JSON number as it stands (`12`, `-0.5000`, `1e3`).
fn is_json_number(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let body = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    digits(whole)
        && (whole == "0" || !whole.starts_with('0'))
        && fraction.is_none_or(digits)
        && exponent.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_are_recognised_as_written() {
        for yes in [
            "0",
            "12",
            "-0.5000",
            "1e3",
            "2.5E-7",
            "123456789012345678901234.5678",
        ] {
            assert!(is_json_number(yes), "{yes}");
        }
        for no in ["", "-", "01", "1.", ".5", "inf", "NaN", "1e", "0x10"] {
            assert!(!is_json_number(no), "{no}");
        }
    }
}
