//! How one source is read: its kind, text encoding and dialect, where each
//! canonical column comes from, how ambiguous dates read, what happens to
//! repeated keys and bad rows, and a PostgreSQL table or query.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::is_default;
use crate::error::{Error, Result};
use crate::model;

/// The kind of a source; guessed from the file extension when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Delimited text: CSV, TSV, semicolon or pipe separated.
    Csv,
    /// An Excel (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`) or OpenDocument workbook.
    Excel,
    /// A JSON array of objects, or newline-delimited JSON (one object a line).
    Json,
    Parquet,
    /// A PostgreSQL table or query (`[sources.postgres]`).
    Postgres,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Excel => "excel",
            Format::Json => "json",
            Format::Parquet => "parquet",
            Format::Postgres => "postgres",
        }
    }

    /// The format a file name's extension implies.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match extension.as_str() {
            "csv" | "txt" | "tsv" | "tab" => Some(Format::Csv),
            "xlsx" | "xlsm" | "xlsb" | "xls" | "xla" | "ods" => Some(Format::Excel),
            "json" | "ndjson" | "jsonl" => Some(Format::Json),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }
}

/// How dates whose order the text alone cannot tell are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// Year first; `10/03/2026` and two-digit years are refused as ambiguous.
    #[default]
    Ymd,
    /// `10/03/2026` is 3 October 2026.
    Mdy,
    /// `10/03/2026` is 10 March 2026.
    Dmy,
    /// Two-digit years are Republic of China years too (`99/12/31` is 2010-12-31).
    Roc,
}

/// What happens to rows of one source that repeat a natural key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicatePolicy {
    /// Every row of a repeated key goes to quarantine; the others load.
    #[default]
    Quarantine,
    /// The last row of the file with that key loads; the earlier ones are
    /// recorded as superseded.
    KeepLast,
    /// The whole file is refused.
    Refuse,
}

/// How many bad rows a file may have before it is refused instead of
/// loaded with those rows in quarantine: a count (`0` refuses any bad row)
/// or a share of the file's rows (`"1%"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ThresholdText", into = "ThresholdText")]
pub enum Threshold {
    Rows(u64),
    Percent(Decimal),
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::Percent(Decimal::ONE)
    }
}

impl Threshold {
    /// Whether `bad` of `rows` rows is more than allowed.
    pub fn exceeded(self, bad: u64, rows: u64) -> bool {
        match self {
            Threshold::Rows(limit) => bad > limit,
            Threshold::Percent(percent) => {
                Decimal::from(bad) * Decimal::ONE_HUNDRED > percent * Decimal::from(rows)
            }
        }
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Threshold::Rows(limit) => write!(f, "{limit} rows"),
            Threshold::Percent(percent) => write!(f, "{}%", percent.normalize()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum ThresholdText {
    Rows(u64),
    Text(String),
}

impl TryFrom<ThresholdText> for Threshold {
    type Error = String;
    fn try_from(text: ThresholdText) -> std::result::Result<Self, String> {
        match text {
            ThresholdText::Rows(rows) => Ok(Threshold::Rows(rows)),
            ThresholdText::Text(text) => {
                let bad = || format!("`{text}` is not a row count or a percentage like \"1%\"");
                match text.trim().strip_suffix('%') {
                    Some(number) => {
                        let percent: Decimal = number.trim().parse().map_err(|_| bad())?;
                        if percent.is_sign_negative() || percent > Decimal::ONE_HUNDRED {
                            return Err(bad());
                        }
                        Ok(Threshold::Percent(percent))
                    }
                    None => text.trim().parse().map(Threshold::Rows).map_err(|_| bad()),
                }
            }
        }
    }
}

impl From<Threshold> for ThresholdText {
    fn from(threshold: Threshold) -> Self {
        match threshold {
            Threshold::Rows(rows) => ThresholdText::Rows(rows),
            Threshold::Percent(percent) => ThresholdText::Text(format!("{}%", percent.normalize())),
        }
    }
}

/// Where one canonical column's values come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ColumnSpec {
    /// The file's column of this name.
    Name(String),
    Detail(ColumnDetail),
}

/// A column, a constant or an expression, with an optional map of words.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDetail {
    /// The file's column; found by name or the built-in dictionary when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The same value for every row (a file that is all one channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant: Option<String>,
    /// Arithmetic over the file's numeric columns: `金額 - 毛利`, `` `Unit Price` * Qty ``.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    /// The file's words → canonical words (`Consumer = "retail"`), before the built-in ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// How numbers with more decimals than the column keeps are read (the
    /// source's `decimals` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<Decimals>,
    /// Values opskpi makes itself: `line_no = { generate = "per_order" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<Generate>,
}

/// How a number with more decimals than its column keeps is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decimals {
    /// Refused: the row goes to quarantine (a value is never guessed).
    #[default]
    Exact,
    /// Rounded to the column's decimals when it lies within 1e-9 of such a
    /// number — a binary float's artifact (`31.159999999999997` for
    /// 31.16) — and refused otherwise (`31.156` in a 2-decimal column).
    Round,
}

