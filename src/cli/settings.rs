//! Resolves the parsed command line once into plain settings: dates parsed,
//! the configuration loaded, defaults that depend on the clock settled. This
//! is the only place opskpi reads the clock.

use std::path::PathBuf;

use chrono::{NaiveDate, NaiveDateTime};

use super::args::{CheckLevel, Cli, Command, FailOn, FileFormat, KpiFormat, ReportCommand};
use crate::calendar::{Grain, Period};
use crate::config::{Config, Format};
use crate::error::{Error, Result};
use crate::indicators::{KpiRequest, Status};
use crate::ingest::IngestOptions;
use crate::output::OutputFormat;
use crate::report::ReportKind;
use crate::sample::SampleSpec;

pub struct Settings {
    pub quiet: bool,
    pub task: Task,
}

pub enum Task {
    Demo {
        dir: PathBuf,
        out: PathBuf,
        spec: SampleSpec,
        as_of: NaiveDate,
        loaded_at: NaiveDateTime,
    },
    Sample {
        out: PathBuf,
        spec: SampleSpec,
    },
    Ingest {
        config: Config,
        loaded_at: NaiveDateTime,
        options: IngestOptions,
    },
    Check {
        config: Config,
        as_of: NaiveDate,
        fail_on: Option<crate::check::Level>,
        examples: usize,
    },
    ListIndicators,
    Kpi {
        config: Config,
        as_of: NaiveDate,
        request: KpiRequest,
        format: OutputFormat,
        fail_on: Option<Status>,
        out: Option<PathBuf>,
    },
    QueryList {
        config: Config,
    },
    Query {
        config: Config,
        name: String,
        params: Vec<(String, String)>,
        format: crate::sql::SqlFormat,
        limit: Option<usize>,
        out: Option<PathBuf>,
    },
    Sql {
        config: Config,
        query: String,
        format: crate::sql::SqlFormat,
        limit: Option<usize>,
        out: Option<PathBuf>,
    },
    Report {
        config: Config,
        as_of: NaiveDate,
        kind: ReportKind,
        period: Period,
        out: PathBuf,
        options: crate::pipeline::ReportOptions,
    },
    Templates {
        out: PathBuf,
    },
}

fn parse_date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Error::config_hint(
            format!("cannot read date `{text}`"),
            "write it as YYYY-MM-DD",
        )
    })
}

/// The last period of `grain` that is complete on `as_of`.
/// The rows an answer shows: a terminal table the first ones unless told;
/// a file or a machine format never loses rows silently.
fn row_limit(limit: Option<usize>, format: crate::sql::SqlFormat, to_file: bool) -> Option<usize> {
    match (limit, format, to_file) {
        (Some(0), _, _) => None,
        (Some(n), _, _) => Some(n),
        (None, crate::sql::SqlFormat::Table, false) => Some(crate::sql::TABLE_ROWS),
        (None, _, _) => None,
    }
}

fn last_complete(grain: Grain, as_of: NaiveDate, fiscal_first_month: u32) -> Period {
    let period = Period::containing(grain, as_of, fiscal_first_month);
    if period.end() == as_of {
        period
    } else {
        period.previous()
    }
}

