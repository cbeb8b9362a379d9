//! Writing reports: the files of a report (one per format, language and
//! edition) with the manifest beside them, and the HTML or PDF of one.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::{context, open_existing};
use crate::assessment;
use crate::calendar::{Period, Slot};
use crate::check;
use crate::config::{Config, EngineKind};
use crate::engine::Engines;
use crate::error::{Error, Result};
use crate::export;
use crate::indicators::{Catalogue, Engine};
use crate::locale::Locale;
use crate::report::assessment::{AssessmentContext, AssessmentSpec};
use crate::report::pdf::PdfOptions;
use crate::report::rows::Edition;
use crate::report::summary::Summary;
use crate::report::{self, ReportKind, ReportSpec};
use crate::warehouse::{LoadedFile, Warehouse};

/// The files a report can be written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Html,
    Pdf,
}

impl ReportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Html => "html",
            ReportFormat::Pdf => "pdf",
        }
    }
}

/// How a report is rendered, beyond its kind and period.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub formats: Vec<ReportFormat>,
    /// The report's language; the configuration's locale when `None`.
    pub lang: Option<Locale>,
    /// A folder of templates overriding the built-in ones (wins over the config's).
    pub templates: Option<PathBuf>,
    pub pdf: PdfOptions,
    /// One edition per value of this dimension (region, channel, category, store).
    pub each: Option<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            formats: vec![ReportFormat::Html],
            lang: None,
            templates: None,
            pdf: PdfOptions::default(),
            each: None,
        }
    }
}

/// The dimensions `--each` takes.
pub const EDITION_DIMENSIONS: [&str; 4] = ["region", "channel", "category", "store"];

/// Renders the `kind` report for `period` into `out`, one file per format
/// (and per edition with `each`); returns the files written. The name says
/// what is in the file: `monthly-2026-10.html`, `quarterly-2026-Q3.pdf`,
/// `monthly-2026-10-region-North.pdf`, and a language other than the
/// configuration's: `monthly-2026-10.zh-Hant.pdf`.
pub fn report(
    config: &Config,
    as_of: NaiveDate,
    kind: ReportKind,
    period: Period,
    out: &Path,
    options: &ReportOptions,
) -> Result<Vec<PathBuf>> {
    let warehouse = open_existing(config, as_of)?;
    let editions = match &options.each {
        None => vec![(None, format!("{}-{period}", kind.name()))],
        Some(dimension) => editions(&warehouse, config, as_of, kind, period, dimension)?,
    };
    fs_err::create_dir_all(out)?;
    let suffix = lang_suffix(config, options)?;
    let loaded = warehouse.loaded_files()?;
    let mut written = Vec::new();
    for (edition, name) in editions {
        let which = Which {
            kind,
            period,
            edition: edition.clone(),
        };
        let (context, templates) = report_context(&warehouse, config, as_of, &which, options)?;
        let files = Files {
            out,
            name: format!("{name}{suffix}"),
            templates: templates.as_deref(),
            options,
            as_of,
            config,
            loaded: &loaded,
        };
        let about = About {
            report: kind.name(),
            period,
            lang: context.lang,
            edition: edition.map(|e| ManifestEdition {
                dimension: e.dimension,
                value: e.value,
            }),
            summary: Some(report::summary::summary(&context)),
        };
        written.extend(files.write(&context, "report", about)?);
    }
    Ok(written)
}

/// One edition per value of `dimension` with sales in `period`, each with
/// its file name (`monthly-2026-10-region-北區`).
fn editions(
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    kind: ReportKind,
    period: Period,
    dimension: &str,
) -> Result<Vec<(Option<Edition>, String)>> {
    if !EDITION_DIMENSIONS.contains(&dimension) {
        return Err(Error::config_hint(
            format!("cannot make one edition per `{dimension}`"),
            format!("`--each` takes one of: {}", EDITION_DIMENSIONS.join(", ")),
        ));
    }
    let values = report::editions(
        Engines::new(config, warehouse)?.get(),
        &Catalogue::of(config)?,
        &context(config, as_of),
        dimension,
        period,
    )?;
    if values.is_empty() {
        return Err(Error::config_hint(
            format!("no {dimension} has sales in {period}: no edition to write"),
            "check the period, or load the sales first",
        ));
    }
    let names = edition_names(dimension, &values)?;
    Ok(values
        .into_iter()
        .zip(names)
        .map(|(value, name)| {
            let file = format!("{}-{period}-{dimension}-{name}", kind.name());
            let edition = Edition {
                dimension: dimension.to_string(),
                value,
            };
            (Some(edition), file)
        })
        .collect())
}