/// A value opskpi generates instead of reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Generate {
    /// `sales.line_no`: the line's position within its order, in file order.
    PerOrder,
}

/// A source-level row filter: only rows whose file `column` passes the one
/// test given are loaded; the others are counted as left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowFilter {
    /// The file's column (its header), before any mapping.
    pub column: String,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "in")]
    pub is_in: Option<Vec<FilterValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in: Option<Vec<FilterValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<FilterValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<FilterValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greater_than: Option<FilterValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<FilterValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than: Option<FilterValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<FilterValue>,
}

/// A value a filter compares with: text, a number or a date, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FilterValue {
    Integer(i64),
    Float(f64),
    Date(toml::value::Datetime),
    Text(String),
}

impl FilterValue {
    /// The value as text: what a file's cell is compared with.
    pub fn text(&self) -> String {
        match self {
            FilterValue::Integer(n) => n.to_string(),
            FilterValue::Float(x) => x.to_string(),
            FilterValue::Date(date) => date.to_string(),
            FilterValue::Text(text) => text.clone(),
        }
    }
}

/// The test of one row filter.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterTest {
    In(Vec<String>),
    NotIn(Vec<String>),
    Equals(String),
    NotEquals(String),
    /// A comparison (`>`, `>=`, `<`, `<=`) with a number or a date.
    Compare(&'static str, String),
}

impl RowFilter {
    /// The one test given, or why the filter is not one.
    pub fn test(&self) -> std::result::Result<FilterTest, String> {
        let texts = |values: &Vec<FilterValue>| values.iter().map(FilterValue::text).collect();
        let mut tests = Vec::new();
        if let Some(values) = &self.is_in {
            tests.push(FilterTest::In(texts(values)));
        }
        if let Some(values) = &self.not_in {
            tests.push(FilterTest::NotIn(texts(values)));
        }
        if let Some(value) = &self.equals {
            tests.push(FilterTest::Equals(value.text()));
        }
        if let Some(value) = &self.not_equals {
            tests.push(FilterTest::NotEquals(value.text()));
        }
        for (op, value) in [
            (">", &self.greater_than),
            (">=", &self.at_least),
            ("<", &self.less_than),
            ("<=", &self.at_most),
        ] {
            if let Some(value) = value {
                tests.push(FilterTest::Compare(op, value.text()));
            }
        }
        match tests.len() {
            1 => Ok(tests.remove(0)),
            0 => Err(format!("the filter on `{}` gives no test", self.column)),
            _ => Err(format!(
                "the filter on `{}` gives more than one test",
                self.column
            )),
        }
    }

    /// How the load summary says it: `order_status not in (canceled, unavailable)`.
    pub fn describe(&self) -> String {
        let column = &self.column;
        match self.test() {
            Ok(FilterTest::In(values)) => format!("`{column}` in ({})", values.join(", ")),
            Ok(FilterTest::NotIn(values)) => format!("`{column}` not in ({})", values.join(", ")),
            Ok(FilterTest::Equals(value)) => format!("`{column}` = {value}"),
            Ok(FilterTest::NotEquals(value)) => format!("`{column}` ≠ {value}"),
            Ok(FilterTest::Compare(op, value)) => format!("`{column}` {op} {value}"),
            Err(_) => format!("`{column}`"),
        }
    }
}

/// One filter or several, all of which a kept row passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Filters {
    One(Box<RowFilter>),
    All(Vec<RowFilter>),
}

impl Filters {
    pub fn list(&self) -> &[RowFilter] {
        match self {
            Filters::One(filter) => std::slice::from_ref(&**filter),
            Filters::All(filters) => filters,
        }
    }
}

impl ColumnSpec {
    pub fn detail(&self) -> ColumnDetail {
        match self {
            ColumnSpec::Name(name) => ColumnDetail {
                column: Some(name.clone()),
                ..ColumnDetail::default()
            },
            ColumnSpec::Detail(detail) => detail.clone(),
        }
    }
}

/// A PostgreSQL table or query. The connection string comes from `url_env`
/// (an environment variable, the safer place) or `url`; it is never printed,
/// not even by `Debug`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// A table (`schema.table` or `table`), or
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// a query whose result is the rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// A column that grows with every change (`updated_at`, an id): each
    /// load then reads only the rows past the last value loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
    /// TLS: `disable`, `prefer`, `require`, `verify-ca` or `verify-full`;
    /// else the connection string's own `sslmode`, else `prefer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sslmode: Option<String>,
    /// The PEM file of the certificate authority that signed the server's
    /// certificate (else the string's `sslrootcert`, else the system's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for PostgresSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSource")
            .field("url", &self.url.as_ref().map(|_| "(hidden)"))
            .field("url_env", &self.url_env)
            .field("table", &self.table)
            .field("query", &self.query)
            .field("watermark", &self.watermark)
            .field("sslmode", &self.sslmode)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// One source — a file, a folder or glob of files, or a PostgreSQL table —
