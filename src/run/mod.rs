//! `opskpi run`: a pipeline file's steps — ingest, check, kpi, report,
//! export, alert — for one period, unattended. `file.rs` reads the pipeline
//! file, `alert.rs` evaluates alert rules, `history.rs` records every run
//! and step in the warehouse, `log.rs` writes the log to stderr (text or
//! JSON lines).
//!
//! Safe to run twice: ingest loads only new or changed files (by hash), and
//! every output is written beside its name and moved into place, so a second
//! run writes the same files and loads nothing; a run killed half-way leaves
//! the warehouse as the last committed load left it, and the next run
//! completes. A failed step stops the run with its exit code.

pub mod alert;
pub mod file;
pub mod history;
pub mod log;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};

use crate::calendar::Period;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::export::ExportFormat;
use crate::indicators::KpiRequest;
use crate::pipeline::{self, AnswerOptions, ReportOptions};
use crate::report::ReportKind;
use alert::Evaluation;
use file::{PipelineFile, Step};
use history::{History, StepRecord};
pub use log::LogFormat;

/// What a run is given besides its file.
pub struct RunOptions<'a> {
    /// The project when the pipeline file names none.
    pub config: &'a Path,
    /// The period, instead of the file's rule.
    pub period: Option<String>,
    pub as_of: NaiveDate,
    pub log: LogFormat,
    /// The wall clock, for the run's record and log (the one clock read).
    pub clock: &'a dyn Fn() -> NaiveDateTime,
}

/// How a run ended.
#[derive(Debug)]
pub enum RunStatus {
    Succeeded,
    /// Every step ran; at least one alert rule fired.
    Alerted,
    /// The check step found problems at its `fail_on` level.
    CheckFailed {
        step: usize,
    },
    /// A step failed with this error.
    Failed {
        step: usize,
        error: Error,
    },
}

impl RunStatus {
    pub fn name(&self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Alerted => "alerted",
            RunStatus::CheckFailed { .. } => "check_failed",
            RunStatus::Failed { .. } => "failed",
        }
    }
}

#[derive(Debug)]
pub struct RunOutcome {
    pub run_id: i64,
    pub pipeline: String,
    pub period: Period,
    pub status: RunStatus,
    pub outputs: Vec<PathBuf>,
    pub alerts: Vec<Evaluation>,
}

/// What a step did.
#[derive(Default)]
struct Done {
    outputs: Vec<PathBuf>,
    message: String,
    alerts: Vec<Evaluation>,
    check_failed: bool,
}

/// Everything the steps of one run share.
struct Run<'a> {
    config: Config,
    pipeline: String,
    period: Period,
    as_of: NaiveDate,
    out: PathBuf,
    clock: &'a dyn Fn() -> NaiveDateTime,
}

