//! Staging one file: a single scan of the raw relation that maps, reads and
//! checks every value, leaving typed rows in a temporary table with the
//! first rule each row breaks (`_problem`) and the value that broke it
//! (`_bad`). Then the checks that need the whole file — references to other
//! tables, repeated keys under the source's policy — mark further rows, and
//! the file is judged against its bad-row threshold.
//!
//! Only generated identifiers, model constants and our own decimal literals
//! are written into the SQL; every value from the configuration (constants,
//! word maps, the load date) is a bound parameter.

use chrono::NaiveDate;
use duckdb::{params_from_iter, Connection};

use super::cast::{fits, number_template, put, scale_of, typed, Sql, EXPRESSION_SCALE};
use super::filter::{self, Filter, LEFT_OUT};
use super::mapping::{self, Mapped, Origin};
use super::read::{Lines, Raw};
use crate::config::{DateOrder, Decimals, Source};
use crate::error::{BadData, Error, Result};
use crate::model::{self, ColumnType, Table};

/// Why a row is not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Required,
    Type,
    Range,
    Implausible,
    Future,
    Reference,
    DuplicateKey,
    /// An earlier row of a key whose last row was kept (`keep_last`).
    Superseded,
    /// The reader could not read the row at all.
    Unreadable,
}

impl RuleKind {
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Required => "required",
            RuleKind::Type => "type",
            RuleKind::Range => "range",
            RuleKind::Implausible => "implausible_date",
            RuleKind::Future => "future_date",
            RuleKind::Reference => "unknown_reference",
            RuleKind::DuplicateKey => "duplicate_key",
            RuleKind::Superseded => "superseded_duplicate",
            RuleKind::Unreadable => "unreadable_row",
        }
    }
}

/// One rule; its 1-based position is the `_problem` code.
#[derive(Debug, Clone)]
pub struct Rule {
    pub kind: RuleKind,
    pub column: &'static str,
    /// The source's column, for messages.
    pub file_column: String,
    pub ty: Option<ColumnType>,
    pub message: String,
}

/// A file read into its stage table.
pub struct Stage {
    pub table: &'static Table,
    pub name: String,
    pub raw: Raw,
    pub mapped: Vec<Mapped>,
    pub rules: Vec<Rule>,
    pub rows: u64,
    pub dates: DateOrder,
    /// The rows without a problem were seen with their keys in order
    /// (`key_order`): none repeats a key, no need to look for repeats.
    pub keys_unique: bool,
    /// Rows the source's filter left out.
    pub left_out: u64,
    /// Values rounded from a float artifact (`decimals = "round"`).
    pub rounded: u64,
    /// Some column reads float artifacts rounded (the stage has `_rounded`).
    pub rounding: bool,
    /// The source's filters, as the load summary says them.
    pub filters: Vec<String>,
    /// How the source reads its files (`settings_digest`), for the load log.
    pub settings: String,
}

/// Counts of rows set aside, by rule code, with the first row of each.
#[derive(Debug, Clone)]
pub struct Problem {
    pub rule: usize,
    pub count: u64,
    pub first_row: u64,
}

/// The plausible dates of data: the calendar's years (`calendar::FIRST_YEAR`
/// to `LAST_YEAR`, which a test holds these to).
const MIN_DATE: &str = "1900-01-01";
const MAX_DATE: &str = "2199-12-31";

/// One file's scan that maps, reads and checks every value, built but not
/// run: `into_stage` runs it into the stage table, `insert_clean` straight
/// into the canonical table.
pub struct Planned {
    /// The stage it makes (no rows counted yet).
    pub stage: Stage,
    /// `SELECT` the typed columns, `_problem`, `_bad` (and `_line`).
    select: Sql,
}

