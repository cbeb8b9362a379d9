//! The command line as clap sees it: flags and their help, nothing more.
//! `settings` turns these into plain values once; commands never see clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "opskpi",
    version,
    about = "Operations KPIs for retailers: load data, compute indicators, render reports",
    after_help = "Examples:\n  opskpi demo\n  opskpi sample --out company --scale 0.1\n  opskpi ingest --config company/opskpi.toml\n  opskpi kpi market_share sales_growth --period 2026-10 --by region --format csv\n  opskpi sql \"select region, sum(net_amount) from sales group by 1\"\n  opskpi report monthly --period 2026-10 --format html,pdf --lang zh-Hant\n  opskpi run company/pipelines/monthly.toml\n  opskpi explain on_time_delivery\n  opskpi forecast --by category\n\nExit codes: 0 ok, 1 bad input or configuration, 2 internal error, 3 an alert (kpi --fail-on, a pipeline's alert step), 4 `opskpi check` found problems, 5 a pipeline could not deliver a message."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Project configuration file.
    #[arg(
        long,
        global = true,
        default_value = "opskpi.toml",
        env = "OPSKPI_CONFIG"
    )]
    pub config: PathBuf,

    /// The date the numbers are as of (YYYY-MM-DD); default today. A period
    /// running on this date is cut at it and flagged partial.
    #[arg(long, global = true, value_name = "DATE")]
    pub as_of: Option<String>,

    /// No progress output.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the sample company, load it and write its monthly report (HTML and PDF, in English and Traditional Chinese).
    #[command(
        after_help = "Example:\n  opskpi demo                 # writes opskpi-demo/ and reports/monthly-2026-10.{html,pdf} (+ .zh-Hant)"
    )]
    Demo(DemoArgs),

    /// Write the sample company's source files and an opskpi.toml that loads them.
    #[command(
        after_help = "Examples:\n  opskpi sample --out company\n  opskpi sample --out big --scale 50 --format parquet   # about 11 million order lines"
    )]
    Sample(SampleArgs),

    /// Load the configured sources into the warehouse (one transaction).
    #[command(
        after_help = "Examples:\n  opskpi ingest --config company/opskpi.toml\n  opskpi ingest --dry-run        # the mapping, the first rows as read, what would be refused\n  opskpi ingest --full           # forget what was loaded and load every source again\n  opskpi ingest --to-lake        # straight into the Parquet lake ([lake] path), no warehouse kept\n\nUnchanged files are skipped; a changed file replaces exactly the rows it brought before.\nBad rows go to quarantine (see `opskpi check`) unless a file has more than its\n`max_bad_rows`; then the whole run is refused and nothing is written."
    )]
    Ingest(IngestArgs),

    /// Check the warehouse: quarantined rows, repeated keys, date gaps, stale and missing data.
    #[command(
        after_help = "Examples:\n  opskpi check\n  opskpi check --fail-on error     # in a pipeline: exit 4 only on errors\n\nExit codes: 0 nothing found (or nothing at the --fail-on level), 4 findings, 1 bad configuration."
    )]
    Check(CheckArgs),

    /// Print indicators for a period, optionally broken down by dimensions.
    #[command(
        after_help = "Examples:\n  opskpi kpi net_sales gross_margin --period 2026-10\n  opskpi kpi market_share sales_growth --period 2026-10 --by region --format csv\n  opskpi kpi csat nps --period 2026-Q3 --by channel --format json\n  opskpi kpi sales_growth --from 2024-01 --to 2026-10 --by channel --out growth.parquet\n  opskpi kpi net_sales --period 2026-10 --by store --format xlsx --out stores.xlsx\n  opskpi kpi net_sales csat --period 2026-10 --by region --engine polars\n  opskpi kpi net_sales csat --period 2026-10 --by region --engine spark   # Spark, over [lake]\n  opskpi kpi net_sales --period 2026-10 --data exports/   # Parquet/CSV files, no ingest\n  opskpi kpi --list"
    )]
    Kpi(KpiArgs),

    /// Explain one indicator: definition, formula, dimensions, target, components and the SQL it runs.
    #[command(
        after_help = "Examples:\n  opskpi explain gross_margin\n  opskpi explain on_time_delivery --config company/opskpi.toml   # a project's own indicators too"
    )]
    Explain {
        /// The indicator's id (see `opskpi kpi --list`).
        id: String,
    },

    /// Forecast the next months of net sales, for the company or by category,
    /// with the back-tested error and a 95 % prediction interval.
    #[command(
        after_help = "Examples:\n  opskpi forecast                          # after the last complete month\n  opskpi forecast --period 2026-10 --by category --months 3\n  opskpi forecast --format json"
    )]
    Forecast(ForecastArgs),

    /// Ask the warehouse a question in SQL. It can only read: one query,
    /// no files, no writes.
    #[command(
        after_help = "Examples:\n  opskpi sql \"select region, sum(net_amount) from sales group by 1 order by 2 desc\"\n  opskpi sql \"from sales where order_date >= '2026-10-01'\" --format csv --out october.csv\n  opskpi sql \"from sales\" --out sales.parquet          # every row, streamed, exact decimals\n  opskpi sql \"show tables\"\n  opskpi sql \"describe sales\""
    )]
    Sql(SqlArgs),

    /// Run a saved query (queries/saved/, or the project's `[queries] folder`)
    /// with typed parameters; it can only read.
    #[command(
        after_help = "Examples:\n  opskpi query --list\n  opskpi query top_products --param period=2026-10 --param n=20\n  opskpi query customers_at_risk --param as_of=2026-10-31 --format csv --out at-risk.csv\n  opskpi query top_products --param period=2026-10 --param n=20 --format xlsx --out top.xlsx"
    )]
    Query(QueryArgs),

    /// Render a report.
    #[command(subcommand)]
    Report(ReportCommand),

    /// Run a pipeline file: ingest, check, kpi, report, export and alert
    /// steps for one period, recorded in the warehouse.
    #[command(
        after_help = "Examples:\n  opskpi run pipelines/monthly.toml                    # the file's period rule\n  opskpi run pipelines/monthly.toml --period 2026-10   # a given period\n  opskpi run pipelines/monthly.toml --log-format json  # JSON lines on stderr for a log collector\n  opskpi run pipelines/monthly.toml --dry-run          # messages written as .eml files, none sent\n  opskpi run pipelines/monthly.toml --resend           # send again what was already sent\n\nExit codes: 0 every step ran, 3 an alert fired, 4 the check step failed,\n5 a message could not be delivered, 1 a step failed on bad input or\nconfiguration, 2 an internal error. A second run loads nothing new, writes\nthe same files and sends nothing already sent."
    )]
    Run(RunArgs),

    /// List pipeline runs (latest first), or one run's steps.
    #[command(
        after_help = "Examples:\n  opskpi runs\n  opskpi runs --run 12            # its steps (timings, outputs, messages) and deliveries\n  opskpi runs --run 12 --deliveries --format csv\n  opskpi runs --format json --last 100"
    )]
    Runs(RunsArgs),

    /// Serve the tables and the indicators over the PostgreSQL protocol, to
    /// BI tools (Power BI, Excel, Tableau, Metabase, DBeaver) and notebooks.
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  opskpi serve passwd ana                 # the verifier to put under [serve.users.ana]\n  opskpi serve --config opskpi.toml       # listens on 127.0.0.1:5433 by default\n  psql \"host=127.0.0.1 port=5433 user=ana dbname=opskpi sslmode=require\"\n    => select region, value, status from kpi('net_sales', '2026-10', by := 'region');\n\nUsers, TLS and limits are in [serve] of opskpi.toml (docs/serve.md). The server\nanswers from a copy of the warehouse made after each load, reloads its\nconfiguration on SIGHUP and stops on SIGTERM within serve.grace_seconds."
    )]
    Serve(ServeArgs),

    /// The Parquet lake of canonical tables, for the Spark engine and any
    /// other engine that reads Parquet.
    #[command(subcommand)]
    Lake(LakeCommand),

    /// Copy the built-in report templates into a folder to change them.
    #[command(
        after_help = "Example:\n  opskpi templates my-templates && opskpi report monthly --period 2026-10 --templates my-templates"
    )]
    Templates {
        /// Folder to write the templates into.
        out: PathBuf,
        /// Replace copies in the folder that differ from the built-in ones
        /// (changed by hand): without it they are refused, named.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Read, map and check every source and say what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Empty the warehouse and load every source again, changed or not.
    #[arg(long, conflicts_with = "dry_run")]
    pub full: bool,
    /// Load into the lake (`[lake] path`) instead of the warehouse: every
    /// source is read and checked as always, in a scratch warehouse of this
    /// run only, and the lake's changed parts written.
    #[arg(long, conflicts_with = "full")]
    pub to_lake: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The lowest finding level that makes the exit code 4.
    #[arg(long, value_enum, default_value_t = CheckLevel::Warning)]
    pub fail_on: CheckLevel,
    /// How many example rows to show per quarantine rule.
    #[arg(long, default_value_t = 3)]
    pub examples: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckLevel {
    Warning,
    Error,
    Never,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the sample company's files and warehouse.
    #[arg(long, default_value = "opskpi-demo")]
    pub dir: PathBuf,
    /// Folder for the report.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Size of the sample company (1 is about 220,000 order lines).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Folder to write into.
    #[arg(long)]
    pub out: PathBuf,
    /// Size (1 is about 220,000 order lines; lines grow linearly).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Seed: the same seed and scale give byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// File format.
    #[arg(long, value_enum, default_value_t = FileFormat::Parquet)]
    pub format: FileFormat,
    /// Replace the files of an earlier sample in the folder (without it,
    /// any file the sample would write that exists is refused).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FileFormat {
    Csv,
    Parquet,
}

/// How an answer of `sql` or `query` is written.
#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// Output format (default: the --out file's extension, else table).
    #[arg(long, value_enum)]
    pub format: Option<crate::export::ExportFormat>,
    /// At most this many rows (0: all). Default: 100 for a table on the
    /// terminal; all rows for every other format and for --out.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Write the answer to this file instead of the terminal.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// The last month of history (default: the last complete month).
    #[arg(long)]
    pub period: Option<String>,
    /// One forecast per value of this dimension (e.g. category, region).
    #[arg(long)]
    pub by: Option<String>,
    /// How many months to forecast.
    #[arg(long, default_value_t = 3)]
    pub months: usize,
    /// table or json.
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    /// The period to run for (2026-10, 2026-Q3 …), instead of the file's rule.
    #[arg(long)]
    pub period: Option<String>,
    /// How the log on stderr is written.
    #[arg(long, value_enum, default_value_t = crate::pipeline::LogFormat::Text)]
    pub log_format: crate::pipeline::LogFormat,
    /// Deliver and notify steps write each message as a file (.eml, and
    /// .webhook.json) beside the run's outputs instead of sending it.
    #[arg(long)]
    pub dry_run: bool,
    /// Send again what an earlier run of the period already sent.
    #[arg(long)]
    pub resend: bool,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Show this run's steps (and on a terminal its deliveries).
    #[arg(long)]
    pub run: Option<i64>,
    /// With --run: list the run's deliveries (one row per message and
    /// recipient: status, attempts, Message-ID) instead of its steps.
    #[arg(long, requires = "run")]
    pub deliveries: bool,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    pub last: usize,
    #[command(flatten)]
    pub answer: AnswerArgs,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query: SELECT, WITH, FROM, VALUES, DESCRIBE, SUMMARIZE or SHOW.
    pub query: String,
    #[command(flatten)]
    pub answer: AnswerArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Print the SCRAM-SHA-256 verifier of a password (asked on the
    /// terminal, or read from the first line of stdin) for [serve.users.NAME].
    #[command(
        after_help = "Examples:\n  opskpi serve passwd ana >> opskpi.toml\n  printf '%s\\n' \"$PASSWORD\" | opskpi serve passwd ana --role viewer"
    )]
    Passwd {
        /// The user's name, as the client sends it.
        name: String,
        /// analyst (read-only SQL over everything served), viewer (the
        /// indicator relations only) or hr (an analyst who also reads
        /// employees and evaluations).
        #[arg(long, default_value = "analyst")]
        role: String,
    },
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The saved query's name (see --list).
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// A parameter, NAME=VALUE; repeat for each.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// List the saved queries with their descriptions and parameters.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub answer: AnswerArgs,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.trim().to_string(), value.to_string()))
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

