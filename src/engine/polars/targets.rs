//! `queries/components/targets.sql` in Polars: each month's target times the
//! share of the month's days the window covers, rounded half away from zero
//! to the cent in integers (as the warehouse's `_opskpi_pro_rata`); with a
//! dimension the target of that scope. `net_amount` is the net sales of the
//! same scope, and a scope without a target has no target, not 0.
//!
//! Targets are a few rows a month: they are prorated here in Rust, and only
//! the sales go through a frame.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

use super::{polars_error, read, PolarsEngine};
use crate::calendar::Window;
use crate::error::{Error, Result};
use crate::indicators::{Components, Group, QueryDef};

/// A month's target prorated over `days` of its `month_days`: SQL's
/// `sign(a) * ((2 * |a × 10⁴| * days + month_days * 100) // (2 * month_days * 100))`
/// cents.
pub fn pro_rata(amount: Decimal, days: i64, month_days: i64) -> Result<Decimal> {
    let scaled = (amount * Decimal::from(10_000))
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .mantissa();
    let (days, month_days) = (i128::from(days), i128::from(month_days));
    let cents = (2 * scaled.abs() * days + month_days * 100) / (2 * month_days * 100);
    Ok(Decimal::from_i128_with_scale(scaled.signum() * cents, 2))
}

fn month_days(month: NaiveDate) -> i64 {
    let next = month
        .checked_add_months(chrono::Months::new(1))
        .expect("a next month");
    (next - month).num_days()
}

/// The target rows of a scope: (month, scope value, amount).
fn targets_of(
    engine: &PolarsEngine,
    scope: &str,
) -> Result<Vec<(NaiveDate, Option<String>, Decimal)>> {
    let frame = engine
        .table("sales_targets")?
        .filter(col("scope").eq(lit(scope)))
        .select([
            col("period").cast(DataType::Int32),
            col("scope_value"),
            col("target_amount").cast(DataType::Decimal(38, 18)),
        ])
        .collect()
        .map_err(polars_error)?;
    let column = |name: &str| frame.column(name).map_err(polars_error);
    let periods = column("period")?.i32().map_err(polars_error)?.clone();
    let values = column("scope_value")?.str().map_err(polars_error)?.clone();
    let amounts = column("target_amount")?
        .decimal()
        .map_err(polars_error)?
        .physical()
        .clone();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let mut rows = Vec::new();
    for row in 0..frame.height() {
        let (Some(period), Some(amount)) = (periods.get(row), amounts.get(row)) else {
            continue;
        };
        let month = epoch + chrono::Duration::days(i64::from(period));
        let amount = Decimal::try_from_i128_with_scale(amount, 18)
            .map_err(|_| Error::Internal(format!("target {amount}e-18 is too large")))?;
        rows.push((month, values.get(row).map(str::to_string), amount));
    }
    Ok(rows)
}

pub fn components(
    engine: &PolarsEngine,
    query: &QueryDef,
    spine: LazyFrame,
    dims: &[String],
    windows: &[Window],
    wanted: &[String],
) -> Result<Components> {
    let position = |name: &str| query.components.iter().position(|c| c == name);
    let mut components = if wanted.iter().any(|w| w == "net_amount") {
        // The net sales of the same scope: the sales query's.
        let sold =
            super::sales::components(engine, spine, dims, windows, &["net_amount".to_string()])?
                .collect()
                .map_err(polars_error)?;
        let only_sales = vec!["net_amount".to_string()];
        read(sold, query, dims, windows, &only_sales)?
    } else {
        Components::default()
    };
    if dims.len() > 1 {
        return Ok(components);
    }
    let scope = dims.first().map_or("company", String::as_str);
    let targets = targets_of(engine, scope)?;
    let target_at = position("target_amount").expect("targets has target_amount");
    for window in windows {
        // The days of each month the window covers.
        let mut covered: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        let mut day = window.start;
        while day <= window.end {
            *covered
                .entry(day.with_day(1).expect("a first day"))
                .or_default() += 1;
            day = day.succ_opt().expect("a next day");
        }
        let mut sums: BTreeMap<Group, Decimal> = BTreeMap::new();
        for (month, value, amount) in &targets {
            let Some(&days) = covered.get(month) else {
                continue;
            };
            let group: Group = if dims.is_empty() {
                vec![]
            } else {
                vec![value.clone()]
            };
            *sums.entry(group).or_default() += pro_rata(*amount, days, month_days(*month))?;
        }
        for (group, sum) in sums {
            let values = components
                .rows
                .entry(*window)
                .or_default()
                .entry(group)
                .or_insert_with(|| vec![None; query.components.len()]);
            values[target_at] = Some(sum.normalize());
        }
    }
    Ok(components)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pro_rata_rounds_half_away_from_zero_to_the_cent() {
        // 1000.00 × 10/31 = 322.580645… → 322.58
        assert_eq!(
            pro_rata(Decimal::new(100000, 2), 10, 31).unwrap(),
            Decimal::new(32258, 2)
        );
        // 0.10 × 15/30 = 0.05 exactly; 0.01 × 15/30 = 0.005 → 0.01; −0.01 → −0.01
        assert_eq!(
            pro_rata(Decimal::new(1, 2), 15, 30).unwrap(),
            Decimal::new(1, 2)
        );
        assert_eq!(
            pro_rata(Decimal::new(-1, 2), 15, 30).unwrap(),
            Decimal::new(-1, 2)
        );
        // 4 decimals: 0.0049 × 30/30 = 0.0049 → 0.00
        assert_eq!(
            pro_rata(Decimal::new(49, 4), 30, 30).unwrap(),
            Decimal::ZERO
        );
    }
}
