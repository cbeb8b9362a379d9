//! `queries/components/inventory.sql` in Polars: inventory turnover and
//! stock-out components per window. The opening snapshot is the last
//! snapshot date before the window; the average inventory is over the
//! snapshot dates from the opening to the last one in the window (only those
//! in the window when there is no opening). The closing value and units are
//! the last snapshot's on or before the window's end. Every SKU-location
//! snapshot dated in the window counts once for the stock-out rate. Values
//! over a column a source did not provide are given only when complete.
//!
//! The snapshot dates are few (one a day at most): the bounds of each window
//! are found in Rust, and the snapshots themselves stay in frames.

use polars::prelude::*;

use super::{
    by_window, complete_sum, count_if, join_groups, left_join, polars_error, sql_sum, window_days,
    PolarsEngine,
};
use crate::calendar::Window;
use crate::error::Result;

pub fn components(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    windows: &[Window],
) -> Result<LazyFrame> {
    let by_product = dims.iter().any(|d| d == "category" || d == "subcategory");
    let products =
        engine
            .table("products")?
            .select([col("sku"), col("category"), col("subcategory")]);
    let mut stock = engine.table("inventory_snapshots")?.select([
        col("snapshot_date").alias("day"),
        col("sku"),
        col("on_hand_qty"),
        (col("on_hand_qty") * col("unit_cost")).alias("value"),
    ]);
    if by_product {
        stock = left_join(stock, products.clone(), &["sku"]);
    }

    // The snapshot dates, sorted, and each window's opening and closing.
    let dates = stock
        .clone()
        .select([col("day").unique().cast(DataType::Int32)])
        .collect()
        .map_err(polars_error)?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let mut dates: Vec<chrono::NaiveDate> = dates
        .column("day")
        .map_err(polars_error)?
        .i32()
        .map_err(polars_error)?
        .iter()
        .flatten()
        .map(|d| epoch + chrono::Duration::days(i64::from(d)))
        .collect();
    dates.sort_unstable();
    let (mut counted_ids, mut counted_days) = (Vec::new(), Vec::new());
    let (mut closing_ids, mut closing_days) = (Vec::new(), Vec::new());
    let (mut snapshot_ids, mut snapshot_counts) = (Vec::new(), Vec::new());
    for (id, window) in windows.iter().enumerate() {
        let opening = dates.iter().rev().find(|d| **d < window.start);
        let closing = dates.iter().rev().find(|d| **d <= window.end);
        let from = opening.copied().unwrap_or(window.start);
        let mut count = 0i64;
        for day in dates.iter().filter(|d| **d >= from && **d <= window.end) {
            counted_ids.push(id as i32);
            counted_days.push(*day);
            count += 1;
        }
        if count > 0 {
            snapshot_ids.push(id as i32);
            snapshot_counts.push(count);
        }
        if let Some(closing) = closing {
            closing_ids.push(id as i32);
            closing_days.push(*closing);
        }
    }
    let counted = window_days(counted_ids, vec![("day", counted_days)])?;
    let closing_at = window_days(closing_ids, vec![("day", closing_days)])?;
    let snapshots = DataFrame::new(
        snapshot_ids.len(),
        vec![
            Series::new("window_id".into(), snapshot_ids).into(),
            Series::new("snapshots".into(), snapshot_counts).into(),
        ],
    )
    .map_err(polars_error)?
    .lazy();

    let held = by_window(
        counted,
        stock.clone(),
        dims,
        vec![complete_sum("value").alias("inventory_value_sum")],
    );
    let positions = by_window(
        spine.clone(),
        stock.clone(),
        dims,
        vec![
            len().alias("positions"),
            count_if(col("on_hand_qty").lt_eq(lit(0))).alias("out_of_stock"),
        ],
    );
    let closing = by_window(
        closing_at,
        stock,
        dims,
        vec![
            complete_sum("value").alias("closing_value"),
            sql_sum(col("on_hand_qty")).alias("closing_units"),
        ],
    );
    // The cost of goods sold, net sales and units sold: the sales query's.
    let wanted = ["cost_amount", "net_amount", "units"].map(String::from);
    let sold = super::sales::components(engine, spine, dims, windows, &wanted)?.rename(
        ["cost_amount", "net_amount", "units"],
        ["cogs", "net_sales", "units_sold"],
        true,
    );
    let all = join_groups(held, sold, dims, JoinType::Full);
    let all = left_join(all, snapshots, &["window_id"]);
    let all = join_groups(all, closing, dims, JoinType::Left);
    Ok(join_groups(all, positions, dims, JoinType::Left))
}
