//! Resolves the parsed command line once into plain settings: dates parsed,
//! the configuration loaded, defaults that depend on the clock settled. This
//! is the only place opskpi reads the clock.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};

use super::args::{
    AnswerArgs, CheckArgs, CheckLevel, Cli, Command, DemoArgs, FailOn, FileFormat, ForecastArgs,
    KpiArgs, QueryArgs, ReportArgs, ReportCommand, RunArgs, SampleArgs,
};
use crate::calendar::{self, Calendar, Grain, Period};
use crate::check::Level;
use crate::config::{self, Config, EngineKind, Format};
use crate::error::{Error, Result};
use crate::export::{self, ExportFormat};
use crate::faults::Faults;
use crate::indicators::{Catalogue, KpiRequest, Status};
use crate::ingest::IngestOptions;
use crate::jobs::{self, AnswerOptions, ReportOptions};
use crate::locale::Locale;
use crate::pipeline::LogFormat;
use crate::report::pdf::PdfOptions;
use crate::report::ReportKind;
use crate::sample::SampleSpec;

pub struct Settings {
    pub quiet: bool,
    pub task: Task,
}

/// What a command does, with everything it needs resolved.
pub enum Task {
    Demo(Demo),
    Sample { out: PathBuf, spec: SampleSpec },
    Ingest(Ingest),
    Check(Check),
    ListIndicators { catalogue: Catalogue },
    Explain(Explain),
    Kpi(Kpi),
    QueryList { config: Config },
    Query(Query),
    Sql(Sql),
    Report(Report),
    Templates { out: PathBuf, force: bool },
    Forecast(Forecast),
    Run(Run),
    Runs(Runs),
    Serve(Serve),
    Passwd { name: String, role: config::Role },
    LakeExport(LakeExport),
}

pub struct LakeExport {
    pub config: Config,
    pub as_of: NaiveDate,
    pub out: Option<PathBuf>,
}

pub struct Serve {
    pub config: Config,
    pub config_path: PathBuf,
    /// The as-of date given, else each day's own.
    pub as_of: Option<NaiveDate>,
}

pub struct Demo {
    pub dir: PathBuf,
    pub out: PathBuf,
    pub spec: SampleSpec,
    pub as_of: NaiveDate,
    pub loaded_at: NaiveDateTime,
}

pub struct Ingest {
    pub config: Config,
    pub loaded_at: NaiveDateTime,
    pub options: IngestOptions,
    /// Into the lake, through a scratch warehouse (`ingest --to-lake`).
    pub to_lake: bool,
}

pub struct Check {
    pub config: Config,
    pub as_of: NaiveDate,
    pub fail_on: Option<Level>,
    pub examples: usize,
}

pub struct Explain {
    pub catalogue: Catalogue,
    pub id: String,
    pub offset_seconds: i32,
}

pub struct Kpi {
    pub config: Config,
    pub as_of: NaiveDate,
    pub request: KpiRequest,
    pub format: ExportFormat,
    pub fail_on: Option<Status>,
    pub out: Option<PathBuf>,
}

pub struct Query {
    pub config: Config,
    pub as_of: NaiveDate,
    pub name: String,
    pub params: Vec<(String, String)>,
    pub answer: AnswerOptions,
}

pub struct Sql {
    pub config: Config,
    pub as_of: NaiveDate,
    pub query: String,
    pub answer: AnswerOptions,
}

pub struct Report {
    pub config: Config,
    pub as_of: NaiveDate,
    /// `None`: the employee assessment.
    pub kind: Option<ReportKind>,
    pub period: Period,
    pub out: PathBuf,
    pub options: ReportOptions,
}

pub struct Forecast {
    pub config: Config,
    pub as_of: NaiveDate,
    pub last: Period,
    pub by: Option<String>,
    pub months: usize,
    pub json: bool,
}