#[derive(Debug, Args)]
pub struct KpiArgs {
    /// Indicator ids (see --list).
    pub indicators: Vec<String>,
    /// Period: 2026-10, 2026-Q4, 2026, FY2026, 2026-W44 or 2026-10-31.
    /// Default: the last complete period of --grain on the as-of date.
    #[arg(long)]
    pub period: Option<String>,
    /// Grain when no --period is given: day, week, month (default), quarter,
    /// year or fiscal_year. A given --period carries its own grain.
    #[arg(long)]
    pub grain: Option<String>,
    /// How many periods, ending with --period (a series).
    #[arg(long, default_value_t = 1, conflicts_with = "from")]
    pub periods: usize,
    /// First period of a series (e.g. 2024-01), ending with --to.
    #[arg(long)]
    pub from: Option<String>,
    /// Last period of a series started with --from (default: --period, or
    /// the last complete period of --from's grain).
    #[arg(long, requires = "from", conflicts_with = "period")]
    pub to: Option<String>,
    /// Dimensions to break down by, comma-separated (e.g. region,channel).
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// Output format (default: the --out file's extension, else table).
    #[arg(long, value_enum)]
    pub format: Option<crate::export::ExportFormat>,
    /// List the indicators and their dimensions instead.
    #[arg(long)]
    pub list: bool,
    /// Exit with code 3 when any row has this status or worse.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Write the rows to this file instead of the terminal.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The engine that computes the indicators: duckdb or polars (default:
    /// the config's `engine`, else duckdb).
    #[arg(long, value_enum)]
    pub engine: Option<crate::config::EngineKind>,
    /// Compute from this folder of canonical files (sales.parquet,
    /// customers.csv, a folder sales/ …) instead of the warehouse: loaded in
    /// memory with ingest's checks (only the tables the indicators read),
    /// nothing written. No config needed.
    #[arg(long, value_name = "FOLDER")]
    pub data: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Warning,
    Bad,
}