impl Planned {
    /// Runs the scan into the stage table, the keys of its rows without a
    /// problem shown to `key_orders`.
    pub fn into_stage(
        self,
        conn: &Connection,
        file: &str,
        key_orders: &super::key_order::KeyOrders,
        report: &(dyn Fn(super::Report) + Sync),
    ) -> Result<Stage> {
        let Planned { mut stage, select } = self;
        let log = key_orders.start();
        let mut sql = Sql::default();
        sql.push(&format!(
            "CREATE OR REPLACE TEMP TABLE {} AS SELECT * FROM (",
            stage.name
        ));
        sql.push(&select.text);
        sql.params.extend(select.params);
        sql.push(&format!(
            ") WHERE CASE WHEN _problem IS NULL THEN {} ELSE true END",
            log.call(stage.table)
        ));
        run(conn, &sql, stage.raw.rows, report).map_err(|error| read_error(file, error))?;
        let generated = stage.generate_line_numbers(conn)?;
        // Values rounded from a float artifact, among the rows that load.
        let rounded = if stage.rounding {
            "coalesce(sum(_rounded) FILTER (WHERE _problem IS NULL), 0)"
        } else {
            "0"
        };
        let (rows, clean, left_out, rounded): (i64, i64, i64, i64) = conn
            .query_row(
                &format!(
                    "SELECT count(*), count(*) FILTER (WHERE _problem IS NULL), \
                     count(*) FILTER (WHERE _problem = {LEFT_OUT}), CAST({rounded} AS BIGINT) FROM {}",
                    stage.name
                ),
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(Error::query("count stage"))?;
        stage.rows = rows as u64;
        stage.keys_unique = !generated && log.proves_unique(clean as u64);
        stage.left_out = left_out as u64;
        stage.rounded = rounded as u64;
        stage.note_reading();
        Ok(stage)
    }

    /// Inserts the rows into the canonical table with lineage `file_id`,
    /// stopping at the first row that breaks a rule (then the caller rolls
    /// back and stages the file). Each row's key is shown to `log`
    /// (`key_order`). The rows inserted.
    pub fn insert_clean(
        &self,
        conn: &Connection,
        file_id: i64,
        log: &super::key_order::Log,
        report: &(dyn Fn(super::Report) + Sync),
    ) -> duckdb::Result<usize> {
        let table = self.stage.table;
        let columns = table.column_names().join(", ");
        let mut sql = Sql::default();
        sql.push(&format!(
            "INSERT INTO {} ({columns}, {}) SELECT {columns}, {file_id} FROM (",
            table.name,
            model::LINEAGE_COLUMN
        ));
        sql.push(&self.select.text);
        sql.params.extend(self.select.params.iter().cloned());
        sql.push(&format!(
            ") WHERE CASE WHEN _problem IS NULL THEN {} \
             ELSE error('opskpi: a row breaks a rule') END",
            log.call(table)
        ));
        run(conn, &sql, self.stage.raw.rows, report)
    }
}

/// Runs one long statement, reporting DuckDB's own progress while it runs.
fn run(
    conn: &Connection,
    sql: &Sql,
    rows: Option<super::read::RowCount>,
    report: &(dyn Fn(super::Report) + Sync),
) -> duckdb::Result<usize> {
    if let Some(count) = rows {
        report(super::Report::Rows(count));
    }
    let progress = conn.progress_handle();
    // The statement's end wakes the reporter at once (a sleeping reporter
    // held every statement up to 100 ms: a tenth of a 1M-line load).
    let (finished, wait) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                wait.recv_timeout(std::time::Duration::from_millis(100))
            {
                if let Some(percentage) = progress.query_progress().percentage() {
                    report(super::Report::Fraction(percentage / 100.0));
                }
            }
        });
        let executed = conn.execute(&sql.text, params_from_iter(sql.params.iter()));
        drop(finished);
        executed
    })
}