pub struct Run {
    pub config: PathBuf,
    pub pipeline: PathBuf,
    pub period: Option<String>,
    pub as_of: NaiveDate,
    pub log: LogFormat,
    pub faults: Faults,
    pub delivery: crate::delivery::Mode,
}

pub struct Runs {
    pub config: Config,
    pub listing: crate::pipeline::Listing,
    pub answer: AnswerOptions,
}

/// What every command shares: the clock's reading, the as-of date asked
/// for, and the configuration file.
struct Globals<'a> {
    now: NaiveDateTime,
    as_of: Option<NaiveDate>,
    /// The as-of date asked for, else today.
    today: NaiveDate,
    config: &'a Path,
}

impl Settings {
    pub fn resolve(cli: Cli) -> Result<Settings> {
        let now = chrono::Local::now().naive_local();
        let as_of = cli.global.as_of.as_deref().map(parse_date).transpose()?;
        let globals = Globals {
            now,
            as_of,
            today: as_of.unwrap_or(now.date()),
            config: &cli.global.config,
        };
        let task = match cli.command {
            Command::Demo(args) => Task::Demo(demo(args, &globals)),
            Command::Sample(args) => sample(args),
            Command::Ingest(args) => Task::Ingest(Ingest {
                config: jobs::load_config(globals.config)?,
                loaded_at: globals.now,
                options: IngestOptions {
                    dry_run: args.dry_run,
                    full: args.full,
                    faults: fail_points()?,
                    ..IngestOptions::default()
                },
                to_lake: args.to_lake,
            }),
            Command::Check(args) => Task::Check(check(args, &globals)?),
            Command::Kpi(args) if args.list => Task::ListIndicators {
                catalogue: project_catalogue(globals.config)?,
            },
            Command::Explain { id } => Task::Explain(explain(id, &globals)?),
            Command::Kpi(args) => Task::Kpi(kpi(args, &globals)?),
            Command::Query(args) => query(args, &globals)?,
            Command::Forecast(args) => Task::Forecast(forecast(args, &globals)?),
            Command::Run(args) => Task::Run(run(args, &globals)?),
            Command::Runs(args) => Task::Runs(Runs {
                config: jobs::load_config(globals.config)?,
                listing: match args.run {
                    None => crate::pipeline::Listing::Runs { last: args.last },
                    Some(run) if args.deliveries => crate::pipeline::Listing::Deliveries { run },
                    Some(run) => crate::pipeline::Listing::Steps { run },
                },
                answer: answer_options(args.answer),
            }),
            Command::Sql(args) => Task::Sql(Sql {
                config: jobs::load_config(globals.config)?,
                as_of: globals.today,
                query: args.query,
                answer: answer_options(args.answer),
            }),
            Command::Report(command) => Task::Report(report(command, &globals)?),
            Command::Templates { out, force } => Task::Templates { out, force },
            Command::Lake(super::args::LakeCommand::Export(args)) => Task::LakeExport(LakeExport {
                config: jobs::load_config(globals.config)?,
                as_of: globals.today,
                out: args.out,
            }),
            Command::Serve(args) => match args.command {
                Some(super::args::ServeCommand::Passwd { name, role }) => Task::Passwd {
                    name,
                    role: match role.as_str() {
                        "analyst" => config::Role::Analyst,
                        "viewer" => config::Role::Viewer,
                        "hr" => config::Role::Hr,
                        other => {
                            return Err(Error::config_hint(
                                format!("`{other}` is not a role"),
                                "analyst (read-only SQL over everything served), viewer (the indicator relations only) or hr (an analyst who also reads employees and evaluations)",
                            ))
                        }
                    },
                },
                None => {
                    let config = jobs::load_config(globals.config)?;
                    jobs::existing_path(&config)?;
                    Task::Serve(Serve {
                        config,
                        config_path: globals.config.to_path_buf(),
                        as_of: globals.as_of,
                    })
                }
            },
        };
        Ok(Settings {
            quiet: cli.global.quiet,
            task,
        })
    }
}

