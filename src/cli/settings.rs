//! Resolves the parsed command line once into plain settings: dates parsed,
//! the configuration loaded, defaults that depend on the clock settled. This
//! is the only place opskpi reads the clock.

use std::path::PathBuf;

use chrono::{NaiveDate, NaiveDateTime};

use super::args::{AnswerArgs, CheckLevel, Cli, Command, FailOn, FileFormat, ReportCommand};
use crate::calendar::{Calendar, Grain, Period};
use crate::config::{Config, Format};
use crate::error::{Error, Result};
use crate::export::ExportFormat;
use crate::indicators::{KpiRequest, Status};
use crate::ingest::IngestOptions;
use crate::pipeline::AnswerOptions;
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
    ListIndicators {
        catalogue: crate::indicators::Catalogue,
    },
    Explain {
        catalogue: crate::indicators::Catalogue,
        id: String,
        offset_seconds: i32,
    },
    Kpi {
        config: Config,
        as_of: NaiveDate,
        request: KpiRequest,
        format: ExportFormat,
        fail_on: Option<Status>,
        out: Option<PathBuf>,
    },
    QueryList {
        config: Config,
    },
    Query {
        config: Config,
        as_of: NaiveDate,
        name: String,
        params: Vec<(String, String)>,
        answer: AnswerOptions,
    },
    Sql {
        config: Config,
        as_of: NaiveDate,
        query: String,
        answer: AnswerOptions,
    },
    Report {
        config: Config,
        as_of: NaiveDate,
        /// `None`: the employee assessment.
        kind: Option<ReportKind>,
        period: Period,
        out: PathBuf,
        options: crate::pipeline::ReportOptions,
    },
    Templates {
        out: PathBuf,
    },
    Forecast {
        config: Config,
        as_of: NaiveDate,
        last: Period,
        by: Option<String>,
        months: usize,
        json: bool,
    },
    Run {
        config: PathBuf,
        pipeline: PathBuf,
        period: Option<String>,
        as_of: NaiveDate,
        log: crate::run::LogFormat,
    },
    Runs {
        config: Config,
        run: Option<i64>,
        last: usize,
        answer: AnswerOptions,
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
/// The format asked for, else the one `out`'s extension names, else a table.
fn export_format(format: Option<ExportFormat>, out: Option<&std::path::Path>) -> ExportFormat {
    format
        .or_else(|| out.and_then(ExportFormat::from_path))
        .unwrap_or(ExportFormat::Table)
}

/// How an answer is written. The rows it shows: a terminal table the first
/// ones unless told; a file or a machine format never loses rows silently.
fn answer_options(args: AnswerArgs) -> AnswerOptions {
    let format = export_format(args.format, args.out.as_deref());
    let limit = match (args.limit, format, args.out.is_some()) {
        (Some(0), _, _) => None,
        (Some(n), _, _) => Some(n),
        (None, ExportFormat::Table, false) => Some(crate::export::TABLE_ROWS),
        (None, _, _) => None,
    };
    AnswerOptions {
        format,
        out: args.out,
        limit,
    }
}

/// The most periods one `kpi` command asks for.
const MAX_PERIODS: usize = 400;

/// The periods from `from` to `to`, both included, of one grain.
fn series_between(from: Period, to: Period) -> Result<Vec<Period>> {
    if from.grain() != to.grain() {
        return Err(Error::config_hint(
            format!(
                "`--from {from}` is a {} but `--to {to}` a {}",
                from.grain().name(),
                to.grain().name()
            ),
            "give both ends in one grain, e.g. --from 2024-01 --to 2026-10",
        ));
    }
    if from.start() > to.start() {
        return Err(Error::config_hint(
            format!("`--from {from}` comes after `--to {to}`"),
            "give the earlier period first",
        ));
    }
    let mut periods = vec![to];
    while periods.last().expect("one at least").start() > from.start() {
        if periods.len() == MAX_PERIODS {
            return Err(Error::config_hint(
                format!("`--from {from} --to {to}` spans more than {MAX_PERIODS} periods"),
                "ask for a coarser grain or a shorter span",
            ));
        }
        let before = periods.last().expect("one at least").previous();
        periods.push(before);
    }
    periods.reverse();
    Ok(periods)
}

/// The project's catalogue when there is a project here, else the built-in one.
fn project_catalogue(config: &std::path::Path) -> Result<crate::indicators::Catalogue> {
    if config.exists() {
        Config::load(config)?.catalogue()
    } else {
        Ok(crate::indicators::Catalogue::builtin())
    }
}

fn last_complete(grain: Grain, as_of: NaiveDate, calendar: impl Into<Calendar>) -> Period {
    Period::last_complete(grain, as_of, calendar)
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
            Command::Kpi(args) if args.list => Task::ListIndicators {
                catalogue: project_catalogue(&cli.global.config)?,
            },
            Command::Explain { id } => {
                let (catalogue, offset_seconds) = if cli.global.config.exists() {
                    let config = Config::load(&cli.global.config)?;
                    (
                        config.catalogue()?,
                        crate::config::parse_offset(&config.company.timezone)?,
                    )
                } else {
                    (crate::indicators::Catalogue::builtin(), 0)
                };
                Task::Explain {
                    catalogue,
                    id,
                    offset_seconds,
                }
            }
            Command::Kpi(args) => {
                let config = compute_config(&cli.global.config, args.engine, args.data.clone())?;
                if args.indicators.is_empty() {
                    return Err(Error::config_hint(
                        "name at least one indicator",
                        "`opskpi kpi --list` shows them",
                    ));
                }
                let fiscal = config.calendar();
                let grain = args.grain.as_deref().map(Grain::parse).transpose()?;
                if let Some(grain) = grain {
                    fiscal.check_grain(grain)?;
                }
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
                    (None, grain) => last_complete(
                        grain.unwrap_or(fiscal.default_grain(Grain::Month)),
                        today,
                        fiscal,
                    ),
                };
                let periods = match &args.from {
                    None => {
                        if args.periods == 0 || args.periods > MAX_PERIODS {
                            return Err(Error::config_hint(
                                "`--periods` is out of range",
                                format!("give 1 to {MAX_PERIODS}"),
                            ));
                        }
                        period.series(args.periods)
                    }
                    Some(from) => {
                        let from = Period::parse(from, fiscal)?;
                        let to = match (&args.to, &args.period) {
                            (Some(to), _) => Period::parse(to, fiscal)?,
                            (None, Some(_)) => period,
                            (None, None) => last_complete(from.grain(), today, fiscal),
                        };
                        series_between(from, to)?
                    }
                };
                let request = KpiRequest {
                    indicators: args.indicators,
                    periods,
                    dims: args.by,
                };
                let format = export_format(args.format, args.out.as_deref());
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
                        as_of: today,
                        name,
                        params: args.params,
                        answer: answer_options(args.answer),
                    },
                    _ => Task::QueryList { config },
                }
            }
            Command::Forecast(args) => {
                let config = Config::load(&cli.global.config)?;
                let fiscal = config.calendar();
                let last = match &args.period {
                    Some(text) => Period::parse(text, fiscal)?,
                    None => last_complete(fiscal.default_grain(Grain::Month), today, fiscal),
                };
                if !matches!(last.grain(), Grain::Month | Grain::RetailMonth) {
                    return Err(Error::config_hint(
                        format!("`--period {last}` is not a month"),
                        "give the last month of history, e.g. --period 2026-10",
                    ));
                }
                if !(1..=24).contains(&args.months)
                    || !matches!(args.format.as_str(), "table" | "json")
                {
                    return Err(Error::config_hint(
                        "`--months` is 1 to 24 and `--format` table or json",
                        "e.g. opskpi forecast --months 3 --format json",
                    ));
                }
                Task::Forecast {
                    config,
                    as_of: today,
                    last,
                    by: args.by,
                    months: args.months,
                    json: args.format == "json",
                }
            }
            Command::Run(args) => Task::Run {
                config: cli.global.config.clone(),
                pipeline: args.pipeline,
                period: args.period,
                as_of: today,
                log: args.log_format,
            },
            Command::Runs(args) => Task::Runs {
                config: Config::load(&cli.global.config)?,
                run: args.run,
                last: args.last,
                answer: answer_options(args.answer),
            },
            Command::Sql(args) => Task::Sql {
                config: Config::load(&cli.global.config)?,
                as_of: today,
                query: args.query,
                answer: answer_options(args.answer),
            },
            Command::Report(command) => {
                let (kind, args) = match command {
                    ReportCommand::Monthly(args) => (Some(ReportKind::Monthly), args),
                    ReportCommand::Quarterly(args) => (Some(ReportKind::Quarterly), args),
                    ReportCommand::Yearly(args) => (Some(ReportKind::Yearly), args),
                    ReportCommand::Assessment(args) => (None, args),
                };
                let config = compute_config(&cli.global.config, args.engine, args.data.clone())?;
                let fiscal = config.calendar();
                let period = match &args.period {
                    Some(text) => Period::parse(text, fiscal)?,
                    None => {
                        // The assessment's ratings come quarterly.
                        let grain = match kind {
                            Some(ReportKind::Monthly) => Grain::Month,
                            Some(ReportKind::Quarterly) | None => Grain::Quarter,
                            Some(ReportKind::Yearly) => Grain::Year,
                        };
                        last_complete(fiscal.default_grain(grain), today, fiscal)
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

/// The configuration of a command that computes indicators, with its
/// `--engine` and `--data`. With `--data` a missing config file is no
/// error: the folder's files are all there is, on the default settings.
fn compute_config(
    path: &std::path::Path,
    engine: Option<crate::engine::EngineKind>,
    data: Option<PathBuf>,
) -> Result<Config> {
    let mut config = if data.is_some() && !path.exists() {
        Config::with_root(&std::env::current_dir()?)
    } else {
        Config::load(path)?
    };
    if let Some(engine) = engine {
        config.engine = engine;
    }
    config.data = data;
    Ok(config)
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