/// Builds the scan for one file: three levels of one `SELECT` — each
/// canonical column's raw value (`raw_values`), its typed value
/// (`typed_values`), and the first rule each row breaks (`rules`).
pub fn plan(
    table: &'static Table,
    source: &Source,
    raw: Raw,
    name: &str,
    file: &str,
    loaded_on: NaiveDate,
    default_offset: i32,
) -> Result<Planned> {
    let headers = raw.headers();
    let empty = raw.rows.is_some_and(|count| count.exact && count.rows == 0);
    let mapped = if headers.is_empty() && empty {
        mapping::nothing(table)
    } else {
        mapping::map(table, source, &headers, file)?
    };
    let dates = source.dates.unwrap_or_default();
    let offset = match &source.timezone {
        Some(zone) => crate::config::parse_offset(zone)?,
        None => default_offset,
    };
    let filters = filter::resolve(source, &raw, file)?;
    let inputs = expression_inputs(&mapped);
    let (mut values, typed_inputs) = raw_values(&mapped, &raw, &inputs);
    let verdicts = filter::verdicts(&filters, &raw, dates);
    values.text.push_str(&verdicts.text);
    values.params.extend(verdicts.params);
    let rounding = rounding(source, &mapped);
    let types = typed_values(table, &mapped, dates, offset, &typed_inputs, &rounding);
    let (rules, conditions) = rules(table, &mapped, &raw, &inputs, &filters, loaded_on);
    let select = select(
        &mapped,
        &raw,
        &conditions,
        &filters,
        &rounding,
        types,
        values,
    );
    Ok(Planned {
        stage: Stage {
            keys_unique: false,
            left_out: 0,
            rounded: 0,
            rounding: rounding.iter().any(|r| *r),
            filters: filters.iter().map(|f| f.described.clone()).collect(),
            settings: super::settings_digest(source),
            table,
            name: name.to_string(),
            raw,
            mapped,
            rules,
            rows: 0,
            dates,
        },
        select,
    })
}

/// The file columns that expressions read, each once, in order of use.
fn expression_inputs(mapped: &[Mapped]) -> Vec<usize> {
    let mut inputs: Vec<usize> = Vec::new();
    for m in mapped {
        if let Origin::Expression(expr) = &m.origin {
            for c in expr.columns() {
                if !inputs.contains(&c) {
                    inputs.push(c);
                }
            }
        }
    }
    inputs
}

/// Level 1: `_v{i}`, the raw value of each canonical column; `_x{c}`, the
/// numbers of the file columns expressions read (and `_xt{c}` their text,
/// for messages). Beside it, the file's own type of each column the file
/// already types as the model does.
fn raw_values<'r>(
    mapped: &[Mapped],
    raw: &'r Raw,
    expression_inputs: &[usize],
) -> (Sql, Vec<Option<&'r str>>) {
    let mut levels_one: Vec<Sql> = Vec::new();
    let mut typed_inputs: Vec<Option<&str>> = vec![None; mapped.len()];
    for (i, m) in mapped.iter().enumerate() {
        let column = m.column;
        let mut one = Sql::default();
        match &m.origin {
            Origin::Declared(c) | Origin::SameName(c) | Origin::Dictionary(c) => {
                let raw_column = &raw.columns[*c];
                if fits(&raw_column.ty, column.ty) && m.values.is_empty() {
                    one.push(&raw_column.ident);
                    typed_inputs[i] = Some(&raw_column.ty);
                } else if matches!(column.ty, ColumnType::Text | ColumnType::OneOf(_)) {
                    let text = format!("CAST({} AS VARCHAR)", raw_column.ident);
                    // Trimmed only where `trim` would change it (a copy each).
                    one.push(&format!(
                        "CASE WHEN _opskpi_padded({text}) THEN nullif(trim({text}), '') \
                         ELSE nullif({text}, '') END"
                    ));
                } else {
                    // Numbers and dates: DuckDB's casts and the value readers take spaces.
                    one.push(&format!(
                        "nullif(CAST({} AS VARCHAR), '')",
                        raw_column.ident
                    ));
                }
            }
            Origin::Constant(value) => {
                one.push("nullif(trim(CAST(");
                one.param(value);
                one.push(" AS VARCHAR)), '')");
            }
            Origin::Expression(expr) => {
                let sql = expr.to_sql(&|c| format!("_x{c}"));
                one.push(&format!("CAST({sql} AS VARCHAR)"));
            }
            Origin::Missing => one.push("NULL::VARCHAR"),
            // Numbered once the stage holds the rows in file order.
            Origin::Generated => one.push("'0'"),
        }
        one.push(&format!(" AS _v{i}"));
        levels_one.push(one);
    }
    for c in expression_inputs {
        let mut one = Sql::default();
        let text = Sql {
            text: format!("nullif(CAST({} AS VARCHAR), '')", raw.columns[*c].ident),
            params: Vec::new(),
        };
        put(&mut one, &number_template(EXPRESSION_SCALE, false), &text);
        one.push(&format!(" AS _x{c}"));
        // Expression inputs come first: the expressions below read them.
        levels_one.insert(0, one);
    }
    // Expressions read `_x{c}` from the same level: DuckDB resolves the
    // alias; the inputs' own text stays available as `_xt{c}` for messages.
    let mut values = Sql::default();
    for (k, one) in levels_one.iter().enumerate() {
        if k > 0 {
            values.push(", ");
        }
        values.text.push_str(&one.text);
        values.params.extend(one.params.iter().cloned());
    }
    for c in expression_inputs {
        values.push(&format!(
            ", nullif(CAST({} AS VARCHAR), '') AS _xt{c}",
            raw.columns[*c].ident
        ));
    }
    if matches!(raw.lines, Lines::Column) {
        values.push(", _line");
    }
    (values, typed_inputs)
}

