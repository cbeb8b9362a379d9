//! `queries/components/sales.sql` in Polars: sales components per window
//! and dimension values. A return is a line with a negative quantity, or
//! without quantities a negative amount; a sum over a column some lines
//! lack is n/a, not a partial sum.

use polars::prelude::*;

use super::PolarsEngine;
use crate::error::{Error, Result};

/// The sum of `column` when every line has it; otherwise null.
fn complete_sum(column: &str) -> Expr {
    when(col(column).count().eq(len()))
        .then(col(column).sum())
        .otherwise(lit(NULL))
}

pub fn components(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    wanted: &[String],
) -> Result<LazyFrame> {
    let sales = engine.table("sales")?;
    let sold = when(col("quantity").is_not_null())
        .then(col("quantity").gt(lit(0)))
        .otherwise(col("net_amount").gt(lit(0)));
    let mut lines = sales.with_column(sold.alias("sold"));
    let mut keys = vec![col("window_id")];
    for dim in dims {
        let (source, name) = match dim.as_str() {
            "store" => ("store_id", "store"),
            "salesperson" => ("salesperson_id", "salesperson"),
            other => (other, other),
        };
        if source != name {
            lines = lines.with_column(col(source).alias(name));
        }
        keys.push(col(name));
    }
    if dims.iter().any(|d| d == "category" || d == "subcategory") {
        let products =
            engine
                .table("products")?
                .select([col("sku"), col("category"), col("subcategory")]);
        lines = lines.join(
            products,
            [col("sku")],
            [col("sku")],
            JoinArgs::new(JoinType::Left),
        );
    }
    if dims.iter().any(|d| d == "segment") {
        let customers = engine
            .table("customers")?
            .select([col("customer_id"), col("segment")]);
        lines = lines.join(
            customers,
            [col("customer_id")],
            [col("customer_id")],
            JoinArgs::new(JoinType::Left),
        );
    }
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
            other => {
                return Err(Error::config_hint(
                    format!("the Polars engine does not compute sales component `{other}` yet"),
                    "use the DuckDB engine (the default) for it",
                ))
            }
        };
        aggregates.push(expr.alias(name.as_str()));
    }
    let joined = spine.join(
        lines.rename(["order_date"], ["day"], true),
        [col("day")],
        [col("day")],
        JoinArgs::new(JoinType::Inner),
    );
    Ok(joined.group_by(keys).agg(aggregates))
}
