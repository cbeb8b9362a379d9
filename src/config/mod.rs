//! A project's `opskpi.toml`: the company, the warehouse, the sources and the
//! report settings. Paths in the file are relative to the file itself, so a
//! project folder can be moved or run from anywhere.
//!
//! Plain data at the bottom of the layers: what can be checked from the file
//! alone is checked here; its language and its own indicators are checked
//! where a project is opened (`jobs::load_config`), by the layers that know
//! them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, Retail, YearEnd};
use crate::error::{Error, Result};

mod assessment;
mod delivery;
mod serve;
mod source;
mod spark;

pub use assessment::{AssessmentConfig, Grade, CRITERIA, PARTS, RATERS};
pub use delivery::{is_loopback, DeliveryConfig, Security, SmtpConfig};
pub use serve::{Role, Scope, ScopeKind, ServeConfig, ServeUser};
pub use source::{
    parse_offset, ColumnDetail, ColumnSpec, DateOrder, Decimals, DuplicatePolicy, FilterTest,
    Filters, Format, Generate, PostgresSource, RowFilter, Source, Threshold,
};
pub use spark::{LakeConfig, SparkConfig};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub company: Company,
    #[serde(default)]
    pub warehouse: WarehouseConfig,
    #[serde(default)]
    pub report: ReportConfig,
    #[serde(default, rename = "sources")]
    pub sources: Vec<Source>,
    /// Per-indicator target overrides.
    #[serde(default)]
    pub targets: BTreeMap<String, TargetOverride>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub check: CheckConfig,
    /// The limits of ad-hoc SQL (`opskpi sql`, saved queries, exports).
    #[serde(default, skip_serializing_if = "is_default")]
    pub sql: SqlConfig,
    #[serde(default, skip_serializing_if = "is_default")]
    pub queries: QueriesConfig,
    #[serde(default, skip_serializing_if = "is_default")]
    pub indicators: IndicatorsConfig,
    #[serde(default, skip_serializing_if = "is_default")]
    pub calendar: CalendarConfig,
    #[serde(default, skip_serializing_if = "is_default")]
    pub assessment: AssessmentConfig,
    /// The engine that computes indicators: `duckdb` (default) or `polars`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub engine: EngineKind,
    /// The mail server reports and alerts are sent through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub delivery: DeliveryConfig,
    /// `opskpi serve`: where it listens, its certificate, its users.
    #[serde(default, skip_serializing_if = "is_default")]
    pub serve: ServeConfig,
    /// The Spark engine's Spark Connect server.
    #[serde(default, skip_serializing_if = "is_default")]
    pub spark: SparkConfig,
    /// The Parquet lake of canonical tables (`opskpi lake export`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub lake: LakeConfig,
    /// A folder of canonical files to read instead of the warehouse
    /// (`--data`): loaded into memory with ingest's checks, nothing kept.
    #[serde(skip)]
    pub data: Option<PathBuf>,
    /// The folder the file lives in; relative paths resolve against it.
    #[serde(skip)]
    pub root: PathBuf,
}

/// Which engine computes the indicators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// SQL in the DuckDB warehouse (the default).
    #[default]
    Duckdb,
    /// Polars lazy frames over the warehouse's tables.
    Polars,
    /// The same SQL on Apache Spark through Spark Connect, over the lake.
    Spark,
}

impl EngineKind {
    /// Every engine, in the order `--help` lists them.
    pub const ALL: [EngineKind; 3] = [EngineKind::Duckdb, EngineKind::Polars, EngineKind::Spark];

    /// The engine's name in `opskpi.toml`, on the command line and in
    /// report manifests.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Duckdb => "duckdb",
            EngineKind::Polars => "polars",
            EngineKind::Spark => "spark",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Company {
    pub name: String,
    /// ISO 4217 code shown next to money.
    pub currency: String,
    /// `en` or `zh-Hant`.
    pub locale: String,
    /// First month of the fiscal year, 1 (January) to 12.
    pub fiscal_year_start: u32,
    /// UTC offset of timestamps written without one (`+08:00`).
    #[serde(default = "default_timezone")]
    pub timezone: String,
}

fn default_timezone() -> String {
    "+00:00".into()
}

impl Default for Company {
    fn default() -> Self {
        Company {
            name: "Company".into(),
            currency: "TWD".into(),
            locale: "en".into(),
            fiscal_year_start: 1,
            timezone: default_timezone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarehouseConfig {
    pub path: PathBuf,
    /// DuckDB's memory limit (`"1.5GB"`); past it, large loads spill to
    /// `temp_directory`. 1.5 GB keeps a 10M-line load under 2 GB of memory.
    #[serde(
        default = "default_memory_limit",
        skip_serializing_if = "is_default_memory_limit"
    )]
    pub memory_limit: String,
    /// Where DuckDB spills; default `<warehouse>.tmp` beside the warehouse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_directory: Option<PathBuf>,
    /// How long a command waits for the warehouse while another program
    /// holds it (a load, or readers when loading), in seconds.
    #[serde(
        default = "default_wait_seconds",
        skip_serializing_if = "is_default_wait_seconds"
    )]
    pub wait_seconds: u64,
}