fn demo(args: DemoArgs, globals: &Globals) -> Demo {
    let spec = SampleSpec {
        scale: args.scale,
        // The demo's folder is the demo's own: written afresh each time.
        overwrite: true,
        ..SampleSpec::default()
    };
    // The demo is reproducible: its as-of date is the sample's last day.
    let as_of = globals.as_of.unwrap_or(spec.last_day);
    Demo {
        dir: args.dir,
        out: args.out,
        spec,
        as_of,
        // So is its load time, which the report's appendix shows.
        loaded_at: as_of.and_hms_opt(23, 59, 59).expect("a valid time"),
    }
}

fn sample(args: SampleArgs) -> Task {
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
            overwrite: args.force,
            ..SampleSpec::default()
        },
    }
}

fn check(args: CheckArgs, globals: &Globals) -> Result<Check> {
    Ok(Check {
        config: jobs::load_config(globals.config)?,
        as_of: globals.today,
        fail_on: match args.fail_on {
            CheckLevel::Warning => Some(Level::Warning),
            CheckLevel::Error => Some(Level::Error),
            CheckLevel::Never => None,
        },
        examples: args.examples,
    })
}

fn explain(id: String, globals: &Globals) -> Result<Explain> {
    let (catalogue, offset_seconds) = if globals.config.exists() {
        let config = jobs::load_config(globals.config)?;
        (
            Catalogue::of(&config)?,
            config::parse_offset(&config.company.timezone)?,
        )
    } else {
        (Catalogue::builtin(), 0)
    };
    Ok(Explain {
        catalogue,
        id,
        offset_seconds,
    })
}

fn kpi(args: KpiArgs, globals: &Globals) -> Result<Kpi> {
    let config = compute_config(globals.config, args.engine, args.data.clone())?;
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
    let period = kpi_period(args.period.as_deref(), grain, globals.today, fiscal)?;
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
                (None, None) => last_complete(from.grain(), globals.today, fiscal),
            };
            series_between(from, to)?
        }
    };
    Ok(Kpi {
        request: KpiRequest {
            indicators: args.indicators,
            periods,
            dims: args.by,
        },
        format: export_format(args.format, args.out.as_deref()),
        fail_on: args.fail_on.map(|level| match level {
            FailOn::Warning => Status::Warning,
            FailOn::Bad => Status::Bad,
        }),
        out: args.out,
        config,
        as_of: globals.today,
    })
}

/// The period of `kpi`: `--period` (of `--grain`, if both are given), else
/// the last complete period of the grain on `today`.
fn kpi_period(
    text: Option<&str>,
    grain: Option<Grain>,
    today: NaiveDate,
    fiscal: Calendar,
) -> Result<Period> {
    let Some(text) = text else {
        let grain = grain.unwrap_or(fiscal.default_grain(Grain::Month));
        return Ok(last_complete(grain, today, fiscal));
    };
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
    Ok(period)
}

fn query(args: QueryArgs, globals: &Globals) -> Result<Task> {
    let config = jobs::load_config(globals.config)?;
    Ok(match args.name {
        Some(name) if !args.list => Task::Query(Query {
            config,
            as_of: globals.today,
            name,
            params: args.params,
            answer: answer_options(args.answer),
        }),
        _ => Task::QueryList { config },
    })
}

fn forecast(args: ForecastArgs, globals: &Globals) -> Result<Forecast> {
    let config = jobs::load_config(globals.config)?;
    let fiscal = config.calendar();
    let last = match &args.period {
        Some(text) => Period::parse(text, fiscal)?,
        None => last_complete(fiscal.default_grain(Grain::Month), globals.today, fiscal),
    };
    if !matches!(last.grain(), Grain::Month | Grain::RetailMonth) {
        return Err(Error::config_hint(
            format!("`--period {last}` is not a month"),
            "give the last month of history, e.g. --period 2026-10",
        ));
    }
    if !(1..=24).contains(&args.months) || !matches!(args.format.as_str(), "table" | "json") {
        return Err(Error::config_hint(
            "`--months` is 1 to 24 and `--format` table or json",
            "e.g. opskpi forecast --months 3 --format json",
        ));
    }
    Ok(Forecast {
        config,
        as_of: globals.today,
        last,
        by: args.by,
        months: args.months,
        json: args.format == "json",
    })
}