/// Where and how one report's files are written.
struct Files<'a> {
    out: &'a Path,
    /// The file name without extension: `monthly-2026-10.zh-Hant`.
    name: String,
    templates: Option<&'a Path>,
    options: &'a ReportOptions,
    as_of: NaiveDate,
    config: &'a Config,
    /// The load log, for the manifest.
    loaded: &'a [LoadedFile],
}

impl Files<'_> {
    /// Renders `context` with the templates `<template>.html.j2` and
    /// `<template>.typ` in each format asked for, and writes the files and
    /// the manifest (with their hashes) beside them as one set: everything
    /// is rendered before anything is written, so a failure (a character no
    /// font has) leaves the previous set as it was.
    fn write(
        &self,
        context: &impl serde::Serialize,
        template: &str,
        about: About,
    ) -> Result<Vec<PathBuf>> {
        let mut manifest = Manifest {
            opskpi: env!("CARGO_PKG_VERSION"),
            report: about.report.to_string(),
            period: about.period.to_string(),
            as_of: self.as_of.to_string(),
            lang: about.lang.to_string(),
            edition: about.edition,
            summary: about.summary,
            engine: self.config.engine,
            templates: self.templates.map(|t| t.display().to_string()),
            pdf: self
                .options
                .formats
                .contains(&ReportFormat::Pdf)
                .then_some(self.options.pdf),
            outputs: Vec::new(),
            warehouse: ManifestWarehouse {
                path: self.config.warehouse.path.display().to_string(),
                files: self.loaded,
            },
        };
        let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        for format in &self.options.formats {
            let bytes = match format {
                ReportFormat::Html => report::templates::render(
                    &format!("{template}.html.j2"),
                    context,
                    self.templates,
                )?
                .into_bytes(),
                ReportFormat::Pdf => report::pdf::render(
                    &format!("{template}.typ"),
                    context,
                    self.as_of,
                    self.options.pdf,
                    self.templates,
                )?,
            };
            let file = format!("{}.{}", self.name, format.extension());
            manifest.outputs.push(ManifestOutput {
                file: file.clone(),
                sha256: hex_sha256(&bytes),
            });
            files.push((self.out.join(file), bytes));
        }
        let mut json = serde_json::to_string_pretty(&manifest)
            .map_err(|error| Error::Internal(error.to_string()))?;
        json.push('\n');
        files.push((
            self.out.join(format!("{}.manifest.json", self.name)),
            json.into_bytes(),
        ));
        export::write_set(&files)?;
        Ok(files.into_iter().map(|(path, _)| path).collect())
    }
}

/// Writes the employee assessment for `period` (a month, quarter or year)
/// into `out`: `assessment-2026-Q3.html`, `.pdf`, and its manifest.
pub fn assessment(
    config: &Config,
    as_of: NaiveDate,
    period: Period,
    out: &Path,
    options: &ReportOptions,
) -> Result<Vec<PathBuf>> {
    if options.each.is_some() {
        return Err(Error::config_hint(
            "the assessment has no editions",
            "leave out --each: the assessment lists every team",
        ));
    }
    let warehouse = open_existing(config, as_of)?;
    let (context, templates) = assessment_context(&warehouse, config, as_of, period, options)?;
    fs_err::create_dir_all(out)?;
    let loaded = warehouse.loaded_files()?;
    Files {
        out,
        name: format!("assessment-{period}{}", lang_suffix(config, options)?),
        templates: templates.as_deref(),
        options,
        as_of,
        config,
        loaded: &loaded,
    }
    .write(
        &context,
        "assessment",
        About {
            report: "assessment",
            period,
            lang: context.lang,
            edition: None,
            summary: None,
        },
    )
}

