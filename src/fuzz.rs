//! Every pure reader of a user's bytes as a property over arbitrary input:
//! it must not panic, and must give either a value or a user's error (exit
//! code 1) that says where — never an internal error. The same properties
//! run in the test suite under `arbtest` with a fixed budget (and over a
//! committed corpus) and, coverage-guided, under libFuzzer in `fuzz/`
//! (CONTRIBUTING.md: Fuzzing).
//!
//! Where two readers of one thing exist, they must agree: the fast reader
//! of a plain number or an ISO date reads what the general one reads.

use arbitrary::{Result, Unstructured};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::calendar::{self, Calendar, Period, Retail, Slot, YearEnd};
use crate::config::{Config, DateOrder, Source};
use crate::error::Error;
use crate::indicators::formula::Formula;
use crate::ingest::expr::Expr;
use crate::ingest::{encoding, mapping, read, values};
use crate::locale::{self, Locale};
use crate::model;
use crate::pipeline::file::{self as pipeline_file, PipelineFile};
use crate::report::messages::Messages;
use crate::sql::saved;

/// A property over arbitrary input.
pub type Property = fn(&mut Unstructured) -> Result<()>;

/// Every property, by name (the fuzz targets and the corpus folders).
pub const PROPERTIES: [(&str, Property); 12] = [
    ("numbers", numbers),
    ("dates", dates),
    ("encodings", encodings),
    ("csv", csv),
    ("headers", headers),
    ("expressions", expressions),
    ("formulas", formulas),
    ("periods", periods),
    ("config", config),
    ("pipeline", pipeline),
    ("saved_query", saved_query),
    ("catalogue", catalogue),
];

/// A user's mistake, with a location: exit code 1 and the file named.
fn user_error(error: &Error, shown: &str) {
    assert_eq!(error.exit_code(), 1, "not a user's error: {error}");
    let text = error.to_string();
    assert!(
        text.contains(shown),
        "the error does not name `{shown}`: {text}"
    );
}

/// Text as users' files carry it: mostly the characters that matter to
/// the reader at hand, sometimes anything.
fn text(u: &mut Unstructured, alphabet: &[&str]) -> Result<String> {
    if u.ratio(1, 8)? {
        return u.arbitrary();
    }
    let mut text = String::new();
    for _ in 0..u.int_in_range(0..=24)? {
        text.push_str(u.choose(alphabet)?);
    }
    Ok(text)
}

const NUMBER: &[&str] = &[
    "0",
    "1",
    "2",
    "5",
    "9",
    "12",
    "345",
    ",",
    ".",
    "-",
    "+",
    "(",
    ")",
    " ",
    "%",
    "NT$",
    "元",
    "$",
    "１",
    "２",
    "，",
    "。",
    "e",
    "E",
    "1,234",
    "0.0001",
    "999999999999999999",
    "_",
];

/// The number readers: the general one never panics, and the fast reader
/// of a plain number reads the same value when it reads one at all.
pub fn numbers(u: &mut Unstructured) -> Result<()> {
    let text = text(u, NUMBER)?;
    let general = values::parse_number(&text);
    values::to_ascii(&text);
    for scale in [0u8, 2, 4, 6] {
        if let Some(fast) = values::plain_number(text.as_bytes(), scale) {
            let canonical = general
                .as_ref()
                .expect("the general reader reads a plain number");
            let value: Decimal = canonical.parse().expect("canonical text is a decimal");
            assert_eq!(
                Decimal::new(fast, u32::from(scale)),
                value,
                "`{text}` at scale {scale}"
            );
        }
    }
    if let Ok(canonical) = &general {
        values::decimals(canonical);
        assert!(
            canonical.parse::<Decimal>().is_ok() || canonical.len() > 28,
            "{canonical}"
        );
    }
    // `decimals = "round"`: a value it rounds has the scale's decimals at
    // most and lies within 1e-9 of what the general reader read.
    for scale in [0u32, 2, 4, 6] {
        if let Some(rounded) = values::round_artifact(&text, scale) {
            let rounded: Decimal = rounded.parse().expect("rounded text is a decimal");
            assert!(rounded.scale() <= scale, "`{text}` at {scale}: {rounded}");
            let value: Decimal = general
                .as_ref()
                .expect("only a number rounds")
                .parse()
                .expect("canonical text is a decimal");
            assert!(
                (value - rounded).abs() <= Decimal::new(1, 9),
                "`{text}` at {scale}"
            );
        }
    }
    Ok(())
}

