//! A source's row filter (`keep = { column = "order_status", not_in = […] }`)
//! in the stage's scan: each filter's verdict on a row of the raw relation,
//! before any mapping. A row a filter says no to is left out (`_problem`
//! = `LEFT_OUT`) and counted, never loaded nor quarantined; a row a number
//! or date comparison cannot read breaks a rule and goes to quarantine, so
//! that nothing leaves the load unseen.
//!
//! Every value of a filter is a bound parameter.

use super::cast::{number_template, put, typed, Sql};
use super::read::Raw;
use super::stage::{Rule, RuleKind};
use crate::config::{DateOrder, FilterTest, Filters, RowFilter, Source};
use crate::error::{Error, Result};
use crate::model::ColumnType;

/// The `_problem` code of a row a filter leaves out (rules count from 1).
pub const LEFT_OUT: i64 = -1;

/// Decimals a number comparison reads the cell at.
const SCALE: u8 = 6;

/// One filter, resolved against the file's columns.
pub struct Filter {
    /// The raw relation's column it tests.
    pub column: usize,
    pub test: FilterTest,
    pub described: String,
}

/// The source's filters, each on a column of the file.
pub fn resolve(source: &Source, raw: &Raw, file: &str) -> Result<Vec<Filter>> {
    let headers = raw.headers();
    source
        .keep
        .iter()
        .flat_map(Filters::list)
        .map(|filter: &RowFilter| {
            let column = super::mapping::find(&headers, &filter.column).ok_or_else(|| {
                Error::config_hint(
                    format!(
                        "`{file}` has no column `{}`, which the source's filter tests",
                        filter.column
                    ),
                    format!("its columns are: {}", super::mapping::list(&headers)),
                )
            })?;
            let test = filter
                .test()
                .map_err(|problem| Error::config(format!("`{file}`: {problem}")))?;
            Ok(Filter {
                column,
                test,
                described: filter.describe(),
            })
        })
        .collect()
}

/// What a comparison reads the cell as.
fn compared_type(value: &str) -> ColumnType {
    if value.parse::<rust_decimal::Decimal>().is_ok() {
        ColumnType::Decimal(SCALE)
    } else {
        ColumnType::Date
    }
}

/// Level 1 of the scan: `_k{j}`, filter `j`'s verdict (true: kept, false:
/// left out, NULL: a comparison could not read the cell) and `_kt{j}`, the
/// cell as text (for the message of a cell that could not be read).
pub fn verdicts(filters: &[Filter], raw: &Raw, dates: DateOrder) -> Sql {
    let mut sql = Sql::default();
    for (j, filter) in filters.iter().enumerate() {
        let ident = &raw.columns[filter.column].ident;
        let cell = Sql {
            text: format!("nullif(trim(CAST({ident} AS VARCHAR)), '')"),
            params: Vec::new(),
        };
        sql.push(", ");
        match &filter.test {
            FilterTest::In(values) | FilterTest::NotIn(values) => {
                let keep_empty = matches!(filter.test, FilterTest::NotIn(_));
                let op = if keep_empty { "NOT IN" } else { "IN" };
                sql.push("coalesce(");
                put(&mut sql, &format!("{{v}} {op} ("), &cell);
                for (k, value) in values.iter().enumerate() {
                    if k > 0 {
                        sql.push(", ");
                    }
                    sql.param(value);
                }
                sql.push(&format!("), {keep_empty})"));
            }
            FilterTest::Equals(value) | FilterTest::NotEquals(value) => {
                let keep_empty = matches!(filter.test, FilterTest::NotEquals(_));
                let op = if keep_empty { "<>" } else { "=" };
                sql.push("coalesce(");
                put(&mut sql, &format!("{{v}} {op} "), &cell);
                sql.param(value);
                sql.push(&format!(", {keep_empty})"));
            }
            FilterTest::Compare(op, value) => {
                // An empty cell compares with nothing: left out.
                put(&mut sql, "CASE WHEN {v} IS NULL THEN false ELSE ", &cell);
                let ty = compared_type(value);
                let mut read = Sql::default();
                match ty {
                    ColumnType::Date => typed(&mut read, ty, &cell, "", dates, 0, None),
                    _ => put(&mut read, &number_template(SCALE, false), &cell),
                }
                sql.push("(");
                sql.text.push_str(&read.text);
                sql.params.extend(read.params);
                let target = match ty {
                    ColumnType::Date => "DATE".to_string(),
                    _ => "DECIMAL(38,6)".to_string(),
                };
                sql.push(&format!(") {op} CAST("));
                sql.param(value);
                sql.push(&format!(" AS {target}) END"));
            }
        }
        sql.push(&format!(" AS _k{j}, CAST({ident} AS VARCHAR) AS _kt{j}"));
    }
    sql
}

/// Level 3: the condition that leaves a row out (any filter says no), if
/// the source has filters.
pub fn left_out(filters: &[Filter]) -> Option<String> {
    if filters.is_empty() {
        return None;
    }
    let all: Vec<String> = (0..filters.len()).map(|j| format!("_k{j}")).collect();
    Some(format!("NOT ({})", all.join(" AND ")))
}

/// The rules of cells a comparison cannot read: (rule, condition, shown).
pub fn rules(filters: &[Filter], raw: &Raw) -> Vec<(Rule, String, String)> {
    filters
        .iter()
        .enumerate()
        .filter_map(|(j, filter)| {
            let FilterTest::Compare(_, value) = &filter.test else {
                return None;
            };
            let ty = compared_type(value);
            let header = raw.columns[filter.column].header.clone();
            let what = match ty {
                ColumnType::Date => "a date",
                _ => "a number",
            };
            let rule = Rule {
                kind: RuleKind::Type,
                column: "(filter)",
                file_column: header,
                ty: Some(ty),
                message: format!(
                    "expected {what}: the source's filter {} compares it",
                    filter.described
                ),
            };
            Some((rule, format!("_k{j} IS NULL"), format!("_kt{j}")))
        })
        .collect()
}