/// What a set of report files is: kind, period, language, edition, and
/// the first page in a few lines (not for the assessment, whose ratings
/// stay in its own files).
struct About {
    report: &'static str,
    period: Period,
    lang: &'static str,
    edition: Option<ManifestEdition>,
    summary: Option<Summary>,
}

/// What produced a report: written beside it as `<report>.manifest.json`
/// (a delivery reads it back as `report::summary::ManifestView`).
#[derive(serde::Serialize)]
struct Manifest<'a> {
    opskpi: &'static str,
    report: String,
    period: String,
    as_of: String,
    lang: String,
    edition: Option<ManifestEdition>,
    /// The report's first page in a few lines (`report::summary`).
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<Summary>,
    /// The engine that computed the numbers.
    engine: EngineKind,
    /// The folder of templates overriding the built-in ones, if any.
    templates: Option<String>,
    pdf: Option<PdfOptions>,
    /// The files written, with the SHA-256 of their bytes.
    outputs: Vec<ManifestOutput>,
    warehouse: ManifestWarehouse<'a>,
}

#[derive(serde::Serialize)]
struct ManifestEdition {
    dimension: String,
    value: String,
}

#[derive(serde::Serialize)]
struct ManifestOutput {
    file: String,
    sha256: String,
}

#[derive(serde::Serialize)]
struct ManifestWarehouse<'a> {
    /// As the configuration writes it.
    path: String,
    /// Every loaded file with its hash and row counts (the load log).
    files: &'a [LoadedFile],
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A dimension value made safe for a file name: path separators and
/// characters Windows refuses become `_`; letters of any script stay. A
/// value that had to change gets a short hash of itself, so that `A/B` and
/// `A_B`, or `North.` and `North`, never share a file — and each keeps its
/// name from run to run, whatever other values there are.
fn file_safe(value: &str) -> String {
    let safe: String = value
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = safe.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed == value {
        return trimmed.to_string();
    }
    let base = if trimmed.is_empty() { "_" } else { trimmed };
    format!("{base}-{}", &hex_sha256(value.as_bytes())[..8])
}

/// The file names of `values`' editions, refused when two would still be
/// one file on a file system that ignores case.
fn edition_names(dimension: &str, values: &[String]) -> Result<Vec<String>> {
    let names: Vec<String> = values.iter().map(|value| file_safe(value)).collect();
    for (i, name) in names.iter().enumerate() {
        if let Some(j) = names[..i]
            .iter()
            .position(|other| other.to_lowercase() == name.to_lowercase())
        {
            return Err(Error::config_hint(
                format!(
                    "the {dimension} values `{}` and `{}` would write one file (`{name}`)",
                    values[j], values[i]
                ),
                "make the values differ by more than letter case in the data (a word map in the source's `values` can rename one)",
            ));
        }
    }
    Ok(names)
}

/// Which report: its kind, period and edition (`None`: the whole company).
#[derive(Debug, Clone)]
pub struct Which {
    pub kind: ReportKind,
    pub period: Period,
    pub edition: Option<Edition>,
}

impl Which {
    pub fn monthly(period: Period) -> Which {
        Which {
            kind: ReportKind::Monthly,
            period,
            edition: None,
        }
    }
}

/// The monthly report's HTML for `period`.
pub fn render_monthly(
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    period: Period,
    templates: Option<&Path>,
) -> Result<String> {
    let options = ReportOptions {
        templates: templates.map(Path::to_path_buf),
        ..ReportOptions::default()
    };
    render_html(warehouse, config, as_of, &Which::monthly(period), &options)
}

/// A report's HTML.
pub fn render_html(
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    which: &Which,
    options: &ReportOptions,
) -> Result<String> {
    let engine = Engines::new(config, warehouse)?;
    render_html_on(engine.get(), warehouse, config, as_of, which, options)
}

/// A report's HTML with its indicators from a given engine (one a library
/// keeps between reports, with the frames it has read).
pub fn render_html_on(
    engine: &dyn Engine,
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    which: &Which,
    options: &ReportOptions,
) -> Result<String> {
    let (context, templates) = report_context_on(engine, warehouse, config, as_of, which, options)?;
    report::templates::render("report.html.j2", &context, templates.as_deref())
}