const DATE: &[&str] = &[
    "2026", "115", "99", "1", "10", "03", "31", "02", "29", "/", "-", ".", " ", "年", "月", "日",
    "民國", "T", ":", "00", "23", "59", "+08:00", "Z", "-05", ".123456", "20261003", "46000",
];

/// The date, month and timestamp readers in every order; the fast ISO
/// reader agrees with the general one.
pub fn dates(u: &mut Unstructured) -> Result<()> {
    let text = text(u, DATE)?;
    let orders = [
        DateOrder::Ymd,
        DateOrder::Mdy,
        DateOrder::Dmy,
        DateOrder::Roc,
    ];
    for order in orders {
        let _ = values::parse_date(&text, order);
        let _ = values::parse_month(&text, order);
        let offset = u.int_in_range(-14 * 3600..=14 * 3600)?;
        let _ = values::parse_timestamp(&text, order, offset);
    }
    if let Some(days) = values::iso_date_days(text.as_bytes()) {
        let date = values::parse_date(&text, DateOrder::Ymd).expect("the general reader reads ISO");
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
        assert_eq!((date - epoch).num_days(), i64::from(days), "`{text}`");
    }
    Ok(())
}

/// Encoding detection and decoding of a file's first bytes.
pub fn encodings(u: &mut Unstructured) -> Result<()> {
    let label: Option<String> = u.arbitrary()?;
    let complete: bool = u.arbitrary()?;
    let bytes: Vec<u8> = u.arbitrary()?;
    let _ = encoding::by_label(label.as_deref().unwrap_or("utf-8"));
    let score = |text: &str| read::csv::header_score(text, &|cell| cell.len() == 5);
    match encoding::detect(label.as_deref(), &bytes, complete, &score) {
        Ok(detected) => {
            detected.describe();
            let _ = encoding::decode_sample(&bytes, detected.encoding, complete);
        }
        Err(error) => assert_eq!(error.exit_code(), 1, "{error}"),
    }
    Ok(())
}

const CSV: &[&str] = &[
    "order_id",
    "訂單編號",
    "net_amount",
    ",",
    ";",
    "\t",
    "|",
    "\"",
    "\"\"",
    "\n",
    "\r\n",
    " ",
    "a",
    "1",
    "2026-10-03",
    "Sales report",
    "\u{feff}",
];

/// The CSV diagnosis: delimiter and header found in a sample's text, and
/// headers cleaned.
pub fn csv(u: &mut Unstructured) -> Result<()> {
    let text = text(u, CSV)?;
    let known =
        |cell: &str| mapping::canonical_word("sales.channel", cell).is_some() || cell.contains('_');
    read::csv::header_score(&text, &known);
    let rows: Vec<Vec<String>> = text
        .lines()
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect();
    if !rows.is_empty() {
        let header = read::find_header(&rows, &known);
        assert!(header < rows.len());
        let cleaned = read::clean_headers(&rows[header]);
        assert_eq!(cleaned.len(), rows[header].len());
    }
    Ok(())
}

/// Header cells: the CSV's pieces and the words of amounts before and after
/// tax (`tax.rs` asks rather than guess).
const HEADER: &[&str] = &[
    "order_id",
    "訂單編號",
    "net_amount",
    "金額",
    "稅額",
    "含稅",
    "未稅",
    "金額",
    "價稅合計",
    "單價",
    "Net",
    "Amount",
    "incl",
    "Internet",
    " ",
    "(",
    ")",
    "a",
    "1",
    ",",
    "\u{feff}",
];