/// Runs the pipeline in `path`; `exit_code` turns the outcome into the
/// process's code.
pub fn run(path: &Path, options: &RunOptions) -> Result<RunOutcome> {
    let file = PipelineFile::load(path)?;
    let base = normal(path.parent().unwrap_or(Path::new("")));
    let config_path = match &file.config {
        Some(config) => base.join(config),
        None => options.config.to_path_buf(),
    };
    let config = Config::load(&config_path)?;
    check_steps(&file, &config, path)?;
    let fiscal = config.calendar();
    let rule = options.period.as_deref().unwrap_or(&file.period);
    let period = file::period(rule, options.as_of, fiscal)?;
    let pipeline = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pipeline".into());
    let out = normal(&base.join(file::fill(&file.out, &pipeline, &period)?));
    let warehouse = config.warehouse_path();
    let history = History {
        path: &warehouse,
        wait: std::time::Duration::from_secs(config.warehouse.wait_seconds),
    };
    let run_id = history.start(
        &pipeline,
        &path.display().to_string(),
        &period.to_string(),
        options.as_of,
        (options.clock)(),
    )?;
    let log = log::Log::new(
        options.log,
        &pipeline,
        run_id,
        &period.to_string(),
        options.clock,
    );
    log.info(
        "run_started",
        &[
            ("steps", serde_json::json!(file.steps.len())),
            ("out", serde_json::json!(out.display().to_string())),
        ],
    );
    let run = Run {
        config,
        pipeline: pipeline.clone(),
        period,
        as_of: options.as_of,
        out,
        clock: options.clock,
    };
    let mut outputs = Vec::new();
    let mut alerts = Vec::new();
    let mut status = RunStatus::Succeeded;
    for (i, step) in file.steps.iter().enumerate() {
        let number = i + 1;
        let started_at = (run.clock)();
        let started = Instant::now();
        log.step_started(number, file.steps.len(), step.name());
        let done = fs_err::create_dir_all(&run.out)
            .map_err(Error::from)
            .and_then(|()| run.step(step, &log));
        let seconds = started.elapsed().as_secs_f64();
        let shown: Vec<String> = match &done {
            Ok(done) => done
                .outputs
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            Err(_) => Vec::new(),
        };
        let (step_status, message) = match &done {
            Ok(done) if done.check_failed => ("failed", done.message.clone()),
            Ok(done) => ("ok", done.message.clone()),
            Err(error) => ("failed", error.to_string()),
        };
        history.step(
            run_id,
            &StepRecord {
                step: number,
                kind: step.name(),
                started_at,
                finished_at: (run.clock)(),
                seconds,
                status: step_status,
                outputs: &shown,
                message: Some(&message),
            },
        )?;
        log.step_finished(number, step.name(), step_status, seconds, &shown, &message);
        match done {
            Ok(done) => {
                outputs.extend(done.outputs);
                let fired = done.alerts.iter().any(|a| a.fires);
                alerts.extend(done.alerts);
                if done.check_failed {
                    status = RunStatus::CheckFailed { step: number };
                    break;
                }
                if fired {
                    status = RunStatus::Alerted;
                }
            }
            Err(error) => {
                status = RunStatus::Failed {
                    step: number,
                    error,
                };
                break;
            }
        }
    }
    let error = match &status {
        RunStatus::Failed { step, error } => Some(format!("step {step}: {error}")),
        RunStatus::CheckFailed { step } => Some(format!("step {step}: the check found problems")),
        _ => None,
    };
    let code = exit_code(&status);
    history.finish(run_id, (run.clock)(), status.name(), code, error.as_deref())?;
    log.info(
        "run_finished",
        &[
            ("status", serde_json::json!(status.name())),
            ("exit_code", serde_json::json!(code)),
        ],
    );
    Ok(RunOutcome {
        run_id,
        pipeline,
        period: run.period,
        status,
        outputs,
        alerts,
    })
}

/// The process exit code of a run: 0 succeeded, 3 an alert fired, 4 the
/// check step failed, 1 or 2 a step failed on bad input or inside opskpi.
pub fn exit_code(status: &RunStatus) -> u8 {
    match status {
        RunStatus::Succeeded => 0,
        RunStatus::Alerted => crate::error::EXIT_ALERT,
        RunStatus::CheckFailed { .. } => crate::error::EXIT_CHECK,
        RunStatus::Failed { error, .. } => error.exit_code(),
    }
}