/// Level 2: `_t{i}`, the typed value of each canonical column (after the
/// source's word map, if any).
fn typed_values(
    table: &'static Table,
    mapped: &[Mapped],
    dates: DateOrder,
    offset: i32,
    typed_inputs: &[Option<&str>],
    rounding: &[bool],
) -> Sql {
    let mut types = Sql::default();
    for (i, m) in mapped.iter().enumerate() {
        let column = m.column;
        let set = mapping::word_set(table, column);
        let mut value = Sql::default();
        if m.values.is_empty() {
            value.push(&format!("_v{i}"));
        } else {
            value.push(&format!("CASE _v{i}"));
            for (from, to) in &m.values {
                value.push(" WHEN ");
                value.param(from);
                value.push(" THEN ");
                value.param(to);
            }
            value.push(&format!(" ELSE _v{i} END"));
        }
        types.push(", ");
        typed(
            &mut types,
            column.ty,
            &value,
            &set,
            dates,
            offset,
            typed_inputs[i],
        );
        if rounding[i] {
            // `_n{i}` read exactly; `_t{i}` also a float artifact rounded.
            let scale = scale_of(column.ty).expect("rounding applies to numbers");
            let target = if scale == 0 {
                "BIGINT".to_string()
            } else {
                format!("DECIMAL(18,{scale})")
            };
            types.push(&format!(
                " AS _n{i}, COALESCE(_n{i}, TRY_CAST(_opskpi_artifact(CAST("
            ));
            types.text.push_str(&value.text);
            types.params.extend(value.params.iter().cloned());
            types.push(&format!(" AS VARCHAR), {scale}::INTEGER) AS {target}))"));
        }
        types.push(&format!(" AS _t{i}"));
    }
    types
}

/// Which mapped columns read float artifacts rounded (`decimals = "round"`
/// on the column, else on the source): number columns read from the file.
fn rounding(source: &Source, mapped: &[Mapped]) -> Vec<bool> {
    mapped
        .iter()
        .map(|m| {
            let asked = source
                .columns
                .get(m.column.name)
                .and_then(|spec| spec.detail().decimals)
                .unwrap_or(source.decimals);
            asked == Decimals::Round
                && m.column.ty.is_number()
                && matches!(
                    m.origin,
                    Origin::Declared(_) | Origin::SameName(_) | Origin::Dictionary(_)
                )
        })
        .collect()
}

