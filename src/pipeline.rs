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
use crate::ingest::{self, LoadOutcome};
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
    progress: &dyn Fn(&str),
) -> Result<Vec<LoadOutcome>> {
    if config.sources.is_empty() {
        return Err(crate::Error::config_hint(
            "the configuration names no sources to load",
            "add a `[[sources]]` table with `table` and `path` (`opskpi sample --out DIR` writes an example)",
        ));
    }
    let mut warehouse = Warehouse::open(&config.warehouse_path())?;
    let mut sources = config.sources.clone();
    for source in &mut sources {
        source.path = config.resolve(&source.path);
    }
    ingest::ingest(&mut warehouse, &sources, loaded_at, progress)
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
