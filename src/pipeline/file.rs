//! The pipeline file: which project, which period, where outputs go, and
//! the steps in order. Read with serde (unknown keys are errors with their
//! line), then checked as a whole before any step runs, so a mistake in
//! step 5 does not surface after steps 1–4 have written.
//!
//! ```toml
//! config = "../opskpi.toml"          # the project, relative to this file
//! period = "last_complete_month"     # or last_complete_quarter/_year/_week, yesterday, or 2026-10
//! out = "../runs/{period}"           # {period}, {year}, {month}, {pipeline}
//!
//! [[steps]]
//! step = "ingest"
//!
//! [[steps]]
//! step = "kpi"
//! indicators = ["net_sales", "gross_margin"]
//! by = ["region"]
//! periods = 13
//! file = "kpi-{period}.csv"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::alert::Rule;
use crate::calendar::{Calendar, Grain, Period};
use crate::delivery::webhook::Format as WebhookFormat;
use crate::delivery::Recipients;
use crate::error::{Error, Result};
use crate::export::ExportFormat;
use crate::jobs::ReportFormat;
use crate::report::ReportKind;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// The project's `opskpi.toml`, relative to the pipeline file.
    pub config: Option<PathBuf>,
    /// Which period a run is about (see `PeriodRule`).
    #[serde(default = "default_period")]
    pub period: String,
    /// The folder outputs go to, relative to the pipeline file; placeholders
    /// `{period}`, `{year}`, `{month}`, `{pipeline}`.
    #[serde(default = "default_out")]
    pub out: String,
    pub steps: Vec<Step>,
}

fn default_period() -> String {
    "last_complete_month".into()
}

fn default_out() -> String {
    "runs/{pipeline}/{period}".into()
}

/// One step. Every output file name may use the placeholders of `out`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Loads the project's sources (only new or changed files).
    Ingest {
        #[serde(default)]
        full: bool,
    },
    /// Looks for problems in the data; stops the run (exit 4) at `fail_on`.
    Check {
        #[serde(default)]
        fail_on: Option<CheckLevelName>,
    },
    /// Computes indicators and writes them to `file`.
    Kpi {
        indicators: Vec<String>,
        #[serde(default)]
        by: Vec<String>,
        /// How many periods, ending with the run's period.
        #[serde(default = "one")]
        periods: usize,
        #[serde(default)]
        format: Option<ExportFormat>,
        #[serde(default = "default_kpi_file")]
        file: String,
    },
    /// Renders a report in each format and language (and edition).
    Report {
        #[serde(default = "monthly")]
        report: ReportKindName,
        #[serde(default = "html_and_pdf")]
        formats: Vec<ReportFormat>,
        /// Languages (`en`, `zh-Hant`, …); the project's locale when empty.
        #[serde(default)]
        languages: Vec<String>,
        /// One edition per value of this dimension.
        #[serde(default)]
        each: Option<String>,
    },
    /// Runs a saved query (or one SQL query) and writes the answer to `file`.
    Export {
        #[serde(default)]
        query: Option<String>,
        #[serde(default)]
        sql: Option<String>,
        /// Parameters; a `period` parameter left out is the run's period.
        #[serde(default)]
        params: BTreeMap<String, toml::Value>,
        #[serde(default)]
        format: Option<ExportFormat>,
        file: String,
    },
    /// Evaluates alert rules on the run's period; writes every outcome to
    /// `file`, and a fired rule makes the run exit with code 3.
    Alert {
        rules: Vec<Rule>,
        #[serde(default = "default_alert_file")]
        file: String,
    },
    /// Mails each edition the run's report step wrote to its readers
    /// (`opskpi.toml`'s `[smtp]`), each once.
    Deliver {
        #[serde(default = "monthly")]
        report: ReportKindName,
        /// `company`, `region:北區`, `region:*`, … → addresses, or
        /// `{ employees_with_role = "regional_manager" }`.
        to: BTreeMap<String, Recipients>,
        /// The reports' language; the project's locale when not set.
        #[serde(default)]
        language: Option<String>,
        /// The files attached: the PDF, and the HTML if listed.
        #[serde(default = "pdf_only")]
        attach: Vec<ReportFormat>,
    },
    /// Sends the alert rules that fired in the run to a webhook (Teams,
    /// Slack, Google Chat or JSON) and/or by email, each once.
    Notify {
        /// The environment variable holding the webhook's address.
        #[serde(default)]
        webhook_env: Option<String>,
        /// The payload's shape; told by the address's host when not set.
        #[serde(default)]
        webhook_format: Option<WebhookFormat>,
        #[serde(default)]
        email: Vec<String>,
        /// Outcomes sent besides fired rules: `no_data`, `clear`.
        #[serde(default)]
        also: Vec<AlsoName>,
        #[serde(default)]
        language: Option<String>,
    },
}