impl Run<'_> {
    fn file(&self, template: &str) -> Result<PathBuf> {
        Ok(self
            .out
            .join(file::fill(template, &self.pipeline, &self.period)?))
    }

    fn step(&self, step: &Step, log: &log::Log) -> Result<Done> {
        let config = &self.config;
        match step {
            Step::Ingest { full } => {
                let options = crate::ingest::IngestOptions {
                    full: *full,
                    ..Default::default()
                };
                let outcomes = pipeline::ingest(config, (self.clock)(), &options, &|_| {})?;
                let unchanged = outcomes.iter().filter(|o| o.unchanged).count();
                let rows: u64 = outcomes.iter().map(|o| o.loaded).sum();
                let quarantined: u64 = outcomes.iter().map(|o| o.quarantined).sum();
                Ok(Done {
                    message: format!(
                        "{} files: {} loaded ({rows} rows, {quarantined} set aside), {unchanged} unchanged",
                        outcomes.len(),
                        outcomes.len() - unchanged
                    ),
                    ..Done::default()
                })
            }
            Step::Check { fail_on } => {
                let findings = pipeline::check(config, self.as_of)?;
                let path = self.file("check-{period}.txt")?;
                crate::export::write_file(&path, crate::check::render(&findings, 5).as_bytes())?;
                let level = fail_on.map(|level| match level {
                    file::CheckLevelName::Warning => crate::check::Level::Warning,
                    file::CheckLevelName::Error => crate::check::Level::Error,
                });
                let failing = level.map_or(0, |level| {
                    findings.iter().filter(|f| f.level >= level).count()
                });
                Ok(Done {
                    outputs: vec![path],
                    message: format!(
                        "{} findings, {failing} at the failing level",
                        findings.len()
                    ),
                    check_failed: failing > 0,
                    ..Done::default()
                })
            }
            Step::Kpi {
                indicators,
                by,
                periods,
                format,
                file,
            } => {
                let request = KpiRequest {
                    indicators: indicators.clone(),
                    periods: self.period.series(*periods),
                    dims: by.clone(),
                };
                let rows = pipeline::kpi(config, self.as_of, &request)?;
                let path = self.file(file)?;
                let format = output_format(*format, &path);
                if format == ExportFormat::Table {
                    return Err(Error::config_hint(
                        format!("cannot tell the format of `{}`", path.display()),
                        "end the file name in .csv, .json, .ndjson, .parquet or .xlsx, or set `format`",
                    ));
                }
                crate::output::write(&rows, format, Some(&path), config.locale())?;
                Ok(Done {
                    outputs: vec![path],
                    message: format!("{} rows", rows.len()),
                    ..Done::default()
                })
            }
            Step::Report {
                report,
                formats,
                languages,
                each,
            } => {
                let kind = report.kind();
                let period = match kind {
                    Some(kind) => report_period(kind, self.period)?,
                    None => self.period,
                };
                let folder = config.templates_folder();
                let languages: Vec<Option<&str>> = if languages.is_empty() {
                    vec![None]
                } else {
                    languages.iter().map(|l| Some(l.as_str())).collect()
                };
                let mut outputs = Vec::new();
                for language in languages {
                    let options = ReportOptions {
                        formats: formats.clone(),
                        lang: language
                            .map(|tag| crate::format::Locale::find(tag, folder.as_deref()))
                            .transpose()?,
                        each: each.clone(),
                        ..ReportOptions::default()
                    };
                    outputs.extend(match kind {
                        Some(kind) => {
                            pipeline::report(config, self.as_of, kind, period, &self.out, &options)?
                        }
                        None => {
                            pipeline::assessment(config, self.as_of, period, &self.out, &options)?
                        }
                    });
                }
                Ok(Done {
                    message: format!("{} files", outputs.len()),
                    outputs,
                    ..Done::default()
                })
            }
            Step::Export {
                query,
                sql,
                params,
                format,
                file,
            } => {
                let path = self.file(file)?;
                let answer = AnswerOptions {
                    format: output_format(*format, &path),
                    out: Some(path.clone()),
                    limit: None,
                };
                let written = match (query, sql) {
                    (Some(name), _) => {
                        let saved = crate::saved::find(name, config.queries_folder().as_deref())?;
                        let mut given: Vec<(String, String)> = params
                            .iter()
                            .map(|(k, v)| (k.clone(), toml_text(v)))
                            .collect();
                        for param in &saved.params {
                            if param.ty == crate::saved::ParamType::Period
                                && !params.contains_key(&param.name)
                            {
                                given.push((param.name.clone(), self.period.to_string()));
                            }
                        }
                        pipeline::saved_query(config, self.as_of, name, &given, &answer)?
                    }
                    (None, Some(sql)) => pipeline::sql(config, self.as_of, sql, &answer)?,
                    (None, None) => unreachable!("checked when the file was read"),
                };
                Ok(Done {
                    outputs: vec![path],
                    message: format!("{} rows", written.rows),
                    ..Done::default()
                })
            }
            Step::Alert { rules, file } => {
                let mut evaluations = Vec::new();
                for rule in rules {
                    let request = KpiRequest {
                        indicators: vec![rule.indicator.clone()],
                        periods: rule.periods(self.period),
                        dims: rule.dims(),
                    };
                    let rows = pipeline::kpi(config, self.as_of, &request)?;
                    let evaluation = rule.evaluate(&rows, self.period);
                    if evaluation.fires {
                        log.warn("alert", &evaluation.message);
                    } else if evaluation.outcome == alert::Outcome::NoData {
                        log.warn("alert_no_data", &evaluation.message);
                    }
                    evaluations.push(evaluation);
                }
                let fired = evaluations.iter().filter(|e| e.fires).count();
                let path = self.file(file)?;
                let document = serde_json::json!({
                    "pipeline": self.pipeline,
                    "period": self.period.to_string(),
                    "as_of": self.as_of.to_string(),
                    "fired": fired,
                    "alerts": evaluations,
                });
                let mut text = serde_json::to_string_pretty(&document)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                text.push('\n');
                crate::export::write_file(&path, text.as_bytes())?;
                Ok(Done {
                    outputs: vec![path],
                    message: format!("{} rules, {fired} fired", evaluations.len()),
                    alerts: evaluations,
                    ..Done::default()
                })
            }
        }
    }
}

