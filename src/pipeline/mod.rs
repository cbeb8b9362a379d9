//! The jobs the command line runs, end to end: load the configured sources,
//! compute indicators, render and write a report. Each step takes everything
//! it depends on (the as-of date, the load time, paths) as arguments.

use std::path::PathBuf;

use chrono::{NaiveDate, NaiveDateTime};

use crate::calendar::Period;
use crate::config::Config;
use crate::engine::Engines;
use crate::error::Result;
use crate::export::Written;
use crate::indicators::compute::Context;
use crate::indicators::{compute, KpiRequest, KpiRow};
use crate::ingest::{self, IngestOptions, LoadOutcome};
use crate::warehouse::{Access, Warehouse};

mod data;
mod reports;

pub use data::sources as data_sources;
pub use reports::{
    assessment, assessment_html, render_html, render_html_on, render_monthly, render_pdf, report,
    ReportFormat, ReportOptions, Which, EDITION_DIMENSIONS,
};

/// The computation context a configuration implies on `as_of`.
pub fn context(config: &Config, as_of: NaiveDate) -> Context {
    Context {
        as_of,
        calendar: config.calendar(),
        min_sample: config.report.min_sample,
        targets: config.target_overrides(),
    }
}

/// Loads every configured source into the configured warehouse.
pub fn ingest(
    config: &Config,
    loaded_at: NaiveDateTime,
    options: &IngestOptions,
    progress: &(dyn Fn(ingest::Report) + Sync),
) -> Result<Vec<LoadOutcome>> {
    if config.sources.is_empty() {
        return Err(crate::Error::config_hint(
            "the configuration names no sources to load",
            "add a `[[sources]]` table with `table` and `path` (`opskpi sample --out DIR` writes an example)",
        ));
    }
    let path = config.warehouse_path();
    // A dry run writes nothing, not even a new warehouse file.
    let mut warehouse = if options.dry_run && !path.exists() {
        Warehouse::in_memory()?
    } else {
        Warehouse::open_with(&path, Access::ReadWrite, wait(config))?
    };
    let temp = config
        .warehouse
        .temp_directory
        .as_ref()
        .map(|dir| config.resolve(dir))
        .unwrap_or_else(|| path.with_extension("duckdb.tmp"));
    warehouse.limit_memory(&config.warehouse.memory_limit, &temp)?;
    let mut sources = config.sources.clone();
    for source in &mut sources {
        source.path = source.path.as_ref().map(|path| config.resolve(path));
    }
    let options = IngestOptions {
        offset_seconds: crate::config::parse_offset(&config.company.timezone)?,
        scratch: Some(temp),
        ..options.clone()
    };
    ingest::ingest(&mut warehouse, &sources, loaded_at, &options, progress)
}

/// Looks for problems in the configured warehouse's data.
pub fn check(config: &Config, as_of: NaiveDate) -> Result<Vec<crate::check::Finding>> {
    let warehouse = open_existing(config, as_of)?;
    crate::check::check(&warehouse, as_of, config.check.stale_after_days)
}

/// Computes indicators from the configured warehouse.
pub fn kpi(config: &Config, as_of: NaiveDate, request: &KpiRequest) -> Result<Vec<KpiRow>> {
    let catalogue = config.catalogue()?;
    let tables = match config.data {
        Some(_) => Some(catalogue.tables_read(&request.indicators)?),
        None => None,
    };
    let warehouse = open_reading(config, as_of, tables.as_ref())?;
    let engine = Engines::new(config.engine, &warehouse);
    compute(engine.get(), &catalogue, &context(config, as_of), request)
}

/// Net sales of the next `horizon` months after `last` (a month), for the
/// company and, with `by`, each of its values (see `forecast::net_sales`).
pub fn forecast(
    config: &Config,
    as_of: NaiveDate,
    last: Period,
    by: Option<&str>,
    horizon: usize,
) -> Result<Vec<crate::forecast::SeriesForecast>> {
    let warehouse = open_existing(config, as_of)?;
    let engine = Engines::new(config.engine, &warehouse);
    crate::forecast::net_sales(
        engine.get(),
        &config.catalogue()?,
        &context(config, as_of),
        last,
        by,
        horizon,
    )
}

/// Where and how an answer of `sql` or `query` is written.
#[derive(Debug, Clone)]
pub struct AnswerOptions {
    pub format: crate::export::ExportFormat,
    /// The file (the terminal when `None`).
    pub out: Option<PathBuf>,
    /// At most this many rows (all when `None`).
    pub limit: Option<usize>,
}

