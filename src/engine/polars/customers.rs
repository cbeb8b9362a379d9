//! `queries/components/customers.sql` and `surveys.sql` in Polars: the
//! customers active in a window (new and returning), and the satisfaction
//! survey answers.

use polars::prelude::*;

use super::{by_window, count_if, join_groups, left_join, polars_error, unknown, PolarsEngine};
use crate::error::Result;

/// Each customer's sold orders per day and group (a customer as a whole
/// number: the frames of the second stage then hash no text), the orders
/// sold over several days apart, and each customer's first sold day.
#[derive(Clone)]
pub(super) struct Buyers {
    single: DataFrame,
    spread: DataFrame,
    first: DataFrame,
}

fn buyers(engine: &PolarsEngine, dims: &[String]) -> Result<Buyers> {
    let mut sold = engine
        .table("sales")?
        .filter(col("customer_id").is_not_null().and(super::sales::sold()))
        .select(
            [
                col("order_date").alias("day"),
                col("order_id"),
                col("customer_id"),
            ]
            .into_iter()
            .chain(
                dims.iter()
                    .filter(|d| *d != "segment")
                    .map(|d| col(d.as_str())),
            )
            .collect::<Vec<_>>(),
        );
    if dims.iter().any(|d| d == "segment") {
        let customers = engine
            .table("customers")?
            .select([col("customer_id"), col("segment")]);
        sold = left_join(sold, customers, &["customer_id"]);
    }
    let mut keys = vec![col("customer_id")];
    keys.extend(dims.iter().map(|d| col(d.as_str())));
    let orders = super::sales::orders_by_day(sold, &keys)?;
    // The first sold day: the earliest day of any order.
    let first = concat(
        [
            orders
                .single
                .clone()
                .lazy()
                .select([col("customer_id"), col("day")]),
            orders
                .spread
                .clone()
                .lazy()
                .select([col("customer_id"), col("day")]),
        ],
        UnionArgs::default(),
    )
    .map_err(polars_error)?
    .group_by([col("customer_id")])
    .agg([col("day").min().alias("first_day")])
    .with_row_index("customer", None)
    .collect()
    .map_err(polars_error)?;
    // Collected once: every frame below must see the same numbering.
    let codes = first
        .clone()
        .lazy()
        .select([col("customer_id"), col("customer")]);
    let coded = |frame: DataFrame| {
        left_join(frame.lazy(), codes.clone(), &["customer_id"])
            .drop(Selector::ByName {
                names: Arc::new([PlSmallStr::from("customer_id")]),
                strict: true,
            })
            .collect()
            .map_err(polars_error)
    };
    Ok(Buyers {
        single: coded(orders.single)?,
        spread: coded(orders.spread)?,
        first: first
            .lazy()
            .select([col("customer"), col("first_day")])
            .collect()
            .map_err(polars_error)?,
    })
}

/// Customers per window, from their sold lines (a return does not make a
/// customer active). New: the customer's first sold line ever is in the
/// window. With two orders or more: distinct sold orders in the window ≥ 2.
/// Lines without a customer are left out.
pub fn components(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    wanted: &[String],
) -> Result<LazyFrame> {
    let buyers_of = engine.cached(&format!("customers {dims:?}"), || buyers(engine, dims))?;
    let starts = spine
        .clone()
        .group_by([col("window_id")])
        .agg([col("window_start").first()]);
    let mut keys = vec![col("window_id")];
    keys.extend(dims.iter().map(|d| col(d.as_str())));
    let mut buyer_keys = keys.clone();
    buyer_keys.push(col("customer"));
    let days = spine.select([col("window_id"), col("day")]);
    let windowed = |frame: DataFrame| {
        days.clone().join(
            frame.lazy(),
            [col("day")],
            [col("day")],
            JoinArgs::new(JoinType::Inner),
        )
    };
    let single = windowed(buyers_of.single)
        .group_by(buyer_keys.clone())
        .agg([col("orders").sum().alias("single")]);
    // Orders sold over several days: distinct per window and customer.
    let spread = windowed(buyers_of.spread)
        .group_by(buyer_keys.clone())
        .agg([col("order_id")
            .n_unique()
            .cast(DataType::Int64)
            .alias("spread")]);
    let mut customer_dims = dims.to_vec();
    customer_dims.push("customer".into());
    let buyers = join_groups(single, spread, &customer_dims, JoinType::Full).with_column(
        (col("single").fill_null(lit(0i64)) + col("spread").fill_null(lit(0i64))).alias("orders"),
    );
    let buyers = left_join(buyers, buyers_of.first.lazy(), &["customer"]);
    let buyers = left_join(buyers, starts, &["window_id"]);
    let mut aggregates = Vec::new();
    for name in wanted {
        let expr = match name.as_str() {
            "active_customers" => len(),
            "new_customers" => count_if(col("first_day").gt_eq(col("window_start"))),
            "customers_with_repeat_orders" => count_if(col("orders").gt_eq(lit(2))),
            other => return Err(unknown("customers", other)),
        };
        aggregates.push(expr.alias(name.as_str()));
    }
    Ok(buyers.group_by(keys).agg(aggregates))
}

/// Survey answers per window: CSAT on 1–5 (satisfied = 4 or 5), NPS on
/// 0–10 (promoters 9–10, detractors 0–6). A missing score is not an answer.
/// By salesperson, an answer counts for the salesperson of its order (the
/// first by id when an order has several).
pub fn surveys(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    wanted: &[String],
) -> Result<LazyFrame> {
    let mut answers = engine
        .table("surveys")?
        .with_column(col("answered_on").alias("day"));
    if dims.iter().any(|d| d == "region" || d == "segment") {
        let customers =
            engine
                .table("customers")?
                .select([col("customer_id"), col("region"), col("segment")]);
        answers = left_join(answers, customers, &["customer_id"]);
    }
    if dims.iter().any(|d| d == "salesperson") {
        let sellers = engine.cached("order salespeople", || {
            engine
                .table("sales")?
                .filter(col("quantity").gt(lit(0)))
                .group_by([col("order_id")])
                .agg([col("salesperson_id").min().alias("salesperson")])
                .collect()
                .map_err(polars_error)
        })?;
        answers = left_join(answers, sellers.lazy(), &["order_id"]);
    }
    let mut aggregates = Vec::new();
    for name in wanted {
        let expr = match name.as_str() {
            "csat_answers" => col("csat_score").count(),
            "csat_satisfied" => count_if(col("csat_score").gt_eq(lit(4))),
            "csat_points" => col("csat_score").sum(),
            "nps_answers" => col("nps_score").count(),
            "promoters" => count_if(col("nps_score").gt_eq(lit(9))),
            "detractors" => count_if(col("nps_score").lt_eq(lit(6))),
            other => return Err(unknown("surveys", other)),
        };
        aggregates.push(expr.alias(name.as_str()));
    }
    Ok(by_window(spine, answers, dims, aggregates))
}
