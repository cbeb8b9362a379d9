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
mod send;
mod steps;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};

use crate::calendar::Period;
use crate::config::Config;
use crate::delivery;
use crate::error::{self, Error, Result};
use crate::export::ExportFormat;
use crate::faults::Faults;
use crate::indicators::compute::check_request;
use crate::indicators::Catalogue;
use crate::jobs;
use crate::locale::Locale;
use crate::report::ReportKind;
use crate::sql::saved;
use alert::Evaluation;
use file::{PipelineFile, Step};
pub use history::{runs, Listing};
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
    /// Where the run fails on purpose (crash tests): its ingest step's
    /// load, `after_step` after each step, `after_delivery` after each
    /// message a server accepted.
    pub faults: Faults,
    /// `--dry-run` and `--resend` of the deliver and notify steps.
    pub delivery: delivery::Mode,
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
    run_id: i64,
    pipeline: String,
    period: Period,
    as_of: NaiveDate,
    out: PathBuf,
    clock: &'a dyn Fn() -> NaiveDateTime,
    faults: &'a Faults,
    delivery: delivery::Mode,
}

/// What the steps before this one wrote and found.
struct Earlier<'a> {
    outputs: &'a [PathBuf],
    alerts: &'a [Evaluation],
}

/// Runs the pipeline in `path`; `exit_code` turns the outcome into the
/// process's code.
pub fn run(path: &Path, options: &RunOptions) -> Result<RunOutcome> {
    let file = PipelineFile::load(path)?;
    let base = crate::config::normal(path.parent().unwrap_or(Path::new("")));
    let config_path = match &file.config {
        Some(config) => crate::config::normal(&base.join(config)),
        None => options.config.to_path_buf(),
    };
    let config = jobs::load_config(&config_path)?;
    check_steps(&file, &config, path, options.delivery)?;
    let fiscal = config.calendar();
    let rule = options.period.as_deref().unwrap_or(&file.period);
    let period = file::period(rule, options.as_of, fiscal)?;
    let pipeline = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pipeline".into());
    let out = crate::config::normal(&base.join(file::fill(&file.out, &pipeline, &period)?));
    let warehouse = config.warehouse_path();
    let history = History {
        path: &warehouse,
        wait: jobs::wait(&config),
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
        run_id,
        pipeline,
        period,
        as_of: options.as_of,
        out,
        clock: options.clock,
        faults: &options.faults,
        delivery: options.delivery,
    };
    let outcome = run.steps(&file.steps, &history, &log)?;
    let error = match &outcome.status {
        RunStatus::Failed { step, error } => Some(format!("step {step}: {error}")),
        RunStatus::CheckFailed { step } => Some(format!("step {step}: the check found problems")),
        _ => None,
    };
    let code = exit_code(&outcome.status);
    history.finish(
        run_id,
        (run.clock)(),
        outcome.status.name(),
        code,
        error.as_deref(),
    )?;
    log.info(
        "run_finished",
        &[
            ("status", serde_json::json!(outcome.status.name())),
            ("exit_code", serde_json::json!(code)),
        ],
    );
    Ok(outcome)
}

impl Run<'_> {
    /// Runs `steps` in order, each recorded and logged, until one fails or
    /// the check step stops the run.
    fn steps(&self, steps: &[Step], history: &History, log: &log::Log) -> Result<RunOutcome> {
        let run_id = self.run_id;
        let mut outputs = Vec::new();
        let mut alerts = Vec::new();
        let mut status = RunStatus::Succeeded;
        for (i, step) in steps.iter().enumerate() {
            let number = i + 1;
            log.step_started(number, steps.len(), step.name());
            let earlier = Earlier {
                outputs: &outputs,
                alerts: &alerts,
            };
            let done = self.recorded_step(step, number, history, &earlier, log)?;
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
        Ok(RunOutcome {
            run_id,
            pipeline: self.pipeline.clone(),
            period: self.period,
            status,
            outputs,
            alerts,
        })
    }

    /// Runs one step and records and logs how it went; the outer error is
    /// the history's, the inner one the step's.
    fn recorded_step(
        &self,
        step: &Step,
        number: usize,
        history: &History,
        earlier: &Earlier,
        log: &log::Log,
    ) -> Result<Result<Done>> {
        let run_id = self.run_id;
        let started_at = (self.clock)();
        let started = Instant::now();
        let done = fs_err::create_dir_all(&self.out)
            .map_err(Error::from)
            .and_then(|()| self.step(step, earlier, log));
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
                finished_at: (self.clock)(),
                seconds,
                status: step_status,
                outputs: &shown,
                message: Some(&message),
            },
        )?;
        log.step_finished(number, step.name(), step_status, seconds, &shown, &message);
        self.faults.at("after_step")?;
        Ok(done)
    }
}

/// The process exit code of a run: 0 succeeded, 3 an alert fired, 4 the
/// check step failed, 1 or 2 a step failed on bad input or inside opskpi.
pub fn exit_code(status: &RunStatus) -> u8 {
    match status {
        RunStatus::Succeeded => 0,
        RunStatus::Alerted => error::EXIT_ALERT,
        RunStatus::CheckFailed { .. } => error::EXIT_CHECK,
        RunStatus::Failed { error, .. } => error.exit_code(),
    }
}

/// Everything a step names that the project must know — indicators and
/// their dimensions, saved queries, languages — checked before the first
/// step runs, so a mistake in the last step does not surface after the
/// others have written.
fn check_steps(
    file: &PipelineFile,
    config: &Config,
    path: &Path,
    delivery: delivery::Mode,
) -> Result<()> {
    let catalogue = Catalogue::of(config)?;
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
                check_request(&catalogue, indicators, by).map_err(at)?
            }
            Step::Alert { rules, .. } => {
                for rule in rules {
                    check_request(
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
                saved::find(name, config.queries_folder().as_deref()).map_err(at)?;
            }
            Step::Report { languages, .. } => {
                for tag in languages {
                    Locale::find(tag, config.templates_folder().as_deref()).map_err(at)?;
                }
            }
            Step::Deliver { .. } | Step::Notify { .. } => {
                send::check(step, &file.steps[..i], config, delivery).map_err(at)?
            }
            _ => {}
        }
    }
    Ok(())
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