/// Asks the configured warehouse one query, which can only read, and
/// writes the answer as it streams.
pub fn sql(
    config: &Config,
    as_of: NaiveDate,
    query: &str,
    answer: &AnswerOptions,
) -> Result<Written> {
    let path = existing_path(config)?;
    let conn = crate::sql::open(&path, wait(config), Some(functions(config, as_of)?))?;
    crate::sql::export(
        &conn,
        query,
        &[],
        answer.format,
        answer.out.as_deref(),
        answer.limit,
    )
}

/// The answer of a read-only SQL query on the configured warehouse (with
/// the `kpi(...)` table functions) as Arrow record batches.
pub fn sql_batches(config: &Config, as_of: NaiveDate, query: &str) -> Result<Batches> {
    let path = existing_path(config)?;
    let conn = crate::sql::open(&path, wait(config), Some(functions(config, as_of)?))?;
    crate::sql::batches(&conn, query, &[])
}

/// The answer of the saved query `name` with `params` as Arrow record
/// batches.
pub fn saved_query_batches(
    config: &Config,
    as_of: NaiveDate,
    name: &str,
    params: &[(String, String)],
) -> Result<Batches> {
    let query = crate::saved::find(name, config.queries_folder().as_deref())?;
    let bound = query.bind(params, config.calendar())?;
    let path = existing_path(config)?;
    let conn = crate::sql::open(&path, wait(config), Some(functions(config, as_of)?))?;
    crate::sql::batches(&conn, &query.sql, &bound)
}

/// An answer: its schema (also when it has no row) and its batches.
pub type Batches = (
    duckdb::arrow::datatypes::SchemaRef,
    Vec<duckdb::arrow::record_batch::RecordBatch>,
);

/// Runs the saved query `name` with `params` (`NAME=VALUE`), read-only,
/// and writes the answer as it streams.
pub fn saved_query(
    config: &Config,
    as_of: NaiveDate,
    name: &str,
    params: &[(String, String)],
    answer: &AnswerOptions,
) -> Result<Written> {
    let query = crate::saved::find(name, config.queries_folder().as_deref())?;
    let bound = query.bind(params, config.calendar())?;
    let path = existing_path(config)?;
    let conn = crate::sql::open(&path, wait(config), Some(functions(config, as_of)?))?;
    crate::sql::export(
        &conn,
        &query.sql,
        &bound,
        answer.format,
        answer.out.as_deref(),
        answer.limit,
    )
    .map_err(|error| match error {
        crate::Error::Config { message, hint } => crate::Error::Config {
            message: format!("saved query `{name}` ({}): {message}", query.origin),
            hint,
        },
        other => other,
    })
}

/// The pipeline runs recorded in the configured warehouse (latest first),
/// or one run's steps.
pub fn runs(
    config: &Config,
    run: Option<i64>,
    last: usize,
    answer: &AnswerOptions,
) -> Result<Written> {
    let path = existing_path(config)?;
    let conn = crate::sql::open(&path, wait(config), None)?;
    if !crate::run::history::has_runs(&conn)? {
        return Err(crate::Error::config_hint(
            "no pipeline has run on this warehouse yet",
            "`opskpi run PIPELINE.toml` runs one (README: Pipelines)",
        ));
    }
    let query = crate::run::history::runs_query(run, last);
    crate::sql::export(
        &conn,
        &query,
        &[],
        answer.format,
        answer.out.as_deref(),
        answer.limit,
    )
}

/// What sql's indicator functions compute with.
fn functions(config: &Config, as_of: NaiveDate) -> Result<crate::sql::Functions> {
    Ok(crate::sql::Functions {
        catalogue: config.catalogue()?,
        context: context(config, as_of),
        offset_seconds: crate::config::parse_offset(&config.company.timezone)?,
    })
}

/// The configured warehouse's path, if it exists.
fn existing_path(config: &Config) -> Result<PathBuf> {
    let path = config.warehouse_path();
    if !path.exists() {
        return Err(crate::Error::config_hint(
            format!("no warehouse at `{}`", path.display()),
            "run `opskpi ingest` first to load the configured sources",
        ));
    }
    Ok(path)
}

fn open_existing(config: &Config, as_of: NaiveDate) -> Result<Warehouse> {
    open_reading(config, as_of, None)
}

/// The warehouse, or with `--data` the folder's files in memory (with
/// `tables`, only those a command reads).
fn open_reading(
    config: &Config,
    as_of: NaiveDate,
    tables: Option<&std::collections::BTreeSet<&'static str>>,
) -> Result<Warehouse> {
    if let Some(folder) = &config.data {
        return data::open(config, folder, tables, as_of);
    }
    let path = existing_path(config)?;
    Ok(Warehouse::open_with(&path, Access::ReadOnly, wait(config))?
        .in_timezone(crate::config::parse_offset(&config.company.timezone)?))
}

/// How long a command waits for a warehouse another program holds.
fn wait(config: &Config) -> std::time::Duration {
    std::time::Duration::from_secs(config.warehouse.wait_seconds)
}