/// A rule's SQL: its condition (with `?` where its parameters go), the
/// value it shows, and the parameters.
struct Condition {
    condition: String,
    shown: String,
    params: Vec<String>,
}

/// Level 3's rules, in the order they are tried: a number an expression
/// reads, then per column the value required, its type, its range or
/// plausible years, and a date not after the load day.
fn rules(
    table: &'static Table,
    mapped: &[Mapped],
    raw: &Raw,
    expression_inputs: &[usize],
    filters: &[Filter],
    loaded_on: NaiveDate,
) -> (Vec<Rule>, Vec<Condition>) {
    let mut rules: Vec<Rule> = Vec::new();
    let mut conditions: Vec<Condition> = Vec::new();
    for (rule, condition, shown) in filter::rules(filters, raw) {
        rules.push(rule);
        conditions.push(Condition {
            condition,
            shown,
            params: vec![],
        });
    }
    for c in expression_inputs {
        rules.push(Rule {
            kind: RuleKind::Type,
            column: "(expression)",
            file_column: raw.columns[*c].header.clone(),
            ty: Some(ColumnType::Decimal(EXPRESSION_SCALE)),
            message: format!(
                "expected a number in `{}`, which an expression reads",
                raw.columns[*c].header
            ),
        });
        conditions.push(Condition {
            condition: format!("_xt{c} IS NOT NULL AND _x{c} IS NULL"),
            shown: format!("_xt{c}"),
            params: vec![],
        });
    }
    for (i, m) in mapped.iter().enumerate() {
        let column = m.column;
        let file_column = match &m.origin {
            Origin::Declared(c) | Origin::SameName(c) | Origin::Dictionary(c) => {
                raw.columns[*c].header.clone()
            }
            Origin::Constant(_) => "(constant)".into(),
            Origin::Expression(_) => "(expression)".into(),
            Origin::Missing => "(missing)".into(),
            Origin::Generated => "(generated)".into(),
        };
        for (kind, condition, message, params) in column_rules(table, column, i, loaded_on) {
            rules.push(Rule {
                kind,
                column: column.name,
                file_column: file_column.clone(),
                ty: Some(column.ty),
                message,
            });
            conditions.push(Condition {
                condition,
                shown: format!("_v{i}"),
                params,
            });
        }
    }
    (rules, conditions)
}

/// The rules of the canonical `column` (the `i`-th mapped): (kind,
/// condition, message, parameters).
fn column_rules(
    table: &'static Table,
    column: &'static model::Column,
    i: usize,
    loaded_on: NaiveDate,
) -> Vec<(RuleKind, String, String, Vec<String>)> {
    let mut rules = Vec::new();
    if !column.nullable {
        rules.push((
            RuleKind::Required,
            format!("_v{i} IS NULL"),
            "a value is required here".into(),
            vec![],
        ));
    }
    if column.ty != ColumnType::Text {
        rules.push((
            RuleKind::Type,
            format!("_v{i} IS NOT NULL AND _t{i} IS NULL"),
            format!("expected {}", column.ty.describe()),
            vec![],
        ));
    }
    let years = format!(
        "the year is outside {}–{}: check how the file writes years",
        &MIN_DATE[..4],
        &MAX_DATE[..4]
    );
    match column.ty {
        ColumnType::IntRange(lo, hi) | ColumnType::DecimalRange(_, lo, hi) => rules.push((
            RuleKind::Range,
            format!("_t{i} NOT BETWEEN {lo} AND {hi}"),
            format!("expected {}", column.ty.describe()),
            vec![],
        )),
        ColumnType::Date | ColumnType::Month => rules.push((
            RuleKind::Implausible,
            format!("_t{i} NOT BETWEEN DATE '{MIN_DATE}' AND DATE '{MAX_DATE}'"),
            years,
            vec![],
        )),
        ColumnType::Timestamp => rules.push((
            RuleKind::Implausible,
            format!("_t{i} NOT BETWEEN TIMESTAMPTZ '{MIN_DATE} 00:00:00+00' AND TIMESTAMPTZ '{MAX_DATE} 00:00:00+00'"),
            years,
            vec![],
        )),
        _ => {}
    }
    if table.not_future.contains(&column.name) {
        // A timestamp may be a day ahead of the load date's UTC day.
        let condition = match column.ty {
            // (Through TIMESTAMP: DuckDB casts a zoned timestamp to a
            // date only with the ICU extension, which is not built in.)
            ColumnType::Timestamp => {
                format!("CAST(_t{i}::TIMESTAMP AS DATE) > CAST(? AS DATE) + 1")
            }
            _ => format!("_t{i} > CAST(? AS DATE)"),
        };
        rules.push((
            RuleKind::Future,
            condition,
            format!("the date lies after the day it was loaded ({loaded_on})"),
            vec![loaded_on.to_string()],
        ));
    }
    rules
}

