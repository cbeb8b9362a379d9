//! `queries/components/market.sql` in Polars: own sales against the market.
//! Market data is monthly: a month counts in a window when the window holds
//! all of it, and own sales are taken for the same whole months, regions and
//! categories, so both sides of the share cover the same cells.

use chrono::{Datelike, Months};
use polars::prelude::*;

use super::{join_groups, left_join, sql_sum, window_days, PolarsEngine};
use crate::calendar::Window;
use crate::error::Result;

pub fn components(
    engine: &PolarsEngine,
    _spine: LazyFrame,
    dims: &[String],
    windows: &[Window],
    _wanted: &[String],
) -> Result<LazyFrame> {
    // The whole months of each window, and the days of those months.
    let (mut ids, mut months) = (Vec::new(), Vec::new());
    let (mut days, mut day_months) = (Vec::new(), Vec::new());
    for (id, window) in windows.iter().enumerate() {
        let mut month = window.start.with_day(1).expect("a first day");
        while month <= window.end {
            let next = month + Months::new(1);
            let last = next.pred_opt().expect("a last day");
            if month >= window.start && last <= window.end {
                ids.push(id as i32);
                months.push(month);
                if !day_months.contains(&month) {
                    let mut day = month;
                    while day <= last {
                        days.push(day);
                        day_months.push(month);
                        day = day.succ_opt().expect("a next day");
                    }
                }
            }
            month = next;
        }
    }
    let whole = window_days(ids, vec![("month", months)])?;
    let day_ids = vec![0; days.len()];
    let calendar = window_days(day_ids, vec![("day", days), ("month", day_months)])?
        .select([col("day"), col("month")]);

    // Own sales per month, region and category, from the sales query's
    // daily sums (a line whose product is unknown has no category: it meets
    // no market cell, as the SQL's inner join leaves it out).
    let dims_of_cells = ["region".to_string(), "category".to_string()];
    let own = super::sales::daily_sums(engine, &dims_of_cells)?
        .lazy()
        .join(
            calendar,
            [col("day")],
            [col("day")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col("month"), col("region"), col("category")])
        .agg([
            col("net").sum().alias("amount"),
            when(col("counted").sum().eq(col("lines").sum()))
                .then(col("quantity").sum())
                .otherwise(lit(NULL))
                .alias("units"),
        ]);
    let market = engine.table("market_sizes")?.select([
        col("period").alias("month"),
        col("region"),
        col("category"),
        col("market_amount"),
        col("market_units"),
    ]);
    let cells = left_join(
        whole.clone().join(
            market,
            [col("month")],
            [col("month")],
            JoinArgs::new(JoinType::Inner),
        ),
        own,
        &["month", "region", "category"],
    )
    .with_columns([
        col("amount").fill_null(lit(0)).alias("own_amount"),
        col("units").fill_null(lit(0)).alias("own_units"),
    ]);
    let mut keys = vec![col("window_id")];
    keys.extend(dims.iter().map(|d| col(d.as_str())));
    let mut rival_keys = keys.clone();
    rival_keys.push(col("competitor"));
    let top_rival = whole
        .join(
            engine
                .table("competitor_sales")?
                .with_column(col("period").alias("month")),
            [col("month")],
            [col("month")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by(rival_keys)
        .agg([sql_sum(col("sales_amount")).alias("amount")])
        .group_by(keys.clone())
        .agg([col("amount").max().alias("top_competitor_amount")]);
    let shares = cells.group_by(keys).agg([
        col("own_amount").sum(),
        col("own_units").sum(),
        sql_sum(col("market_amount")).alias("market_amount"),
        // volume share only where every cell has market units
        super::complete_sum("market_units").alias("market_units"),
    ]);
    Ok(join_groups(shares, top_rival, dims, JoinType::Left))
}