/// and how it maps onto a canonical table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub table: String,
    /// A file, a folder (every file in it), or a glob (`exports/sales-*.xlsx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Guessed from the extension when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// Text encoding (`utf-8`, `utf-16`, `big5`, `gbk`, `gb18030`, …); detected when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// CSV field separator; detected when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// The header's row (1-based line of a text file, row of a sheet); detected when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_row: Option<u64>,
    /// Excel: the sheet's name; the first sheet when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// How ambiguous dates are read (`ymd`, `mdy`, `dmy`, `roc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dates: Option<DateOrder>,
    /// UTC offset of timestamps written without one; default `company.timezone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Canonical column → where its values come from, where the file differs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnSpec>,
    /// Rows that repeat a natural key within the source.
    #[serde(default, skip_serializing_if = "is_default")]
    pub duplicates: DuplicatePolicy,
    /// Above this many bad rows the file is refused; below, they are quarantined.
    #[serde(default, skip_serializing_if = "is_default")]
    pub max_bad_rows: Threshold,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<PostgresSource>,
    /// Rows to load, by a test on a file column (`keep = { column =
    /// "order_status", not_in = ["canceled"] }`); the rest are left out
    /// and counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<Filters>,
    /// How numbers with more decimals than their column keeps are read:
    /// `exact` (refused, the default) or `round` (float artifacts only).
    #[serde(default, skip_serializing_if = "is_default")]
    pub decimals: Decimals,
}

/// Seconds east of UTC in an offset written `+08:00`, `-0530` or `Z`.
pub fn parse_offset(text: &str) -> Result<i32> {
    let bad = || {
        Error::config_hint(
            format!("cannot read the UTC offset `{text}`"),
            "write it like `+08:00` (Taipei) or `-05:00`; named zones are not supported",
        )
    };
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| bad())?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| bad())?
    } else {
        0
    };
    if hours > 14 || minutes > 59 {
        return Err(bad());
    }
    Ok(sign * (hours * 3600 + minutes * 60))
}

impl Source {
    /// Checks what can be checked without reading the source.
    pub fn check(&self) -> Result<()> {
        let Some(table) = model::table(&self.table) else {
            return Err(Error::config_hint(
                format!(
                    "source `{}` names unknown table `{}`",
                    self.describe(),
                    self.table
                ),
                crate::error::unknown_hint(&self.table, &model::table_names(), "tables"),
            ));
        };
        for (canonical, spec) in &self.columns {
            if table.column(canonical).is_none() {
                return Err(Error::config_hint(
                    format!(
                        "source `{}` maps unknown column `{canonical}` of `{}`",
                        self.describe(),
                        table.name
                    ),
                    format!(
                        "columns of `{}` are: {}",
                        table.name,
                        table.column_names().join(", ")
                    ),
                ));
            }
            let detail = spec.detail();
            self.check_column(table, canonical, &detail)?;
            let given = [
                detail.column.is_some(),
                detail.constant.is_some(),
                detail.expr.is_some(),
                detail.generate.is_some(),
            ]
            .iter()
            .filter(|given| **given)
            .count();
            if given > 1 {
                return Err(Error::config_hint(
                    format!(
                        "source `{}` gives `{canonical}` more than one of `column`, `constant` and `expr`",
                        self.describe()
                    ),
                    "keep one; `values` can go with any of them",
                ));
            }
        }
        for filter in self.keep.iter().flat_map(Filters::list) {
            self.check_filter(filter)?;
        }
        if let Some(timezone) = &self.timezone {
            parse_offset(timezone)?;
        }
        match (&self.path, &self.postgres, self.format) {
            (Some(_), Some(_), _) => Err(Error::config_hint(
                format!(
                    "source for `{}` has both `path` and `[sources.postgres]`",
                    self.table
                ),
                "a source reads files or a database table, not both",
            )),
            (None, None, _) => Err(Error::config_hint(
                format!("a source for `{}` has no `path`", self.table),
                "give the file, folder or glob to read, or a `[sources.postgres]` table",
            )),
            (None, Some(pg), _) => {
                if pg.table.is_some() == pg.query.is_some() {
                    return Err(Error::config_hint(
                        format!(
                            "the postgres source for `{}` needs exactly one of `table` and `query`",
                            self.table
                        ),
                        "`table = \"public.orders\"` or `query = \"select …\"`",
                    ));
                }
                if pg.url.is_some() == pg.url_env.is_some() {
                    return Err(Error::config_hint(
                        format!(
                            "the postgres source for `{}` needs exactly one of `url_env` and `url`",
                            self.table
                        ),
                        "`url_env = \"OPSKPI_PG_URL\"` keeps the password out of the file",
                    ));
                }
                Ok(())
            }
            (Some(path), None, Some(Format::Postgres)) => Err(Error::config_hint(
                format!(
                    "source `{}` says `format = \"postgres\"` but gives a path",
                    path.display()
                ),
                "describe the database table in `[sources.postgres]` instead of `path`",
            )),
            (Some(_), None, _) => Ok(()),
        }
    }

