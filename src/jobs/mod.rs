//! The jobs a command runs, end to end, on a project: open it, load its
//! sources, compute indicators, answer SQL, render and write a report. Each
//! job takes everything it depends on (the as-of date, the load time,
//! paths) as arguments; the command line and pipelines call these.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::DataFrame;

use crate::calendar::Period;
use crate::check::{self, Finding};
use crate::config::{self, Config};
use crate::engine::Engines;
use crate::error::{Error, Result};
use crate::export::{ExportFormat, Written};
use crate::forecast::{self, SeriesForecast};
use crate::frames;
use crate::indicators::compute::Context;
use crate::indicators::{compute, Catalogue, KpiRequest, KpiRow};
use crate::ingest::{self, IngestOptions, LoadOutcome};
use crate::locale::Locale;
use crate::sql::{self, saved, Functions};
use crate::warehouse::{self, Access, Warehouse};

mod data;
mod lake;
mod reports;

pub use data::sources as data_sources;
pub use lake::{
    export_warehouse as lake_export_warehouse, ingest_to_lake, lake_export, LakeExport,
};
pub use reports::{
    assessment, assessment_html, render_html, render_html_on, render_monthly, render_pdf, report,
    ReportFormat, ReportOptions, Which, EDITION_DIMENSIONS,
};

/// Reads a project's `opskpi.toml` and checks all of it before any work:
/// the file's own settings, its language, and its own indicators.
pub fn load_config(path: &Path) -> Result<Config> {
    let config = Config::load(path)?;
    Locale::of(&config)?;
    Catalogue::of(&config)?;
    Ok(config)
}

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
        return Err(Error::config_hint(
            "the configuration names no sources to load",
            "add a `[[sources]]` table with `table` and `path` (`opskpi sample --out DIR` writes an example)",
        ));
    }
    let path = config.warehouse_path();
    // A dry run writes nothing: not a new warehouse file, not a migration,
    // not a byte of an existing one.
    let mut warehouse = match (options.dry_run, path.exists()) {
        (true, false) => Warehouse::in_memory()?,
        (true, true) => Warehouse::open_with(&path, Access::ReadOnly, wait(config))?,
        (false, _) => Warehouse::open_with(&path, Access::ReadWrite, wait(config))?,
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
        if let Some(pg) = &mut source.postgres {
            pg.ca_file = pg.ca_file.as_ref().map(|path| config.resolve(path));
        }
    }
    let options = IngestOptions {
        offset_seconds: config::parse_offset(&config.company.timezone)?,
        scratch: Some(temp),
        root: Some(config.root.clone()),
        ..options.clone()
    };
    ingest::ingest(&mut warehouse, &sources, loaded_at, &options, progress)
}

/// Looks for problems in the configured warehouse's data.
pub fn check(config: &Config, as_of: NaiveDate) -> Result<Vec<Finding>> {
    let warehouse = open_existing(config, as_of)?;
    check::check(&warehouse, as_of, config.check.stale_after_days)
}

/// Computes indicators from the configured warehouse.
pub fn kpi(config: &Config, as_of: NaiveDate, request: &KpiRequest) -> Result<Vec<KpiRow>> {
    let catalogue = Catalogue::of(config)?;
    let tables = match config.data {
        Some(_) => Some(catalogue.tables_read(&request.indicators)?),
        None => None,
    };
    let warehouse = open_reading(config, as_of, tables.as_ref())?;
    let engine = Engines::new(config, &warehouse)?;
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
) -> Result<Vec<SeriesForecast>> {
    let warehouse = open_existing(config, as_of)?;
    let engine = Engines::new(config, &warehouse)?;
    forecast::net_sales(
        engine.get(),
        &Catalogue::of(config)?,
        &context(config, as_of),
        last,
        by,
        horizon,
    )
}

/// Where and how an answer of `sql` or `query` is written.
#[derive(Debug, Clone)]
pub struct AnswerOptions {
    pub format: ExportFormat,
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
    let door = open_door(config, &path, as_of)?;
    door.export(
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
    let door = open_door(config, &path, as_of)?;
    door.batches(query, &[])
}

/// The answer of the saved query `name` with `params` as Arrow record
/// batches.
pub fn saved_query_batches(
    config: &Config,
    as_of: NaiveDate,
    name: &str,
    params: &[(String, String)],
) -> Result<Batches> {
    let query = saved::find(name, config.queries_folder().as_deref())?;
    let bound = query.bind(params, config.calendar())?;
    let path = existing_path(config)?;
    let door = open_door(config, &path, as_of)?;
    door.batches(&query.sql, &bound)
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
    let query = saved::find(name, config.queries_folder().as_deref())?;
    let bound = query.bind(params, config.calendar())?;
    let path = existing_path(config)?;
    let door = open_door(config, &path, as_of)?;
    door.export(
        &query.sql,
        &bound,
        answer.format,
        answer.out.as_deref(),
        answer.limit,
    )
    .map_err(|error| match error {
        Error::Config { message, hint } => Error::Config {
            message: format!("saved query `{name}` ({}): {message}", query.origin),
            hint,
        },
        other => other,
    })
}

/// The answer of `opskpi sql` on a project's warehouse as a Polars frame
/// (see `sql_batches`).
pub fn sql_frame(config: &Config, as_of: NaiveDate, query: &str) -> Result<DataFrame> {
    let (schema, batches) = sql_batches(config, as_of, query)?;
    frames::to_polars(&schema, &batches)
}

/// The answer of a saved query (`opskpi query NAME --param …`) as a frame.
pub fn saved_query_frame(
    config: &Config,
    as_of: NaiveDate,
    name: &str,
    params: &[(String, String)],
) -> Result<DataFrame> {
    let (schema, batches) = saved_query_batches(config, as_of, name, params)?;
    frames::to_polars(&schema, &batches)
}

/// The answer of one read query on `warehouse` as a frame, typed as DuckDB
/// types it (DECIMAL stays a decimal of its scale, DATE a date).
pub fn query_frame(warehouse: &Warehouse, sql: &str) -> Result<DataFrame> {
    let (schema, batches) =
        warehouse::arrow_batches(warehouse.connection(), sql).map_err(Error::query("query"))?;
    frames::to_polars(&schema, &batches)
}

/// What sql's indicator functions compute with.
pub fn functions(config: &Config, as_of: NaiveDate) -> Result<Functions> {
    Ok(Functions {
        catalogue: Catalogue::of(config)?,
        context: context(config, as_of),
        offset_seconds: config::parse_offset(&config.company.timezone)?,
        cache: None,
    })
}

/// The configured warehouse's path, if it exists.
pub fn existing_path(config: &Config) -> Result<PathBuf> {
    let path = config.warehouse_path();
    if !path.exists() {
        return Err(Error::config_hint(
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
    let temp = config
        .warehouse
        .temp_directory
        .as_ref()
        .map(|dir| config.resolve(dir));
    Warehouse::open_with(&path, Access::ReadOnly, wait(config))?
        .in_timezone(config::parse_offset(&config.company.timezone)?)
        .within(&config.warehouse.memory_limit, temp.as_deref())
}

/// How long a command waits for a warehouse another program holds.
pub fn wait(config: &Config) -> std::time::Duration {
    std::time::Duration::from_secs(config.warehouse.wait_seconds)
}

/// The SQL door over the warehouse at `path`, with the indicator functions
/// as of `as_of` and the project's `[sql]` limits.
fn open_door(config: &Config, path: &Path, as_of: NaiveDate) -> Result<sql::Door> {
    sql::open(
        path,
        wait(config),
        Some(functions(config, as_of)?),
        &config.sql,
    )
}
