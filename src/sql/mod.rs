//! `opskpi sql`: ad-hoc questions to the warehouse, which can only read it —
//! the door of the company's own analysts (and of saved queries and
//! pipeline exports), not of strangers.
//!
//! The locks are DuckDB's own rather than a hand-made SQL filter: the
//! warehouse is opened read-only (no write reaches it), with external access
//! off (no file read or written, no ATTACH, INSTALL or LOAD) and the
//! configuration locked (no SET or PRAGMA turns that back on). The question
//! must be one statement — DuckDB's own parser splits the text, and more than
//! one is refused before anything runs — and a query, since it is run as a
//! subquery: a statement that is not a query (COPY, CREATE, INSERT, ATTACH,
//! PRAGMA, SET …) cannot stand there, in a CTE or anywhere else. A query
//! runs within a memory limit and is interrupted past a time limit
//! (`[sql]`).

mod functions;
pub mod saved;

mod statements;

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use duckdb::arrow::datatypes::SchemaRef;
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::Connection;

use crate::config::SqlConfig;
use crate::error::{Error, Result};
use crate::export::{self, ExportFormat, Written};
use crate::warehouse::{self, Access};
pub use functions::{Functions, KpiCache};

/// A query's answer: column names and every value as exact text (`None`
/// for NULL), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Whether each column is a number (for alignment and JSON).
    pub numeric: Vec<bool>,
}

/// A connection that can only ask: the warehouse read-only, external
/// access off, the configuration locked, a memory limit, and the time a
/// question may take.
pub struct Door {
    conn: Connection,
    limits: SqlConfig,
    /// The company's UTC offset when the indicator functions are there
    /// (a second door re-creates the per-connection `company_day()`).
    offset_seconds: Option<i32>,
    /// A statement of the library's own (a temporary view) run on this
    /// door and on every door forked from it.
    setup: Option<String>,
}

