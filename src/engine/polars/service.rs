//! `queries/components/service.sql` and `deliveries.sql` in Polars: service
//! tickets by the day they were opened in company time, and deliveries by
//! the day they were promised.

use polars::prelude::*;

use super::{
    by_window, complete_sum, count_if, join_groups, left_join, unknown, whole_div, PolarsEngine,
};
use crate::calendar::Window;
use crate::error::Result;

/// Whole seconds between two millisecond timestamps, as SQL's
/// `(epoch_ms(b) - epoch_ms(a)) // 1000` (integer division toward zero).
fn seconds_between(from: &str, to: &str) -> Expr {
    let millis = col(to) - col(from);
    when(millis.clone().gt_eq(lit(0)))
        .then(whole_div(millis.clone(), 1000))
        .otherwise(lit(0i64) - whole_div(lit(0i64) - millis, 1000))
}

/// The nearest-rank quantile `numerator / denominator` of a column: the
/// ⌈q × n⌉-th smallest of its n values (DuckDB's `quantile_disc`), in
/// integers; none without a value.
fn nearest_rank(column: &str, numerator: i64, denominator: i64) -> Expr {
    let values = col(column).drop_nulls().sort(SortOptions::default());
    let n = col(column).count().cast(DataType::Int64);
    let rank = whole_div(
        n.clone() * lit(numerator) + lit(denominator - 1),
        denominator,
    );
    when(n.gt(lit(0i64)))
        .then(values.get(rank - lit(1i64), true))
        .otherwise(lit(NULL))
}

pub fn components(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    windows: &[Window],
    wanted: &[String],
) -> Result<LazyFrame> {
    let mut tickets = engine.table("service_tickets")?.select([
        engine.local_day(col("opened_at")).alias("day"),
        col("ticket_id"),
        col("kind"),
        col("channel").alias("contact_channel"),
        col("customer_id"),
        seconds_between("opened_at", "first_response_at").alias("response_seconds"),
        seconds_between("opened_at", "resolved_at").alias("resolution_seconds"),
    ]);
    let by_customer = dims.iter().any(|d| d == "region" || d == "segment");
    if by_customer {
        let customers =
            engine
                .table("customers")?
                .select([col("customer_id"), col("region"), col("segment")]);
        tickets = left_join(tickets, customers, &["customer_id"]);
    }
    const COUNTS: [&str; 5] = [
        "tickets",
        "complaints",
        "responded",
        "responded_in_sla",
        "resolved",
    ];
    let mut aggregates = Vec::new();
    for name in wanted.iter().filter(|w| *w != "orders") {
        let expr = match name.as_str() {
            "tickets" => col("ticket_id").count(),
            "complaints" => count_if(col("kind").eq(lit("complaint"))),
            "responded" => col("response_seconds").count(),
            "responded_in_sla" => count_if(col("response_seconds").lt_eq(lit(86_400i64))),
            "response_median_seconds" => nearest_rank("response_seconds", 1, 2),
            "response_p90_seconds" => nearest_rank("response_seconds", 9, 10),
            "resolved" => col("resolution_seconds").count(),
            "resolution_median_seconds" => nearest_rank("resolution_seconds", 1, 2),
            "resolution_p90_seconds" => nearest_rank("resolution_seconds", 9, 10),
            other => return Err(unknown("service", other)),
        };
        aggregates.push(expr.alias(name.as_str()));
    }
    let counted = by_window(spine.clone(), tickets, dims, aggregates);
    let wants_orders = wanted.iter().any(|w| w == "orders");
    if !wants_orders || dims.iter().any(|d| d == "contact_channel") {
        // By contact channel there is no base of orders.
        return Ok(if wants_orders {
            counted.with_column(lit(NULL).cast(DataType::Int64).alias("orders"))
        } else {
            counted
        });
    }
    // The distinct sold orders of the same windows and groups: the sales
    // query's own count.
    let orders = super::sales::components(engine, spine, dims, windows, &["orders".to_string()])?;
    // A window with orders and no ticket has 0 complaints when tickets were
    // loaded at all; without any, the counts are missing, not 0.
    let loaded = engine.has_rows("service_tickets")?;
    let all = join_groups(counted, orders, dims, JoinType::Full);
    let filled: Vec<Expr> = wanted
        .iter()
        .filter(|w| COUNTS.contains(&w.as_str()))
        .map(|w| {
            if loaded {
                col(w.as_str()).fill_null(lit(0)).alias(w.as_str())
            } else {
                lit(NULL).cast(DataType::Int64).alias(w.as_str())
            }
        })
        .collect();
    Ok(all.with_columns(filled))
}

/// Deliveries per window: a delivery counts on the day it was promised. On
/// time = delivered (company time) on or before the promised date; one not
/// delivered is not on time; a cancelled one is not due. Freight is given only when every delivery has
/// it. Region is the order's, from its sales lines.
pub fn deliveries(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    wanted: &[String],
) -> Result<LazyFrame> {
    let mut due = engine
        .table("deliveries")?
        .filter(col("status").neq_missing(lit("cancelled")))
        .select([
            col("promised_on").alias("day"),
            col("promised_on"),
            col("order_id"),
            col("carrier"),
            col("freight_cost"),
            engine.local_day(col("delivered_at")).alias("delivered_day"),
        ]);
    if dims.iter().any(|d| d == "region") {
        let regions = engine.cached("order regions", || {
            engine
                .table("sales")?
                .group_by([col("order_id")])
                .agg([col("region").min()])
                .collect()
                .map_err(super::polars_error)
        })?;
        due = left_join(due, regions.lazy(), &["order_id"]);
    }
    let mut aggregates = Vec::new();
    for name in wanted {
        let expr = match name.as_str() {
            "due" => len(),
            "delivered" => col("delivered_day").count(),
            "on_time" => count_if(col("delivered_day").lt_eq(col("promised_on"))),
            "freight" => complete_sum("freight_cost"),
            other => return Err(unknown("deliveries", other)),
        };
        aggregates.push(expr.alias(name.as_str()));
    }
    Ok(by_window(spine, due, dims, aggregates))
}