/// The scan: the typed columns, `_problem` (the first rule broken, by its
/// 1-based position), `_bad` (the value that broke it) and `_line`, over
/// the three levels.
fn select(
    mapped: &[Mapped],
    raw: &Raw,
    conditions: &[Condition],
    filters: &[Filter],
    rounding: &[bool],
    types: Sql,
    values: Sql,
) -> Sql {
    let mut sql = Sql::default();
    sql.push("SELECT ");
    let columns: Vec<String> = mapped
        .iter()
        .enumerate()
        .map(|(i, m)| format!("_t{i} AS {}", m.column.name))
        .collect();
    sql.push(&columns.join(", "));
    sql.push(", _problem, CASE _problem");
    for (code, condition) in conditions.iter().enumerate() {
        sql.push(&format!(
            " WHEN {} THEN CAST({} AS VARCHAR)",
            code + 1,
            condition.shown
        ));
    }
    sql.push(" END AS _bad");
    if matches!(raw.lines, Lines::Column) {
        sql.push(", _line");
    }
    let rounded: Vec<String> = (0..mapped.len())
        .filter(|i| rounding[*i])
        .map(|i| format!("CAST(_n{i} IS NULL AND _t{i} IS NOT NULL AS INTEGER)"))
        .collect();
    if !rounded.is_empty() {
        sql.push(&format!(", {} AS _rounded", rounded.join(" + ")));
    }
    sql.push(" FROM (SELECT *, CASE");
    if let Some(condition) = filter::left_out(filters) {
        sql.push(&format!(" WHEN {condition} THEN {LEFT_OUT}"));
    }
    for (code, condition) in conditions.iter().enumerate() {
        // Bind this condition's parameters where its `?` stand.
        let mut parts = condition.condition.split('?');
        sql.push(" WHEN ");
        sql.push(parts.next().unwrap_or_default());
        for (param, part) in condition.params.iter().zip(parts) {
            sql.param(param);
            sql.push(part);
        }
        sql.push(&format!(" THEN {}", code + 1));
    }
    if conditions.is_empty() {
        sql.push(" WHEN false THEN 0");
    }
    sql.push(" END AS _problem FROM (SELECT *");
    sql.text.push_str(&types.text);
    sql.params.extend(types.params);
    sql.push(" FROM (SELECT ");
    sql.text.push_str(&values.text);
    sql.params.extend(values.params);
    sql.push(" FROM ");
    sql.push(&raw.from);
    sql.params.extend(raw.params.iter().cloned());
    sql.push(")))");
    sql
}

fn read_error(file: &str, error: duckdb::Error) -> Error {
    let text = error.to_string();
    let reason: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("Possible") && !line.starts_with('*'))
        .take(2)
        .collect();
    Error::data(BadData::file(
        std::path::Path::new(file),
        format!("cannot read the file: {}", reason.join(" ")),
        Some("check the source's `format`, `encoding` and `delimiter`".into()),
    ))
}

/// The canonical model's table list in load order, for sorting sources.
pub fn load_order(table: &str) -> usize {
    model::TABLES
        .iter()
        .position(|t| t.name == table)
        .unwrap_or(usize::MAX)
}
