//! The indicators as relations a BI tool can browse without knowing
//! `kpi()`'s syntax: `kpi_monthly` holds every indicator for each of the
//! last `serve.months` complete months, for the company and by each
//! dimension the catalogue allows it (one column per dimension, empty where
//! the row is not cut by it) — a view over `kpi()`, so its numbers are
//! `kpi()`'s, and computed once per copy (the copy's kept answers).

use std::collections::BTreeSet;

use crate::calendar::{Grain, Period};
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