/// Headers mapped onto every canonical table, words onto canonical words.
pub fn headers(u: &mut Unstructured) -> Result<()> {
    let table = u.choose(model::TABLES)?;
    let headers: Vec<String> = (0..u.int_in_range(0..=12)?)
        .map(|_| text(u, HEADER))
        .collect::<Result<_>>()?;
    let mut source = Source::new(table.name, "fuzz.csv");
    if u.arbitrary()? {
        let column = u.choose(table.columns)?;
        source.columns.insert(
            column.name.to_string(),
            crate::config::ColumnSpec::Name(text(u, CSV)?),
        );
    }
    match mapping::map(table, &source, &headers, "fuzz.csv") {
        Ok(mapped) => assert_eq!(mapped.len(), table.columns.len()),
        Err(error) => user_error(&error, "fuzz.csv"),
    }
    for column in table.columns {
        let word = text(u, &["門市", "網購", "retail", "Store", " ", "經銷商", "x"])?;
        mapping::canonical_word(&mapping::word_set(table, column), &word);
        mapping::is_known_header(table, &source, &word);
    }
    Ok(())
}

const EXPRESSION: &[&str] = &[
    "a",
    "b",
    "`c d`",
    "銷售金額",
    "+",
    "-",
    "*",
    "/",
    "(",
    ")",
    " ",
    "1",
    "0.5",
    "`",
    "毛利",
];

/// Column expressions of `[sources.columns]` over a file's headers.
pub fn expressions(u: &mut Unstructured) -> Result<()> {
    let text = text(u, EXPRESSION)?;
    let headers: Vec<String> = ["a", "b", "c d", "銷售金額", "毛利"]
        .map(String::from)
        .to_vec();
    if let Ok(expr) = Expr::parse(&text, &headers) {
        for column in expr.columns() {
            assert!(column < headers.len());
        }
        expr.to_sql(&|c| format!("_x{c}"));
        expr.display(&headers);
    }
    Ok(())
}

const FORMULA: &[&str] = &[
    "net_amount",
    "cost_amount",
    "orders",
    "days",
    "+",
    "-",
    "*",
    "/",
    "(",
    ")",
    " ",
    "1",
    "0",
    "100",
    "0.5",
];

/// Formulas of custom indicators: parsed, then evaluated over any values —
/// a value, n/a, or an overflow said as such.
pub fn formulas(u: &mut Unstructured) -> Result<()> {
    let text = text(u, FORMULA)?;
    let Ok(formula) = Formula::parse(&text) else {
        return Ok(());
    };
    let mut values = Vec::new();
    for name in formula.names() {
        let value: Option<(i64, u8)> = u.arbitrary()?;
        values.push((
            name.to_string(),
            value.map(|(mantissa, scale)| Decimal::new(mantissa, u32::from(scale % 29))),
        ));
    }
    let lookup = |name: &str| values.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v);
    let _ = formula.eval(&lookup);
    Ok(())
}

const PERIOD: &[&str] = &[
    "2026", "1900", "2199", "0001", "9999", "-", "10", "Q", "Q4", "W", "W53", "W00", "FY", "R",
    "M", "13", "31", "02-29", " ",
];