fn run(args: RunArgs, globals: &Globals) -> Result<Run> {
    Ok(Run {
        config: globals.config.to_path_buf(),
        pipeline: args.pipeline,
        period: args.period,
        as_of: globals.today,
        log: args.log_format,
        faults: fail_points()?,
        delivery: crate::delivery::Mode {
            dry_run: args.dry_run,
            resend: args.resend,
        },
    })
}

/// The fail points a crash test sets in `OPSKPI_FAIL_POINTS` (none when
/// unset): the one place they are read.
fn fail_points() -> Result<Faults> {
    match std::env::var("OPSKPI_FAIL_POINTS") {
        Ok(text) => Faults::parse(&text),
        Err(_) => Ok(Faults::none()),
    }
}

fn report(command: ReportCommand, globals: &Globals) -> Result<Report> {
    let (kind, args) = match command {
        ReportCommand::Monthly(args) => (Some(ReportKind::Monthly), args),
        ReportCommand::Quarterly(args) => (Some(ReportKind::Quarterly), args),
        ReportCommand::Yearly(args) => (Some(ReportKind::Yearly), args),
        ReportCommand::Assessment(args) => (None, args),
    };
    let config = compute_config(globals.config, args.engine, args.data.clone())?;
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
            last_complete(fiscal.default_grain(grain), globals.today, fiscal)
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| config.resolve(&config.report.out));
    let options = report_options(args, &config)?;
    Ok(Report {
        config,
        as_of: globals.today,
        kind,
        period,
        out,
        options,
    })
}

/// How a report is rendered: formats, language, templates, paper, editions.
fn report_options(args: ReportArgs, config: &Config) -> Result<ReportOptions> {
    let folder = args.templates.clone().or_else(|| config.templates_folder());
    let lang = args
        .lang
        .as_deref()
        .map(|tag| Locale::find(tag, folder.as_deref()))
        .transpose()?;
    Ok(ReportOptions {
        formats: args.format,
        lang,
        templates: args.templates,
        pdf: PdfOptions {
            paper: args.paper,
            orientation: args.orientation,
        },
        each: args.each,
    })
}

fn parse_date(text: &str) -> Result<NaiveDate> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Error::config_hint(
            format!("cannot read date `{text}`"),
            "write it as YYYY-MM-DD",
        )
    })?;
    calendar::check_year(date, &format!("the date `{text}`"))?;
    Ok(date)
}

/// The format asked for, else the one `out`'s extension names, else a table.
fn export_format(format: Option<ExportFormat>, out: Option<&Path>) -> ExportFormat {
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
        (None, ExportFormat::Table, false) => Some(export::TABLE_ROWS),
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
fn project_catalogue(config: &Path) -> Result<Catalogue> {
    if config.exists() {
        Catalogue::of(&jobs::load_config(config)?)
    } else {
        Ok(Catalogue::builtin())
    }
}

/// The last period of `grain` that is complete on `as_of`.
fn last_complete(grain: Grain, as_of: NaiveDate, calendar: impl Into<Calendar>) -> Period {
    Period::last_complete(grain, as_of, calendar)
}

/// The configuration of a command that computes indicators, with its
/// `--engine` and `--data`. With `--data` a missing config file is no
/// error: the folder's files are all there is, on the default settings.
fn compute_config(
    path: &Path,
    engine: Option<EngineKind>,
    data: Option<PathBuf>,
) -> Result<Config> {
    let mut config = if data.is_some() && !path.exists() {
        Config::with_root(&std::env::current_dir()?)
    } else {
        jobs::load_config(path)?
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