/// Rule outcomes a notify step may send besides the fired ones.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AlsoName {
    NoData,
    Clear,
}

fn pdf_only() -> Vec<ReportFormat> {
    vec![ReportFormat::Pdf]
}

fn one() -> usize {
    1
}

fn default_kpi_file() -> String {
    "kpi-{period}.csv".into()
}

fn default_alert_file() -> String {
    "alerts-{period}.json".into()
}

fn monthly() -> ReportKindName {
    ReportKindName::Monthly
}

fn html_and_pdf() -> Vec<ReportFormat> {
    vec![ReportFormat::Html, ReportFormat::Pdf]
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckLevelName {
    Warning,
    Error,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReportKindName {
    Monthly,
    Quarterly,
    Yearly,
    /// The employee assessment of the run's period (any grain).
    Assessment,
}

impl ReportKindName {
    /// The management report's kind; `None` for the assessment.
    pub fn kind(self) -> Option<ReportKind> {
        match self {
            ReportKindName::Monthly => Some(ReportKind::Monthly),
            ReportKindName::Quarterly => Some(ReportKind::Quarterly),
            ReportKindName::Yearly => Some(ReportKind::Yearly),
            ReportKindName::Assessment => None,
        }
    }
}

impl Step {
    pub fn name(&self) -> &'static str {
        match self {
            Step::Ingest { .. } => "ingest",
            Step::Check { .. } => "check",
            Step::Kpi { .. } => "kpi",
            Step::Report { .. } => "report",
            Step::Export { .. } => "export",
            Step::Alert { .. } => "alert",
            Step::Deliver { .. } => "deliver",
            Step::Notify { .. } => "notify",
        }
    }
}

/// The words `period` takes besides a period itself.
const DERIVED: [(&str, Grain); 5] = [
    ("yesterday", Grain::Day),
    ("last_complete_week", Grain::Week),
    ("last_complete_month", Grain::Month),
    ("last_complete_quarter", Grain::Quarter),
    ("last_complete_year", Grain::Year),
];

/// The period a run is about: given on the command line, or derived from
/// the file's rule on the as-of date.
pub fn period(
    rule: &str,
    as_of: chrono::NaiveDate,
    calendar: impl Into<Calendar>,
) -> Result<Period> {
    let calendar = calendar.into();
    if rule == "yesterday" {
        let day = as_of.pred_opt().expect("a day before");
        return Ok(Period::containing(Grain::Day, day, calendar));
    }
    if let Some((_, grain)) = DERIVED.iter().find(|(word, _)| *word == rule) {
        let grain = calendar.default_grain(*grain);
        return Ok(Period::last_complete(grain, as_of, calendar));
    }
    Period::parse(rule, calendar).map_err(|_| {
        let words: Vec<&str> = DERIVED.iter().map(|(word, _)| *word).collect();
        Error::config_hint(
            format!("the pipeline's `period = \"{rule}\"` is neither a period nor a rule"),
            format!(
                "give a period (2026-10, 2026-Q3, 2026) or one of: {}",
                words.join(", ")
            ),
        )
    })
}

/// `template` with the run's placeholders filled in; an unknown one is an error.
pub fn fill(template: &str, pipeline: &str, period: &Period) -> Result<String> {
    let start = period.start();
    let values = [
        ("{period}", period.to_string()),
        ("{year}", format!("{:04}", chrono::Datelike::year(&start))),
        ("{month}", format!("{:02}", chrono::Datelike::month(&start))),
        ("{pipeline}", pipeline.to_string()),
    ];
    let mut text = template.to_string();
    for (key, value) in &values {
        text = text.replace(key, value);
    }
    if let Some(at) = text.find('{') {
        let rest = &text[at..];
        let end = rest.find('}').map_or(rest.len(), |e| e + 1);
        return Err(Error::config_hint(
            format!("`{template}` has an unknown placeholder `{}`", &rest[..end]),
            "placeholders are {period}, {year}, {month} and {pipeline}",
        ));
    }
    Ok(text)
}

impl PipelineFile {
    /// Reads and checks a pipeline file.
    pub fn load(path: &Path) -> Result<PipelineFile> {
        let text = fs_err::read_to_string(path).map_err(|error| {
            Error::config_hint(
                error.to_string(),
                "give the path of a pipeline file (see sample-data/pipelines/monthly.toml)",
            )
        })?;
        PipelineFile::parse(&text, &path.display().to_string())
    }

    /// Reads and checks a pipeline file's text; `shown` names it in errors.
    pub fn parse(text: &str, shown: &str) -> Result<PipelineFile> {
        let file: PipelineFile = toml::from_str(text).map_err(|error| Error::Config {
            message: format!("`{shown}`: {error}"),
            hint: Some(
                "steps are `ingest`, `check`, `kpi`, `report`, `export` and `alert` (docs/guide.md: Pipelines and alerts)"
                    .into(),
            ),
        })?;
        if file.steps.is_empty() {
            return Err(Error::config_hint(
                format!("`{shown}` has no steps"),
                "add `[[steps]]` tables, e.g. `step = \"ingest\"`",
            ));
        }
        for (i, step) in file.steps.iter().enumerate() {
            let at = |message: String, hint: &str| {
                Error::config_hint(
                    format!("`{shown}`, step {} ({}): {message}", i + 1, step.name()),
                    hint,
                )
            };
            match step {
                Step::Kpi {
                    indicators,
                    periods,
                    ..
                } => {
                    if indicators.is_empty() {
                        return Err(at(
                            "names no indicators".into(),
                            "`opskpi kpi --list` shows them",
                        ));
                    }
                    if *periods == 0 || *periods > 400 {
                        return Err(at(format!("`periods = {periods}`"), "give 1 to 400"));
                    }
                }
                Step::Export { query, sql, .. } if query.is_some() == sql.is_some() => {
                    return Err(at(
                        "needs either `query` (a saved query's name) or `sql`".into(),
                        "e.g. query = \"top_products\"",
                    ));
                }
                Step::Alert { rules, .. } => {
                    for (r, rule) in rules.iter().enumerate() {
                        rule.check().map_err(|message| {
                            at(
                                format!("rule {} ({}): {message}", r + 1, rule.indicator),
                                "docs/guide.md: Alerts lists the conditions",
                            )
                        })?;
                    }
                }
                _ => {}
            }
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_derived_from_the_as_of_date() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            period("last_complete_month", d("2026-11-03"), 1)
                .unwrap()
                .to_string(),
            "2026-10"
        );
        assert_eq!(
            period("last_complete_month", d("2026-10-31"), 1)
                .unwrap()
                .to_string(),
            "2026-10"
        );
        assert_eq!(
            period("last_complete_quarter", d("2026-11-03"), 1)
                .unwrap()
                .to_string(),
            "2026-Q3"
        );
        assert_eq!(
            period("yesterday", d("2026-03-01"), 1).unwrap().to_string(),
            "2026-02-28"
        );
        assert_eq!(
            period("2025-Q4", d("2026-11-03"), 1).unwrap().to_string(),
            "2025-Q4"
        );
        assert!(period("last_month", d("2026-11-03"), 1).is_err());
    }

    #[test]
    fn placeholders_fill_and_unknown_ones_are_refused() {
        let october = Period::parse("2026-10", 1).unwrap();
        assert_eq!(
            fill("runs/{year}/{period}-{pipeline}.csv", "monthly", &october).unwrap(),
            "runs/2026/2026-10-monthly.csv"
        );
        let error = fill("runs/{date}.csv", "monthly", &october)
            .unwrap_err()
            .to_string();
        assert!(error.contains("`{date}`"), "{error}");
    }
}