/// Periods in the fiscal and a retail calendar, and their windows on any
/// as-of date of the calendar's years.
pub fn periods(u: &mut Unstructured) -> Result<()> {
    let text = text(u, PERIOD)?;
    let retail = if u.arbitrary()? {
        let pattern = u.choose(&["4-5-4", "4-4-5", "5-4-4"])?;
        let rule = if u.arbitrary()? {
            YearEnd::Nearest
        } else {
            YearEnd::Last
        };
        Retail::new(pattern, u.int_in_range(1..=12)?, "saturday", rule).ok()
    } else {
        None
    };
    let calendar = Calendar {
        fiscal_first_month: u.int_in_range(1..=12)?,
        retail,
    };
    let Ok(period) = Period::parse(&text, calendar) else {
        return Ok(());
    };
    let days = u.int_in_range(0..=(calendar::LAST_YEAR - calendar::FIRST_YEAR) * 366)?;
    let first = NaiveDate::from_ymd_opt(calendar::FIRST_YEAR, 1, 1).expect("a date");
    let as_of = first + chrono::Days::new(days as u64);
    if calendar::check_year(as_of, "the as-of date").is_err() {
        return Ok(());
    }
    period.series(u.int_in_range(1..=400)?);
    period.previous();
    if let Ok(slot) = Slot::new(period, as_of) {
        slot.previous();
        slot.years_back(u.int_in_range(1..=10)?);
        slot.trailing_year();
        slot.year_to_date(calendar.fiscal_first_month);
    }
    Ok(())
}

const TOML: &[&str] = &[
    "[company]\n",
    "[warehouse]\n",
    "[report]\n",
    "[[sources]]\n",
    "[sources.columns]\n",
    "[calendar]\n",
    "[assessment]\n",
    "[sql]\n",
    "[targets.net_sales]\n",
    "name = \"x\"\n",
    "locale = \"zh-Hant\"\n",
    "fiscal_year_start = 4\n",
    "fiscal_year_start = 13\n",
    "table = \"sales\"\n",
    "path = \"s.csv\"\n",
    "timezone = \"+08:00\"\n",
    "retail = \"4-5-4\"\n",
    "memory_limit = \"1GB\"\n",
    "timeout_seconds = 0\n",
    "target = 0.4\n",
    "order_id = \"單號\"\n",
    "grades = []\n",
    "engine = \"polars\"\n",
    "=",
    "\"",
    "\n",
];

/// `opskpi.toml`: read and checked, or a user's error naming the file.
pub fn config(u: &mut Unstructured) -> Result<()> {
    let text = text(u, TOML)?;
    match Config::parse(&text, "fuzz/opskpi.toml", "fuzz".into()) {
        Ok(config) => {
            let _ = Locale::of(&config);
        }
        Err(error) => user_error(&error, "opskpi.toml"),
    }
    Ok(())
}

const PIPELINE: &[&str] = &[
    "[[steps]]\n",
    "step = \"ingest\"\n",
    "step = \"kpi\"\n",
    "step = \"alert\"\n",
    "step = \"export\"\n",
    "indicators = [\"net_sales\"]\n",
    "periods = 0\n",
    "periods = 13\n",
    "[[steps.rules]]\n",
    "indicator = \"net_sales\"\n",
    "below = 5\n",
    "status = \"bad\"\n",
    "change = \"last_year\"\n",
    "falls_by_more_than = 0.1\n",
    "period = \"yesterday\"\n",
    "period = \"2026-10\"\n",
    "out = \"runs/{period}\"\n",
    "file = \"{year}.csv\"\n",
    "query = \"top_products\"\n",
    "sql = \"select 1\"\n",
    "\"",
    "\n",
];

/// Pipeline files, and the period their rule gives on any as-of date.
pub fn pipeline(u: &mut Unstructured) -> Result<()> {
    let text = text(u, PIPELINE)?;
    match PipelineFile::parse(&text, "fuzz.toml") {
        Ok(file) => {
            let first = NaiveDate::from_ymd_opt(calendar::FIRST_YEAR, 1, 2).expect("a date");
            let as_of = first + chrono::Days::new(u.int_in_range(0..=100_000)?);
            if calendar::check_year(as_of, "as of").is_ok() {
                if let Ok(period) = pipeline_file::period(&file.period, as_of, 1) {
                    let _ = pipeline_file::fill(&file.out, "fuzz", &period);
                }
            }
        }
        Err(error) => user_error(&error, "fuzz.toml"),
    }
    Ok(())
}