fn default_wait_seconds() -> u64 {
    30
}

fn is_default_wait_seconds(seconds: &u64) -> bool {
    *seconds == default_wait_seconds()
}

fn default_memory_limit() -> String {
    "1.5GB".into()
}

fn is_default_memory_limit(limit: &String) -> bool {
    *limit == default_memory_limit()
}

pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl Default for WarehouseConfig {
    fn default() -> Self {
        WarehouseConfig {
            path: "warehouse.duckdb".into(),
            memory_limit: default_memory_limit(),
            temp_directory: None,
            wait_seconds: default_wait_seconds(),
        }
    }
}

/// What one question through the SQL door may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqlConfig {
    /// A query running longer is interrupted, with an error that says so.
    pub timeout_seconds: u64,
    /// DuckDB's memory limit for the query (`"1.5GB"`).
    pub memory_limit: String,
}

impl Default for SqlConfig {
    fn default() -> Self {
        SqlConfig {
            timeout_seconds: 300,
            memory_limit: default_memory_limit(),
        }
    }
}

impl SqlConfig {
    /// Refuses a time limit of 0 and a memory limit DuckDB would not read.
    pub fn check(&self) -> Result<()> {
        if self.timeout_seconds == 0 {
            return Err(Error::config_hint(
                "`sql.timeout_seconds` is 0",
                "give the seconds a query may run, e.g. 300",
            ));
        }
        check_memory_limit("sql.memory_limit", &self.memory_limit)
    }
}

/// A memory limit as DuckDB reads it: a number and a unit (`1.5GB`, `512MB`).
pub fn check_memory_limit(key: &str, limit: &str) -> Result<()> {
    let number = limit
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .trim();
    let unit = limit.trim()[number.len()..].trim().to_ascii_uppercase();
    let known = ["B", "KB", "MB", "GB", "TB", "KIB", "MIB", "GIB", "TIB"];
    let valid = number
        .parse::<f64>()
        .is_ok_and(|n| n > 0.0 && n.is_finite())
        && known.contains(&unit.as_str());
    if valid {
        Ok(())
    } else {
        Err(Error::config_hint(
            format!("`{key}` is `{limit}`"),
            "write it like `1.5GB` or `512MB`",
        ))
    }
}

/// Where a project keeps its own saved queries (`opskpi query`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueriesConfig {
    /// A folder of `<name>.sql` files, beside the built-in ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<PathBuf>,
}

/// The project's own indicators.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndicatorsConfig {
    /// A catalogue file of `[[indicator]]` tables, added to the built-in ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// A retail calendar of whole weeks, if the company counts in one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarConfig {
    /// `4-5-4`, `4-4-5` or `5-4-4`; none when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retail: Option<String>,
    /// The month the retail year ends in (1 = January, as the NRF's).
    pub year_end_month: u32,
    /// The weekday it ends on.
    pub year_end_weekday: String,
    /// `nearest`: that weekday nearest the month's last day; `last`: the
    /// month's last such weekday.
    pub year_end: YearEnd,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            retail: None,
            year_end_month: 1,
            year_end_weekday: "saturday".into(),
            year_end: YearEnd::Nearest,
        }
    }
}

/// What `opskpi check` counts as a problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckConfig {
    /// A table whose newest date is more than this many days before the
    /// as-of date is stale.
    pub stale_after_days: u32,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            stale_after_days: 35,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    pub out: PathBuf,
    /// Survey indicators with fewer answers are flagged low-sample.
    pub min_sample: u64,
    /// A folder of templates overriding the built-in ones, file by file.
    pub templates: Option<PathBuf>,
    /// The most highlights the first page shows (ranked by their effect on
    /// net sales); the rest are listed in the appendix.
    pub highlights: usize,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            out: "reports".into(),
            min_sample: 30,
            templates: None,
            highlights: 8,
        }
    }
}
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetOverride {
    pub target: Decimal,
    pub warning: Option<Decimal>,
}