/// Everything a step names that the project must know — indicators and
/// their dimensions, saved queries, languages — checked before the first
/// step runs, so a mistake in the last step does not surface after the
/// others have written.
fn check_steps(file: &PipelineFile, config: &Config, path: &Path) -> Result<()> {
    let catalogue = config.catalogue()?;
    for (i, step) in file.steps.iter().enumerate() {
        let at = |error: Error| match error {
            Error::Config { message, hint } => Error::Config {
                message: format!(
                    "`{}`, step {} ({}): {message}",
                    path.display(),
                    i + 1,
                    step.name()
                ),
                hint,
            },
            other => other,
        };
        match step {
            Step::Kpi { indicators, by, .. } => {
                crate::indicators::compute::check_request(&catalogue, indicators, by).map_err(at)?
            }
            Step::Alert { rules, .. } => {
                for rule in rules {
                    crate::indicators::compute::check_request(
                        &catalogue,
                        std::slice::from_ref(&rule.indicator),
                        &rule.dims(),
                    )
                    .map_err(at)?;
                }
            }
            Step::Export {
                query: Some(name), ..
            } => {
                crate::saved::find(name, config.queries_folder().as_deref()).map_err(at)?;
            }
            Step::Report { languages, .. } => {
                for tag in languages {
                    crate::format::Locale::find(tag, config.templates_folder().as_deref())
                        .map_err(at)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `path` with `.` and `dir/..` taken out as written (no file system
/// lookups), so logs and records show `runs/monthly/2026-10`, not
/// `pipelines/../runs/monthly/2026-10`.
fn normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut parts: Vec<Component> = Vec::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}

/// The format asked for, else the one the file name's extension says.
fn output_format(format: Option<ExportFormat>, path: &Path) -> ExportFormat {
    format
        .or_else(|| ExportFormat::from_path(path))
        .unwrap_or(ExportFormat::Table)
}

/// A parameter value from the pipeline file as the text a saved query reads.
fn toml_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The period of a report kind for the run's period: a monthly report
/// needs a month, a quarterly one a quarter, a yearly one a (fiscal) year.
fn report_period(kind: ReportKind, period: Period) -> Result<Period> {
    if kind.fits(period) {
        Ok(period)
    } else {
        Err(Error::config_hint(
            format!(
                "a {} report cannot cover the run's period {period} (a {})",
                kind.name(),
                period.grain().name()
            ),
            "give the pipeline a period of the report's grain (e.g. period = \"last_complete_quarter\" for a quarterly report)",
        ))
    }
}
