//! The indicators as relations a BI tool can browse without knowing
//! `kpi()`'s syntax: `kpi_monthly` holds every indicator for each of the
//! last `serve.months` complete months, for the company and by each
//! dimension the catalogue allows it (one column per dimension, empty where
//! the row is not cut by it) — a view over `kpi()`, so its numbers are
//! `kpi()`'s, and computed once per copy (the copy's kept answers) — and
//! the saved queries that need no value, as views of their own names.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use duckdb::types::Value;

use super::catalogue::rewrite::{self, Token};
use crate::calendar::{Grain, Period};
use crate::sql::saved::SavedQuery;
use crate::sql::Functions;

/// The contract's columns after the dimensions.
const VALUES: &str = "value, previous, change_vs_previous, last_year, change_vs_last_year, target, status, sample_size, low_sample";

/// The statement that makes `kpi_monthly` on a connection (a temporary
/// view: the copy itself is read-only). Only the catalogue's indicator ids
/// and dimension names and a period of ours are in its text.
pub fn kpi_monthly(with: &Functions, months: u32) -> String {
    let last = Period::last_complete(Grain::Month, with.context.as_of, with.context.calendar);
    let catalogue = &with.catalogue;
    let dims: BTreeSet<&str> = catalogue
        .indicators
        .iter()
        .flat_map(|indicator| catalogue.dimensions(indicator).iter().map(String::as_str))
        .collect();
    let select = |ids: &[&str], by: Option<&str>| {
        let columns: Vec<String> = dims
            .iter()
            .map(|dim| match by {
                Some(by) if by == *dim => format!("\"{dim}\""),
                _ => format!("CAST(NULL AS VARCHAR) AS \"{dim}\""),
            })
            .collect();
        let by = by.map(|dim| format!(", by := '{dim}'")).unwrap_or_default();
        format!(
            "SELECT indicator, label, unit, change_kind, period, partial, {}, {VALUES} FROM kpi('{}', '{last}'{by}, periods := {months})",
            columns.join(", "),
            ids.join(",")
        )
    };
    let mut parts = vec![select(&catalogue.ids(), None)];
    for dim in &dims {
        let ids: Vec<&str> = catalogue
            .indicators
            .iter()
            .filter(|indicator| catalogue.dimensions(indicator).iter().any(|d| d == dim))
            .map(|indicator| indicator.id.as_str())
            .collect();
        parts.push(select(&ids, Some(dim)));
    }
    format!(
        "CREATE OR REPLACE TEMP VIEW kpi_monthly AS\n{}",
        parts.join("\nUNION ALL\n")
    )
}

/// The saved queries that need no value (no parameter, or a default for
/// each) as views of the same name: `(name, the statement that makes it)`.
/// Their parameters are written into the view as literals of their bound
/// values (read by the same rules as `opskpi query`); a query that names a
/// canonical table's name, or cannot be bound, is left out.
pub fn saved(with: &Functions, queries: &[SavedQuery]) -> Vec<(String, String)> {
    let mut views = Vec::new();
    for query in queries {
        if crate::model::table(&query.name).is_some() || query.name == "kpi_monthly" {
            continue;
        }
        let Ok(bound) = query.bind(&[], with.context.calendar) else {
            continue;
        };
        let text: Option<String> = rewrite::tokens(&query.sql)
            .into_iter()
            .map(|token| match token {
                Token::Other(name) if name.starts_with('$') => {
                    match bound.iter().find(|(bound, _)| *bound == name[1..]) {
                        Some((_, value)) => sql_literal(value),
                        None => Some(name),
                    }
                }
                token => Some(token.text().to_string()),
            })
            .collect();
        let Some(text) = text else {
            continue;
        };
        let body = text.trim().trim_end_matches(';');
        views.push((
            query.name.clone(),
            format!("CREATE OR REPLACE TEMP VIEW \"{}\" AS\n{body}", query.name),
        ));
    }
    views
}

/// A bound value written as SQL (`SavedQuery::bind` gives these three
/// kinds; another leaves the query out).
fn sql_literal(value: &Value) -> Option<String> {
    match value {
        Value::BigInt(n) => Some(n.to_string()),
        Value::Date32(days) => {
            let day = NaiveDate::from_ymd_opt(1970, 1, 1)?
                .checked_add_signed(chrono::Duration::days(i64::from(*days)))?;
            Some(format!("DATE '{day}'"))
        }
        Value::Text(text) => Some(rewrite::literal(text)),
        _ => None,
    }
}