#[derive(Debug, Subcommand)]
pub enum LakeCommand {
    /// Write every canonical table as Parquet (sales one file per month);
    /// months whose rows did not change are not written again, and the new
    /// export replaces the old one at once.
    #[command(
        after_help = "Examples:\n  opskpi lake export                         # to [lake] path of opskpi.toml\n  opskpi lake export --out /data/opskpi-lake\n  opskpi kpi net_sales --period 2026-10 --engine spark   # then Spark reads it ([spark], [lake])"
    )]
    Export(LakeExportArgs),
}

#[derive(Debug, Args)]
pub struct LakeExportArgs {
    /// The lake's folder (default: `[lake] path` of opskpi.toml).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The monthly operations report, as HTML and/or PDF.
    #[command(
        after_help = "Examples:\n  opskpi report monthly --period 2026-10 --out reports/\n  opskpi report monthly --period 2026-10 --format html,pdf --lang zh-Hant\n  opskpi report monthly --period 2026-10 --each region          # one edition per region\n  opskpi report monthly --format pdf --paper letter --orientation landscape\n  opskpi report monthly --period 2026-10 --engine polars\n  opskpi report monthly --period 2026-10 --engine spark --format html,pdf\n  opskpi report monthly --period 2026-10 --data exports/   # from canonical files, no warehouse"
    )]
    Monthly(ReportArgs),
    /// The quarterly report: quarters against the previous quarter and last year.
    #[command(after_help = "Example:\n  opskpi report quarterly --period 2026-Q3 --format pdf")]
    Quarterly(ReportArgs),
    /// The employee assessment of a month, quarter or year: scores, grades
    /// and ranks within teams. Kept apart: it holds personal ratings.
    #[command(
        after_help = "Examples:\n  opskpi report assessment --period 2026-Q3 --format html,pdf\n  opskpi report assessment --period 2026 --lang zh-Hant --format pdf"
    )]
    Assessment(ReportArgs),
    /// The yearly report: five years side by side.
    #[command(
        after_help = "Example:\n  opskpi report yearly --period 2025 --format pdf --paper a4 --orientation landscape"
    )]
    Yearly(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The period: a month (2026-10), a quarter (2026-Q3) or a year (2025,
    /// FY2026). Default: the last complete one before the as-of date.
    #[arg(long)]
    pub period: Option<String>,
    /// Folder to write the report into (default: report.out of the config).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Folder of templates overriding the built-in ones.
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// What to write, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "html")]
    pub format: Vec<crate::jobs::ReportFormat>,
    /// The report's language: `en` or `zh-Hant` (default: company.locale of the config).
    #[arg(long)]
    pub lang: Option<String>,
    /// The PDF's paper size.
    #[arg(long, value_enum, default_value_t)]
    pub paper: crate::report::pdf::Paper,
    /// The PDF's orientation.
    #[arg(long, value_enum, default_value_t)]
    pub orientation: crate::report::pdf::Orientation,
    /// Write one edition per value of this dimension, each with only that
    /// value's figures: region, channel, category or store.
    #[arg(long, value_name = "DIMENSION")]
    pub each: Option<String>,
    /// The engine that computes the indicators: duckdb or polars (default:
    /// the config's `engine`, else duckdb).
    #[arg(long, value_enum)]
    pub engine: Option<crate::config::EngineKind>,
    /// Compute from this folder of canonical files (sales.parquet,
    /// customers.csv, a folder sales/ …) instead of the warehouse: loaded in
    /// memory with ingest's checks, nothing written. No config needed.
    #[arg(long, value_name = "FOLDER")]
    pub data: Option<PathBuf>,
}
