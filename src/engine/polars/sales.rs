//! `queries/components/sales.sql` in Polars: sales components per window
//! and dimension values. A return is a line with a negative quantity, or
//! without quantities a negative amount; a sum over a column some lines
//! lack is n/a, not a partial sum.

use polars::prelude::*;

use super::{by_window, complete_sum, left_join, renamed, unknown, PolarsEngine};
use crate::error::Result;

/// Whether a sales line sold (rather than returned): SQL's
/// `coalesce(quantity > 0, net_amount > 0)`.
pub(super) fn sold() -> Expr {
    when(col("quantity").is_not_null())
        .then(col("quantity").gt(lit(0)))
        .otherwise(col("net_amount").gt(lit(0)))
}

pub fn components(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    wanted: &[String],
) -> Result<LazyFrame> {
    let has = |name: &str| wanted.iter().any(|w| w == name);
    let mut lines = engine
        .table("sales")?
        .with_columns([sold().alias("sold"), col("order_date").alias("day")]);
    for dim in dims {
        match dim.as_str() {
            "store" => lines = lines.with_column(renamed("store_id", "store")),
            "salesperson" => lines = lines.with_column(renamed("salesperson_id", "salesperson")),
            _ => {}
        }
    }
    let by_product = dims.iter().any(|d| d == "category" || d == "subcategory");
    if by_product || has("new_product_amount") {
        let products = engine.table("products")?.select([
            col("sku"),
            col("category"),
            col("subcategory"),
            col("launch_date"),
        ]);
        lines = left_join(lines, products, &["sku"]);
    }
    if dims.iter().any(|d| d == "segment") {
        let customers = engine
            .table("customers")?
            .select([col("customer_id"), col("segment")]);
        lines = left_join(lines, customers, &["customer_id"]);
    }
    // A launch in the twelve months up to the line's day: the spine knows
    // each day's date a year before.
    let spine = if has("new_product_amount") {
        spine
    } else {
        spine.select([col("window_id"), col("day")])
    };
    let mut aggregates = Vec::new();
    for name in wanted {
        let expr = match name.as_str() {
            "net_amount" => col("net_amount").sum(),
            "gross_amount" => col("net_amount").filter(col("sold")).sum(),
            "returned_amount" => lit(0) - col("net_amount").filter(col("sold").not()).sum(),
            "cost_amount" => complete_sum("cost_amount"),
            "units" => complete_sum("quantity"),
            "orders" => col("order_id").filter(col("sold")).n_unique(),
            "lines" => len(),
            "new_product_amount" => {
                let new = col("launch_date")
                    .gt(col("year_ago"))
                    .and(col("launch_date").lt_eq(col("day")));
                when(col("launch_date").count().eq(len()))
                    .then(col("net_amount").filter(new).sum())
                    .otherwise(lit(NULL))
            }
            "all_net_amount" => col("net_amount").sum().alias("_net"),
            other => return Err(unknown("sales", other)),
        };
        if name != "all_net_amount" {
            aggregates.push(expr.alias(name.as_str()));
        } else {
            aggregates.push(expr);
        }
    }
    let grouped = if has("new_product_amount") {
        // The spine's extra columns must reach the lines before grouping.
        let mut keys = vec![col("window_id")];
        keys.extend(dims.iter().map(|d| col(d.as_str())));
        spine
            .join(
                lines,
                [col("day")],
                [col("day")],
                JoinArgs::new(JoinType::Inner),
            )
            .group_by(keys)
            .agg(aggregates)
    } else {
        by_window(spine, lines, dims, aggregates)
    };
    // `all_net_amount` is the window's net amount over every group (the
    // base of a share, such as the channel mix).
    Ok(if has("all_net_amount") {
        grouped.with_column(
            col("_net")
                .sum()
                .over([col("window_id")])
                .map_err(super::polars_error)?
                .alias("all_net_amount"),
        )
    } else {
        grouped
    })
}