impl Settings {
    pub fn resolve(cli: Cli) -> Result<Settings> {
        let now = chrono::Local::now().naive_local();
        let as_of = cli.global.as_of.as_deref().map(parse_date).transpose()?;
        let today = as_of.unwrap_or(now.date());
        let task = match cli.command {
            Command::Demo(args) => {
                let spec = SampleSpec {
                    scale: args.scale,
                    ..SampleSpec::default()
                };
                // The demo is reproducible: its as-of date is the sample's last day.
                let as_of = as_of.unwrap_or(spec.last_day);
                Task::Demo {
                    dir: args.dir,
                    out: args.out,
                    spec,
                    as_of,
                    // So is its load time, which the report's appendix shows.
                    loaded_at: as_of.and_hms_opt(23, 59, 59).expect("a valid time"),
                }
            }
            Command::Sample(args) => {
                let format = match args.format {
                    FileFormat::Csv => Format::Csv,
                    FileFormat::Parquet => Format::Parquet,
                };
                Task::Sample {
                    out: args.out,
                    spec: SampleSpec {
                        seed: args.seed,
                        scale: args.scale,
                        format,
                        ..SampleSpec::default()
                    },
                }
            }
            Command::Ingest(args) => Task::Ingest {
                config: Config::load(&cli.global.config)?,
                loaded_at: now,
                options: IngestOptions {
                    dry_run: args.dry_run,
                    full: args.full,
                    ..IngestOptions::default()
                },
            },
            Command::Check(args) => Task::Check {
                config: Config::load(&cli.global.config)?,
                as_of: today,
                fail_on: match args.fail_on {
                    CheckLevel::Warning => Some(crate::check::Level::Warning),
                    CheckLevel::Error => Some(crate::check::Level::Error),
                    CheckLevel::Never => None,
                },
                examples: args.examples,
            },
            Command::Kpi(args) if args.list => Task::ListIndicators,
            Command::Kpi(args) => {
                let config = Config::load(&cli.global.config)?;
                if args.indicators.is_empty() {
                    return Err(Error::config_hint(
                        "name at least one indicator",
                        "`opskpi kpi --list` shows them",
                    ));
                }
                let fiscal = config.company.fiscal_year_start;
                let grain = args.grain.as_deref().map(Grain::parse).transpose()?;
                let period = match (&args.period, grain) {
                    (Some(text), grain) => {
                        let period = Period::parse(text, fiscal)?;
                        if grain.is_some_and(|grain| grain != period.grain()) {
                            return Err(Error::config_hint(
                                format!(
                                    "`--period {text}` is a {}, not a {}",
                                    period.grain().name(),
                                    grain.map(Grain::name).unwrap_or_default()
                                ),
                                "leave out --grain: a period carries its own",
                            ));
                        }
                        period
                    }
                    (None, grain) => last_complete(grain.unwrap_or(Grain::Month), today, fiscal),
                };
                if args.periods == 0 || args.periods > 400 {
                    return Err(Error::config_hint(
                        "`--periods` is out of range",
                        "give 1 to 400",
                    ));
                }
                let request = KpiRequest {
                    indicators: args.indicators,
                    periods: period.series(args.periods),
                    dims: args.by,
                };
                let format = match args.format {
                    KpiFormat::Table => OutputFormat::Table,
                    KpiFormat::Csv => OutputFormat::Csv,
                    KpiFormat::Json => OutputFormat::Json,
                    KpiFormat::Ndjson => OutputFormat::Ndjson,
                };
                let fail_on = args.fail_on.map(|level| match level {
                    FailOn::Warning => Status::Warning,
                    FailOn::Bad => Status::Bad,
                });
                Task::Kpi {
                    config,
                    as_of: today,
                    request,
                    format,
                    fail_on,
                    out: args.out,
                }
            }
            Command::Query(args) => {
                let config = Config::load(&cli.global.config)?;
                match args.name {
                    Some(name) if !args.list => Task::Query {
                        config,
                        name,
                        params: args.params,
                        limit: row_limit(
                            args.answer.limit,
                            args.answer.format,
                            args.answer.out.is_some(),
                        ),
                        format: args.answer.format,
                        out: args.answer.out,
                    },
                    _ => Task::QueryList { config },
                }
            }
            Command::Sql(args) => {
                let limit = row_limit(
                    args.answer.limit,
                    args.answer.format,
                    args.answer.out.is_some(),
                );
                Task::Sql {
                    config: Config::load(&cli.global.config)?,
                    query: args.query,
                    format: args.answer.format,
                    limit,
                    out: args.answer.out,
                }
            }
            Command::Report(command) => {
                let (kind, args) = match command {
                    ReportCommand::Monthly(args) => (ReportKind::Monthly, args),
                    ReportCommand::Quarterly(args) => (ReportKind::Quarterly, args),
                    ReportCommand::Yearly(args) => (ReportKind::Yearly, args),
                };
                let config = Config::load(&cli.global.config)?;
                let fiscal = config.company.fiscal_year_start;
                let period = match &args.period {
                    Some(text) => Period::parse(text, fiscal)?,
                    None => {
                        let grain = match kind {
                            ReportKind::Monthly => Grain::Month,
                            ReportKind::Quarterly => Grain::Quarter,
                            ReportKind::Yearly if fiscal != 1 => Grain::FiscalYear,
                            ReportKind::Yearly => Grain::Year,
                        };
                        last_complete(grain, today, fiscal)
                    }
                };
                let out = args
                    .out
                    .unwrap_or_else(|| config.resolve(&config.report.out));
                let folder = args.templates.clone().or_else(|| config.templates_folder());
                let lang = args
                    .lang
                    .as_deref()
                    .map(|tag| crate::format::Locale::find(tag, folder.as_deref()))
                    .transpose()?;
                Task::Report {
                    config,
                    as_of: today,
                    kind,
                    period,
                    out,
                    options: crate::pipeline::ReportOptions {
                        formats: args.format,
                        lang,
                        templates: args.templates,
                        pdf: crate::report::pdf::PdfOptions {
                            paper: args.paper,
                            orientation: args.orientation,
                        },
                        each: args.each,
                    },
                }
            }
            Command::Templates { out } => Task::Templates { out },
        };
        Ok(Settings {
            quiet: cli.global.quiet,
            task,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_period_is_the_last_complete_one() {
        let d = |s| parse_date(s).unwrap();
        let month = |s| last_complete(Grain::Month, d(s), 1).to_string();
        assert_eq!(month("2026-11-28"), "2026-10");
        assert_eq!(month("2026-10-31"), "2026-10");
        assert_eq!(month("2026-01-01"), "2025-12");
        assert_eq!(
            last_complete(Grain::Quarter, d("2026-11-28"), 1).to_string(),
            "2026-Q3"
        );
        assert_eq!(
            last_complete(Grain::Quarter, d("2026-12-31"), 1).to_string(),
            "2026-Q4"
        );
        // With April as first month, FY2026 ended on 2026-03-31.
        assert_eq!(
            last_complete(Grain::FiscalYear, d("2026-11-28"), 4).to_string(),
            "FY2026"
        );
    }
}