/// A query's parameters: `$name`s (saved queries) or `$1`, `$2` … (the
/// PostgreSQL protocol).
#[derive(Clone, Copy)]
pub enum Params<'a> {
    Named(&'a [(String, duckdb::types::Value)]),
    Positional(&'a [duckdb::types::Value]),
}

/// Opens the warehouse at `path` for questions only, within `limits`; with
/// `functions`, the indicator functions `kpi()` and `kpi_indicators()` are
/// there beside the tables.
pub fn open(
    path: &Path,
    wait: Duration,
    functions: Option<Functions>,
    limits: &SqlConfig,
) -> Result<Door> {
    limits.check()?;
    let conn = warehouse::connect(
        path,
        Access::ReadOnly,
        wait,
        &[
            ("enable_external_access", "false"),
            ("memory_limit", limits.memory_limit.as_str()),
            ("lock_configuration", "true"),
        ],
    )?;
    let offset_seconds = functions.as_ref().map(|with| with.offset_seconds);
    if let Some(with) = functions {
        functions::register(&conn, with)?;
    }
    Ok(Door {
        conn,
        limits: limits.clone(),
        offset_seconds,
        setup: None,
    })
}

/// A door over nothing but the indicator functions: an empty in-memory
/// database with the same locks, whose `kpi()` and `kpi_indicators()`
/// compute on `data`'s database — no table of `data` can be named from it
/// (a viewer's door: indicator results, no raw rows).
pub fn open_functions_only(data: &Door, with: Functions, limits: &SqlConfig) -> Result<Door> {
    limits.check()?;
    let config = duckdb::Config::default()
        .enable_external_access(false)
        .and_then(|config| config.max_memory(&limits.memory_limit))
        .and_then(|config| config.with("lock_configuration", "true"))
        .map_err(Error::query("open the indicator functions"))?;
    let conn = Connection::open_in_memory_with_flags(config)
        .map_err(Error::query("open the indicator functions"))?;
    let compute = data
        .conn
        .try_clone()
        .map_err(Error::query("a connection for kpi()"))?;
    let offset_seconds = Some(with.offset_seconds);
    functions::register_over(&conn, compute, with)?;
    Ok(Door {
        conn,
        limits: limits.clone(),
        offset_seconds,
        setup: None,
    })
}

impl Door {
    /// The connection itself, for the library's own reads of its tables.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A second door on the same database — its own connection, so that
    /// one query's time limit and interruption are its own — with the same
    /// locks (they are the database's) and limits.
    pub fn fork(&self) -> Result<Door> {
        let conn = self
            .conn
            .try_clone()
            .map_err(Error::query("a second connection"))?;
        if let Some(offset) = self.offset_seconds {
            functions::company_day(&conn, offset)?;
        }
        if let Some(setup) = &self.setup {
            conn.execute_batch(setup)
                .map_err(Error::query("prepare a second connection"))?;
        }
        Ok(Door {
            conn,
            limits: self.limits.clone(),
            offset_seconds: self.offset_seconds,
            setup: self.setup.clone(),
        })
    }

    /// Runs `setup`, a statement of the library's own (such as a temporary
    /// view over `kpi()`), on this door now and on every door forked from
    /// it later.
    pub fn set_up(&mut self, setup: String) -> Result<()> {
        self.conn
            .execute_batch(&setup)
            .map_err(Error::query("prepare the door"))?;
        self.setup = Some(setup);
        Ok(())
    }

    /// What stops the query running on this door (from another thread).
    pub fn interrupt_handle(&self) -> std::sync::Arc<duckdb::InterruptHandle> {
        self.conn.interrupt_handle()
    }

    /// The DuckDB types of the parameters (`$1` …) of the one query `sql`
    /// as DuckDB's prepared statement reports them (`UNKNOWN` where it
    /// binds a value's own type at execution); nothing runs: the query is
    /// only prepared.
    pub fn parameter_types(&self, sql: &str) -> Result<Vec<String>> {
        let query = sql.trim().trim_end_matches(';').trim_end();
        let prepare = format!("PREPARE _opskpi_described AS {query}");
        if statements::more_than_one(query) || statements::more_than_one(&prepare) {
            return Err(Error::config_hint(
                "the query holds more than one statement: nothing was run",
                "send one query at a time",
            ));
        }
        self.conn
            .execute_batch(&prepare)
            .map_err(|error| query_error(query, &error.to_string()))?;
        let types = self
            .conn
            .query_row(
                "SELECT CAST(parameter_types AS VARCHAR) FROM duckdb_prepared_statements() WHERE name = '_opskpi_described'",
                [],
                |row| row.get::<_, Option<String>>(0),
            )
            .map_err(Error::query("describe the parameters"));
        let _ = self.conn.execute_batch("DEALLOCATE _opskpi_described");
        let types = types?.unwrap_or_default();
        let inner = types.trim().trim_start_matches('[').trim_end_matches(']');
        Ok(if inner.trim().is_empty() {
            Vec::new()
        } else {
            inner.split(", ").map(|t| t.trim().to_string()).collect()
        })
    }

    /// Runs the one query `sql` with `params` and hands its schema and its
    /// batches, fetched from DuckDB as they are consumed, to `use_batches`.
    pub fn stream<T>(
        &self,
        sql: &str,
        params: Params,
        use_batches: impl FnOnce(SchemaRef, &mut dyn Iterator<Item = Result<RecordBatch>>) -> Result<T>,
    ) -> Result<T> {
        self.run(sql, params, use_batches)
    }

    /// Runs the one query `sql` and keeps its whole answer as Arrow record
    /// batches with DuckDB's own types (for the library: `frames::to_polars`
    /// makes a frame of them).
    pub fn batches(
        &self,
        sql: &str,
        params: &[(String, duckdb::types::Value)],
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        self.run(sql, Params::Named(params), |schema, batches| {
            Ok((schema, batches.collect::<Result<Vec<_>>>()?))
        })
    }

    /// Runs the one query `sql` and keeps its whole answer in memory, every
    /// value as exact text (for small answers; `export` streams).
    pub fn ask(&self, sql: &str, params: &[(String, duckdb::types::Value)]) -> Result<Answer> {
        self.run(sql, Params::Named(params), answer)
    }

    /// Runs the one query `sql` and writes its answer in `format` to `out`
    /// (the terminal when `None`), batch by batch, at most `limit` rows.
    pub fn export(
        &self,
        sql: &str,
        params: &[(String, duckdb::types::Value)],
        format: ExportFormat,
        out: Option<&Path>,
        limit: Option<usize>,
    ) -> Result<Written> {
        self.run(sql, Params::Named(params), |schema, batches| {
            export::write_all(format, &schema, batches, out, limit)
        })
    }

    /// Runs the one query `sql` (a trailing `;` is fine) with `params` bound
    /// to its `$name` placeholders, interrupted past the time limit.
    fn run<T>(
        &self,
        sql: &str,
        params: Params,
        use_batches: impl FnOnce(SchemaRef, &mut dyn Iterator<Item = Result<RecordBatch>>) -> Result<T>,
    ) -> Result<T> {
        let timeout = Duration::from_secs(self.limits.timeout_seconds);
        let interrupt = self.conn.interrupt_handle();
        let (finished, wait) = mpsc::channel::<()>();
        std::thread::scope(|scope| {
            let watchdog = scope.spawn(move || {
                let late = matches!(
                    wait.recv_timeout(timeout),
                    Err(mpsc::RecvTimeoutError::Timeout)
                );
                if late {
                    interrupt.interrupt();
                }
                late
            });
            let result = run(&self.conn, sql, params, use_batches);
            drop(finished);
            match watchdog.join() {
                Ok(true) => Err(Error::config_hint(
                    format!(
                        "the query ran longer than {} s and was stopped",
                        self.limits.timeout_seconds
                    ),
                    "narrow it (a period, fewer columns, LIMIT), or raise `[sql] timeout_seconds` in opskpi.toml",
                )),
                _ => result,
            }
        })
    }
}

/// An answer kept whole, every value as exact text.
fn answer(
    schema: SchemaRef,
    batches: &mut dyn Iterator<Item = Result<RecordBatch>>,
) -> Result<Answer> {
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
}

/// Runs the one query `sql` (a trailing `;` is fine), with `params` bound to
/// its `$name` placeholders, and hands its schema and its batches — fetched
/// from DuckDB as they are consumed — to `use_batches`.
fn run<T>(
    conn: &Connection,
    sql: &str,
    params: Params,
    use_batches: impl FnOnce(SchemaRef, &mut dyn Iterator<Item = Result<RecordBatch>>) -> Result<T>,
) -> Result<T> {
    let query = sql.trim().trim_end_matches(';').trim_end();
    if query.is_empty() {
        return Err(Error::config_hint(
            "the query is empty",
            "e.g. opskpi sql \"select count(*) from sales\"",
        ));
    }
    // On a line of its own, so that DuckDB's "LINE n" is the query's line + 1.
    let wrapped = format!("SELECT * FROM (\n{query}\n)");
    // Splitting is DuckDB's own parser's, and happens before anything runs:
    // duckdb-rs's `prepare` runs every statement but the last.
    if statements::more_than_one(query) || statements::more_than_one(&wrapped) {
        return Err(Error::config_hint(
            "the query holds more than one statement: nothing was run",
            "`opskpi sql` runs one query (SELECT, WITH, FROM, VALUES, DESCRIBE, SUMMARIZE, SHOW); send each on its own",
        ));
    }
    let mut statement = conn
        .prepare(&wrapped)
        .map_err(|error| query_error(query, &error.to_string()))?;
    let stream = match params {
        Params::Named(params) => {
            let bound: Vec<(&str, &dyn duckdb::ToSql)> = params
                .iter()
                .map(|(name, value)| (name.as_str(), value as &dyn duckdb::ToSql))
                .collect();
            statement.stream_arrow(bound.as_slice())
        }
        Params::Positional(params) => {
            let bound: Vec<&dyn duckdb::ToSql> = params
                .iter()
                .map(|value| value as &dyn duckdb::ToSql)
                .collect();
            statement.stream_arrow(bound.as_slice())
        }
    }
    .map_err(|error| query_error(query, &error.to_string()))?;
    // The columns come with the answer, even an empty one.
    let schema = stream.get_schema();
    let mut batches =
        stream.map(|batch| batch.map_err(|error| query_error(query, &error.to_string())));
    use_batches(schema, &mut batches)
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