impl Config {
    /// Reads `opskpi.toml` and checks what the file alone can tell (see
    /// `jobs::load_config` for the whole check of a project).
    pub fn load(path: &Path) -> Result<Config> {
        let text = fs_err::read_to_string(path).map_err(|error| Error::Config {
            message: error.to_string(),
            hint: Some(
                "create an `opskpi.toml`, or run `opskpi sample --out DIR` for an example project"
                    .into(),
            ),
        })?;
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::parse(&text, &path.display().to_string(), root)
    }

    /// Reads and checks an `opskpi.toml`'s text; `shown` names the file in
    /// errors, `root` is the folder its paths are relative to.
    pub fn parse(text: &str, shown: &str, root: PathBuf) -> Result<Config> {
        let mut config: Config = toml::from_str(text).map_err(|error| Error::Config {
            message: format!("`{shown}`: {error}"),
            hint: None,
        })?;
        config.root = root;
        config.check().map_err(|error| error.in_file(shown))?;
        Ok(config)
    }

    /// The configuration `opskpi demo` and tests start from.
    pub fn with_root(root: &Path) -> Config {
        Config {
            company: Company::default(),
            warehouse: WarehouseConfig::default(),
            report: ReportConfig::default(),
            sources: Vec::new(),
            targets: BTreeMap::new(),
            check: CheckConfig::default(),
            sql: SqlConfig::default(),
            queries: QueriesConfig::default(),
            indicators: IndicatorsConfig::default(),
            calendar: CalendarConfig::default(),
            assessment: Default::default(),
            engine: Default::default(),
            smtp: None,
            delivery: DeliveryConfig::default(),
            serve: ServeConfig::default(),
            spark: SparkConfig::default(),
            lake: LakeConfig::default(),
            data: None,
            root: root.to_path_buf(),
        }
    }

    pub fn check(&self) -> Result<()> {
        if !(1..=12).contains(&self.company.fiscal_year_start) {
            return Err(Error::config_hint(
                format!(
                    "`company.fiscal_year_start` is {}",
                    self.company.fiscal_year_start
                ),
                "give the first month of the fiscal year, 1 (January) to 12",
            ));
        }
        self.try_calendar()?;
        self.assessment.check()?;
        self.sql.check()?;
        delivery::check(self.smtp.as_ref(), &self.delivery)?;
        parse_offset(&self.company.timezone)?;
        self.spark.check()?;
        for source in &self.sources {
            source.check()?;
        }
        Ok(())
    }

    /// The project's calendars: its fiscal year and its retail calendar.
    pub fn calendar(&self) -> Calendar {
        self.try_calendar().expect("checked when loading")
    }

    fn try_calendar(&self) -> Result<Calendar> {
        let retail = match &self.calendar.retail {
            None => None,
            Some(pattern) => Some(Retail::new(
                pattern,
                self.calendar.year_end_month,
                &self.calendar.year_end_weekday,
                self.calendar.year_end,
            )?),
        };
        Ok(Calendar {
            fiscal_first_month: self.company.fiscal_year_start,
            retail,
        })
    }

    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        }
    }

    pub fn warehouse_path(&self) -> PathBuf {
        self.resolve(&self.warehouse.path)
    }

    /// The project's own saved queries, if configured.
    pub fn queries_folder(&self) -> Option<PathBuf> {
        self.queries.folder.as_ref().map(|f| self.resolve(f))
    }

    /// The folder of templates overriding the built-in ones, if configured.
    pub fn templates_folder(&self) -> Option<PathBuf> {
        self.report.templates.as_ref().map(|t| self.resolve(t))
    }

    /// Target overrides as (target, warning) per indicator id.
    pub fn target_overrides(&self) -> BTreeMap<String, (Decimal, Decimal)> {
        self.targets
            .iter()
            .map(|(id, over)| {
                (
                    id.clone(),
                    (over.target, over.warning.unwrap_or(over.target)),
                )
            })
            .collect()
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a config serialises")
    }
}

/// `path` with `.` and `dir/..` taken out as written (no file system
/// lookups), so logs and records show `runs/monthly/2026-10`, not
/// `pipelines/../runs/monthly/2026-10`.
pub fn normal(path: &Path) -> PathBuf {
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
