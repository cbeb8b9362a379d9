//! The jobs the command line runs, end to end: load the configured sources,
//! compute indicators, render and write a report. Each step takes everything
//! it depends on (the as-of date, the load time, paths) as arguments.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};

use crate::calendar::Period;
use crate::config::Config;
use crate::error::Result;
use crate::indicators::compute::Context;
use crate::indicators::{compute, Catalogue, KpiRequest, KpiRow};
use crate::ingest::{self, IngestOptions, LoadOutcome};
use crate::report::{self, ReportSpec};
use crate::warehouse::Warehouse;

/// The computation context a configuration implies on `as_of`.
pub fn context(config: &Config, as_of: NaiveDate) -> Context {
    Context {
        as_of,
        fiscal_first_month: config.company.fiscal_year_start,
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
        Warehouse::open(&path)?
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
    let warehouse = open_existing(config)?;
    crate::check::check(&warehouse, as_of, config.check.stale_after_days)
}

/// Computes indicators from the configured warehouse.
pub fn kpi(config: &Config, as_of: NaiveDate, request: &KpiRequest) -> Result<Vec<KpiRow>> {
    let warehouse = open_existing(config)?;
    compute(
        &warehouse,
        &Catalogue::builtin(),
        &context(config, as_of),
        request,
    )
}

/// Renders the monthly report for `period` into `out`, returning the file written.
pub fn monthly_report(
    config: &Config,
    as_of: NaiveDate,
    period: Period,
    out: &Path,
    templates: Option<&Path>,
) -> Result<PathBuf> {
    let warehouse = open_existing(config)?;
    let html = render_monthly(&warehouse, config, as_of, period, templates)?;
    fs_err::create_dir_all(out)?;
    let path = out.join(format!("monthly-{period}.html"));
    fs_err::write(&path, html)?;
    Ok(path)
}

/// The monthly report's HTML for `period`.
pub fn render_monthly(
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    period: Period,
    templates: Option<&Path>,
) -> Result<String> {
    // The command line's folder wins over the configuration's.
    let templates = templates
        .map(Path::to_path_buf)
        .or_else(|| config.report.templates.as_ref().map(|t| config.resolve(t)));
    let spec = ReportSpec {
        company: config.company.name.clone(),
        currency: config.company.currency.clone(),
        locale: config.locale(),
        period,
        data_through: warehouse.sales_date_range()?.map(|(_, last)| last),
        templates: templates.clone(),
    };
    let context = report::build(
        warehouse,
        &Catalogue::builtin(),
        &context(config, as_of),
        &spec,
    )?;
    report::templates::render("monthly.html.j2", &context, templates.as_deref())
}

fn open_existing(config: &Config) -> Result<Warehouse> {
    let path = config.warehouse_path();
    if !path.exists() {
        return Err(crate::Error::config_hint(
            format!("no warehouse at `{}`", path.display()),
            "run `opskpi ingest` first to load the configured sources",
        ));
    }
    Warehouse::open(&path)
}
