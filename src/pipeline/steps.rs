//! What each kind of step does in a run: one function per kind, each
//! calling the job of the command it stands for and saying what it did.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::alert::{self, Rule};
use super::file::{self, CheckLevelName, ReportKindName, Step};
use super::{log::Log, output_format, report_period, toml_text, Done, Earlier, Run};
use crate::check::{self, Level};
use crate::error::{Error, Result};
use crate::export::{self, ExportFormat};
use crate::indicators::KpiRequest;
use crate::ingest::IngestOptions;
use crate::jobs::{self, AnswerOptions, ReportFormat, ReportOptions};
use crate::locale::Locale;
use crate::sql::saved::{self, ParamType};

impl Run<'_> {
    /// The path of an output named by `template` in the run's folder.
    pub(super) fn file(&self, template: &str) -> Result<PathBuf> {
        Ok(self
            .out
            .join(file::fill(template, &self.pipeline, &self.period)?))
    }

    pub(super) fn step(&self, step: &Step, earlier: &Earlier, log: &Log) -> Result<Done> {
        match step {
            Step::Ingest { full } => self.ingest(*full),
            Step::Check { fail_on } => self.check(*fail_on),
            Step::Kpi {
                indicators,
                by,
                periods,
                format,
                file,
            } => self.kpi(indicators, by, *periods, *format, file),
            Step::Report {
                report,
                formats,
                languages,
                each,
            } => self.report(*report, formats, languages, each),
            Step::Export {
                query,
                sql,
                params,
                format,
                file,
            } => self.export(query.as_deref(), sql.as_deref(), params, *format, file),
            Step::Alert { rules, file } => self.alert(rules, file, log),
            Step::Deliver { .. } | Step::Notify { .. } => self.send(step, earlier),
        }
    }

    /// Loads the project's sources (only new or changed files).
    fn ingest(&self, full: bool) -> Result<Done> {
        let options = IngestOptions {
            full,
            faults: self.faults.clone(),
            ..Default::default()
        };
        let outcomes = jobs::ingest(&self.config, (self.clock)(), &options, &|_| {})?;
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

    /// Writes the findings of `opskpi check`; fails the run at `fail_on`.
    fn check(&self, fail_on: Option<CheckLevelName>) -> Result<Done> {
        let findings = jobs::check(&self.config, self.as_of)?;
        let path = self.file("check-{period}.txt")?;
        export::write_file(&path, check::render(&findings, 5).as_bytes())?;
        let level = fail_on.map(|level| match level {
            CheckLevelName::Warning => Level::Warning,
            CheckLevelName::Error => Level::Error,
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

    /// Computes indicators for the run's period (and the ones before it)
    /// and writes them to `file`.
    fn kpi(
        &self,
        indicators: &[String],
        by: &[String],
        periods: usize,
        format: Option<ExportFormat>,
        file: &str,
    ) -> Result<Done> {
        let request = KpiRequest {
            indicators: indicators.to_vec(),
            periods: self.period.series(periods),
            dims: by.to_vec(),
        };
        let rows = jobs::kpi(&self.config, self.as_of, &request)?;
        let path = self.file(file)?;
        let format = output_format(format, &path);
        if format == ExportFormat::Table {
            return Err(Error::config_hint(
                format!("cannot tell the format of `{}`", path.display()),
                "end the file name in .csv, .json, .ndjson, .parquet or .xlsx, or set `format`",
            ));
        }
        crate::contract::write(&rows, format, Some(&path), Locale::of(&self.config)?)?;
        Ok(Done {
            outputs: vec![path],
            message: format!("{} rows", rows.len()),
            ..Done::default()
        })
    }

    /// Renders a report in each format and language (and edition).
    fn report(
        &self,
        report: ReportKindName,
        formats: &[ReportFormat],
        languages: &[String],
        each: &Option<String>,
    ) -> Result<Done> {
        let kind = report.kind();
        let period = match kind {
            Some(kind) => report_period(kind, self.period)?,
            None => self.period,
        };
        let folder = self.config.templates_folder();
        let languages: Vec<Option<&str>> = if languages.is_empty() {
            vec![None]
        } else {
            languages.iter().map(|l| Some(l.as_str())).collect()
        };
        let mut outputs = Vec::new();
        for language in languages {
            let options = ReportOptions {
                formats: formats.to_vec(),
                lang: language
                    .map(|tag| Locale::find(tag, folder.as_deref()))
                    .transpose()?,
                each: each.clone(),
                ..ReportOptions::default()
            };
            outputs.extend(match kind {
                Some(kind) => {
                    jobs::report(&self.config, self.as_of, kind, period, &self.out, &options)?
                }
                None => jobs::assessment(&self.config, self.as_of, period, &self.out, &options)?,
            });
        }
        Ok(Done {
            message: format!("{} files", outputs.len()),
            outputs,
            ..Done::default()
        })
    }

    /// Runs a saved query (a `period` parameter left out is the run's
    /// period) or one SQL query, and writes the answer to `file`.
    fn export(
        &self,
        query: Option<&str>,
        sql: Option<&str>,
        params: &BTreeMap<String, toml::Value>,
        format: Option<ExportFormat>,
        file: &str,
    ) -> Result<Done> {
        let config = &self.config;
        let path = self.file(file)?;
        let answer = AnswerOptions {
            format: output_format(format, &path),
            out: Some(path.clone()),
            limit: None,
        };
        let written = match (query, sql) {
            (Some(name), _) => {
                let query = saved::find(name, config.queries_folder().as_deref())?;
                let mut given: Vec<(String, String)> = params
                    .iter()
                    .map(|(k, v)| (k.clone(), toml_text(v)))
                    .collect();
                for param in &query.params {
                    if param.ty == ParamType::Period && !params.contains_key(&param.name) {
                        given.push((param.name.clone(), self.period.to_string()));
                    }
                }
                jobs::saved_query(config, self.as_of, name, &given, &answer)?
            }
            (None, Some(sql)) => jobs::sql(config, self.as_of, sql, &answer)?,
            (None, None) => unreachable!("checked when the file was read"),
        };
        Ok(Done {
            outputs: vec![path],
            message: format!("{} rows", written.rows),
            ..Done::default()
        })
    }

    /// Evaluates alert rules on the run's period and writes every outcome
    /// to `file`; a fired rule makes the run exit with code 3.
    fn alert(&self, rules: &[Rule], file: &str, log: &Log) -> Result<Done> {
        let mut evaluations = Vec::new();
        for rule in rules {
            let request = KpiRequest {
                indicators: vec![rule.indicator.clone()],
                periods: rule.periods(self.period),
                dims: rule.dims(),
            };
            let rows = jobs::kpi(&self.config, self.as_of, &request)?;
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
        let mut text =
            serde_json::to_string_pretty(&document).map_err(|e| Error::Internal(e.to_string()))?;
        text.push('\n');
        export::write_file(&path, text.as_bytes())?;
        Ok(Done {
            outputs: vec![path],
            message: format!("{} rules, {fired} fired", evaluations.len()),
            alerts: evaluations,
            ..Done::default()
        })
    }
}