    /// What `decimals` and `generate` may apply to.
    fn check_column(
        &self,
        table: &model::Table,
        canonical: &str,
        detail: &ColumnDetail,
    ) -> Result<()> {
        let column = table.column(canonical).expect("checked by the caller");
        if detail.decimals.is_some() && !column.ty.is_number() {
            return Err(Error::config_hint(
                format!(
                    "source `{}` gives `decimals` for `{}.{canonical}`, which is not a number",
                    self.describe(),
                    table.name
                ),
                "`decimals = \"round\"` applies to number columns (amounts, quantities, costs)",
            ));
        }
        if detail.generate.is_some() && (table.name, canonical) != ("sales", "line_no") {
            return Err(Error::config_hint(
                format!(
                    "source `{}` asks to generate `{}.{canonical}`",
                    self.describe(),
                    table.name
                ),
                "only `sales.line_no` can be generated: `line_no = { generate = \"per_order\" }`",
            ));
        }
        Ok(())
    }

    /// A filter gives one test, and a comparison a number or a date.
    fn check_filter(&self, filter: &RowFilter) -> Result<()> {
        let test = filter.test().map_err(|problem| {
            Error::config_hint(
                format!("source `{}`: {problem}", self.describe()),
                "give one of `in`, `not_in`, `equals`, `not_equals`, `greater_than`, `at_least`, `less_than`, `at_most`; several filters go in a list: `keep = [{ … }, { … }]`",
            )
        })?;
        if let FilterTest::In(values) | FilterTest::NotIn(values) = &test {
            if values.is_empty() {
                return Err(Error::config_hint(
                    format!(
                        "source `{}`: the filter on `{}` gives an empty list",
                        self.describe(),
                        filter.column
                    ),
                    "list the values to keep (`in`) or to leave out (`not_in`)",
                ));
            }
        }
        if let FilterTest::Compare(op, value) = &test {
            let number = value.parse::<Decimal>().is_ok();
            let date = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok();
            if !number && !date {
                return Err(Error::config_hint(
                    format!(
                        "source `{}`: the filter `{}` {op} `{value}` compares with neither a number nor a date",
                        self.describe(),
                        filter.column
                    ),
                    "compare with a number (`greater_than = 0`) or a date (`at_least = 2026-01-01`); text takes `equals`, `in` or `not_in`",
                ));
            }
        }
        Ok(())
    }

    /// A source reading `path` into `table`, everything else detected.
    pub fn new(table: &str, path: impl Into<PathBuf>) -> Source {
        Source {
            table: table.into(),
            path: Some(path.into()),
            format: None,
            encoding: None,
            delimiter: None,
            header_row: None,
            sheet: None,
            dates: None,
            timezone: None,
            columns: BTreeMap::new(),
            duplicates: DuplicatePolicy::default(),
            max_bad_rows: Threshold::default(),
            postgres: None,
            keep: None,
            decimals: Decimals::default(),
        }
    }

    /// Maps canonical `column` onto the file's column `name`.
    pub fn map(mut self, column: &str, name: &str) -> Source {
        self.columns
            .insert(column.into(), ColumnSpec::Name(name.into()));
        self
    }

    /// What the source is called in messages: its path, or its table or
    /// query for PostgreSQL (never the connection string).
    pub fn describe(&self) -> String {
        match (&self.path, &self.postgres) {
            (Some(path), _) => path.display().to_string(),
            (None, Some(pg)) => match (&pg.table, &pg.query) {
                (Some(table), _) => format!("postgres table {table}"),
                (None, Some(_)) => format!("postgres query for {}", self.table),
                (None, None) => "postgres".into(),
            },
            (None, None) => format!("source for {}", self.table),
        }
    }

    /// The format of `file`, one of this source's files.
    pub fn format_of(&self, file: &Path) -> Result<Format> {
        if let Some(format) = self.format {
            return Ok(format);
        }
        Format::from_extension(file).ok_or_else(|| {
            Error::config_hint(
                format!("cannot tell the format of `{}`", file.display()),
                "add `format = \"csv\"` (or excel, json, parquet) to the source",
            )
        })
    }
}