/// A report's PDF.
pub fn render_pdf(
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    which: &Which,
    options: &ReportOptions,
) -> Result<Vec<u8>> {
    let (context, templates) = report_context(warehouse, config, as_of, which, options)?;
    report::pdf::render(
        "report.typ",
        &context,
        as_of,
        options.pdf,
        templates.as_deref(),
    )
}

/// The numbers and words of a report, and the templates folder in force.
fn report_context(
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    which: &Which,
    options: &ReportOptions,
) -> Result<(report::ReportContext, Option<PathBuf>)> {
    report_context_on(
        Engines::new(config, warehouse)?.get(),
        warehouse,
        config,
        as_of,
        which,
        options,
    )
}

/// The report's context with its indicators from `engine`.
fn report_context_on(
    engine: &dyn Engine,
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    which: &Which,
    options: &ReportOptions,
) -> Result<(report::ReportContext, Option<PathBuf>)> {
    let templates = templates_folder(config, options);
    let spec = ReportSpec {
        kind: which.kind,
        company: config.company.name.clone(),
        currency: config.company.currency.clone(),
        locale: report_locale(config, options)?,
        period: which.period,
        edition: which.edition.clone(),
        data_through: warehouse.sales_date_range()?.map(|(_, last)| last),
        templates: templates.clone(),
        quality: report::quality::Quality {
            files: warehouse.loaded_files()?,
            coverage: warehouse.coverage()?,
            set_aside: warehouse.set_aside()?,
            findings: check::check(warehouse, as_of, config.check.stale_after_days)?,
        },
        highlights: config.report.highlights,
    };
    let context = report::build(
        engine,
        &Catalogue::of(config)?,
        &context(config, as_of),
        &spec,
    )?;
    Ok((context, templates))
}

/// The employee assessment's HTML.
pub fn assessment_html(
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    period: Period,
    options: &ReportOptions,
) -> Result<String> {
    let (context, templates) = assessment_context(warehouse, config, as_of, period, options)?;
    report::templates::render("assessment.html.j2", &context, templates.as_deref())
}

/// The scorecard of `period` in the report's words, and the templates folder in force.
fn assessment_context(
    warehouse: &Warehouse,
    config: &Config,
    as_of: NaiveDate,
    period: Period,
    options: &ReportOptions,
) -> Result<(AssessmentContext, Option<PathBuf>)> {
    let templates = templates_folder(config, options);
    let engine = Engines::new(config, warehouse)?;
    let scorecard = assessment::scorecard(
        engine.get(),
        assessment::employees(warehouse)?,
        &Catalogue::of(config)?,
        &context(config, as_of),
        &config.assessment,
        period,
    )?;
    let spec = AssessmentSpec {
        company: &config.company.name,
        currency: &config.company.currency,
        locale: report_locale(config, options)?,
        period,
        partial: Slot::new(period, as_of)?.is_partial(),
        as_of,
        data_through: warehouse.sales_date_range()?.map(|(_, last)| last),
        templates: templates.as_deref(),
    };
    let context = report::assessment::context(&spec, &config.assessment, &scorecard)?;
    Ok((context, templates))
}

/// The templates folder in force: the command line's wins over the
/// configuration's.
fn templates_folder(config: &Config, options: &ReportOptions) -> Option<PathBuf> {
    options
        .templates
        .clone()
        .or_else(|| config.report.templates.as_ref().map(|t| config.resolve(t)))
}

/// The report's language: the one asked for, else the configuration's.
fn report_locale(config: &Config, options: &ReportOptions) -> Result<Locale> {
    match options.lang {
        Some(lang) => Ok(lang),
        None => Locale::of(config),
    }
}

/// `.zh-Hant` in a file name when the report's language is not the
/// configuration's.
fn lang_suffix(config: &Config, options: &ReportOptions) -> Result<String> {
    Ok(match options.lang {
        Some(lang) if lang != Locale::of(config)? => format!(".{}", lang.tag()),
        _ => String::new(),
    })
}