const SAVED: &[&str] = &[
    "-- description: x\n",
    "-- param n: integer = 20 How many\n",
    "-- param p: period\n",
    "-- param d: date = 2026-01-01\n",
    "-- param t: text\n",
    "-- param x: decimal = 1.5\n",
    "-- param bad\n",
    "-- param q: nosuch\n",
    "SELECT $n\n",
    "\n",
    "--",
    ":",
    "=",
];

/// Saved queries' declarations, and values bound to their parameters.
pub fn saved_query(u: &mut Unstructured) -> Result<()> {
    let text = text(u, SAVED)?;
    match saved::parse("fuzz", "fuzz.sql", &text) {
        Ok(query) => {
            let params: Vec<(String, String)> = query
                .params
                .iter()
                .map(|param| Ok((param.name.clone(), text_of(u)?)))
                .collect::<Result<_>>()?;
            if let Err(error) = query.bind(&params, Calendar::default()) {
                assert_eq!(error.exit_code(), 1, "{error}");
            }
        }
        Err(error) => user_error(&error, "fuzz.sql"),
    }
    Ok(())
}

fn text_of(u: &mut Unstructured) -> Result<String> {
    text(
        u,
        &[
            "2026-10",
            "20",
            "1.5",
            "x",
            "-",
            "2026-01-01",
            "FY2026",
            "R2026",
        ],
    )
}

const CATALOGUE: &[&str] = &[
    "title = \"x\"\n",
    "title = 3\n",
    "month_names = [\"a\"]\n",
    "[format]\n",
    "not_available = \"-\"\n",
    "large_amounts = [[1000, \"K\"]]\n",
    "large_amounts = [[\"K\"]]\n",
    "text_lang = \"en\"\n",
    "[indicators.net_sales]\n",
    "label = \"x\"\n",
    "label = 1\n",
    "\n",
    "\"",
    "=",
];

/// Language catalogues a user adds: a new language's `[format]` table, and
/// a copy of English's words over the built-in ones.
pub fn catalogue(u: &mut Unstructured) -> Result<()> {
    let text = text(u, CATALOGUE)?;
    if let Err(error) = locale::check_catalogue("xx", &text, "messages/xx.toml") {
        user_error(&error, "messages/xx.toml");
    }
    let mut messages = Messages::for_locale(Locale::en());
    if let Err(error) = messages.add_user(&text, "messages/en.toml", true) {
        user_error(&error, "messages/en.toml");
    }
    Ok(())
}

/// Runs the property `name` on `data` (a fuzz target's input, a corpus
/// file); `false` when there is no such property.
pub fn run(name: &str, data: &[u8]) -> bool {
    let Some((_, property)) = PROPERTIES.iter().find(|(n, _)| *n == name) else {
        return false;
    };
    let _ = property(&mut Unstructured::new(data));
    true
}

/// Whole loads of arbitrary bytes: written to a file of each kind a source
/// can be and loaded into a warehouse in memory — loaded, or refused as a
/// user's error naming the file; never a panic or an internal error.
pub fn ingest_bytes(data: &[u8]) {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    let (extension, table) = match kind % 6 {
        0 => ("csv", "sales"),
        1 => ("csv", "customers"),
        2 => ("json", "surveys"),
        3 => ("xlsx", "sales"),
        4 => ("parquet", "sales"),
        _ => ("csv", "inventory_snapshots"),
    };
    let dir = tempfile::tempdir().expect("a temp folder");
    let path = dir.path().join(format!("fuzz.{extension}"));
    std::fs::write(&path, bytes).expect("a temp file");
    let mut warehouse = crate::warehouse::Warehouse::in_memory().expect("DuckDB in memory");
    let source = Source::new(table, path);
    let loaded_at = NaiveDate::from_ymd_opt(2026, 11, 2)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .expect("a time");
    let options = crate::ingest::IngestOptions {
        scratch: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    if let Err(error) =
        crate::ingest::ingest(&mut warehouse, &[source], loaded_at, &options, &|_| {})
    {
        assert_eq!(error.exit_code(), 1, "{error}");
    }
}
