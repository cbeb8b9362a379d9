//! `queries/components/sales.sql` in Polars: sales components per window
//! and dimension values. A return is a line with a negative quantity, or
//! without quantities a negative amount; a sum over a column some lines
//! lack is n/a, not a partial sum.
//!
//! Computed in two stages so that overlapping windows (year to date, the
//! moving annual total, thirteen months of a trend) do not multiply the
//! lines: first each day's partial sums and counts per group — kept by the
//! engine for the next call with the same dimensions — then the windows'
//! sums of those. Distinct orders are not additive over days; an order sold
//! on one day (nearly all) counts on that day, and the few sold over
//! several days are counted distinct per window from their days; that order
//! stage is made for the days the call's windows reach (its span) and kept
//! for any later call within them.

use polars::prelude::*;

use super::{by_window, left_join, polars_error, renamed, unknown, PolarsEngine, Span};
use crate::calendar::Window;
use crate::error::Result;

/// Whether a sales line sold (rather than returned): SQL's
/// `coalesce(quantity > 0, net_amount > 0)`.
pub(super) fn sold() -> Expr {
    when(col("quantity").is_not_null())
        .then(col("quantity").gt(lit(0)))
        .otherwise(col("net_amount").gt(lit(0)))
}

/// The sales lines with `day`, `sold`, the dimension columns and the sales
/// columns `columns`, read now (`PolarsEngine::frame`: the stages over
/// them run on the streaming engine). The amounts are always read: the
/// first stage of a request then reads what the daily sums need too, in
/// the same scan (a second read of the cost alone took 0.3 s at 10M lines).
pub(super) fn lines(
    engine: &PolarsEngine,
    dims: &[String],
    new_products: bool,
    columns: &[&str],
) -> Result<LazyFrame> {
    let mut read = vec!["order_date", "quantity", "net_amount", "cost_amount"];
    read.extend(columns);
    for dim in dims {
        read.push(match dim.as_str() {
            "store" => "store_id",
            "salesperson" => "salesperson_id",
            "category" | "subcategory" => "sku",
            "segment" => "customer_id",
            other => other,
        });
    }
    if new_products {
        read.push("sku");
    }
    read.sort_unstable();
    read.dedup();
    let mut lines = engine
        .frame("sales", &read)?
        .with_columns([sold().alias("sold"), col("order_date").alias("day")]);
    for dim in dims {
        match dim.as_str() {
            "store" => lines = lines.with_column(renamed("store_id", "store")),
            "salesperson" => lines = lines.with_column(renamed("salesperson_id", "salesperson")),
            _ => {}
        }
    }
    let by_product = dims.iter().any(|d| d == "category" || d == "subcategory");
    if by_product || new_products {
        let products = engine.frame(
            "products",
            &["sku", "category", "subcategory", "launch_date"],
        )?;
        lines = left_join(lines, products, &["sku"]);
    }
    if dims.iter().any(|d| d == "segment") {
        let customers = engine.frame("customers", &["customer_id", "segment"])?;
        lines = left_join(lines, customers, &["customer_id"]);
    }
    Ok(lines)
}

/// Each day's partial sums per group (with the launch date as a key when
/// new products are wanted: whether a line's product is new depends on its
/// day and the launch).
fn sums(engine: &PolarsEngine, dims: &[String], new_products: bool) -> Result<DataFrame> {
    let mut keys = vec![col("day")];
    keys.extend(dims.iter().map(|d| col(d.as_str())));
    if new_products {
        keys.push(col("launch_date"));
    }
    let count = |e: Expr| e.cast(DataType::Int64);
    let lines = lines(engine, dims, new_products, &[])?;
    super::collect_streaming(
        lines.group_by(keys).agg([
            col("net_amount").sum().alias("net"),
            col("net_amount").filter(col("sold")).sum().alias("gross"),
            col("net_amount")
                .filter(col("sold").not())
                .sum()
                .alias("returned"),
            col("cost_amount").sum().alias("cost"),
            count(col("cost_amount").count()).alias("costed"),
            col("quantity").sum().alias("quantity"),
            count(col("quantity").count()).alias("counted"),
            count(len()).alias("lines"),
        ]),
    )
}

/// Sold orders per day and group: `single` counts those sold on one day
/// (nearly all); `spread` holds the (order, day, group) of the others.
#[derive(Clone)]
pub(super) struct Orders {
    pub single: DataFrame,
    pub spread: DataFrame,
}

/// Sold orders of `sold` (lines with `day`, the order id's codes and the
/// `keys` columns) per day and keys.
pub(super) fn orders_by_day(sold: LazyFrame, keys: &[Expr]) -> Result<Orders> {
    let mut order_keys = vec![col(super::scan::code_of("order_id"))];
    order_keys.extend(keys.iter().cloned());
    let spans = super::collect_streaming(sold.clone().group_by(order_keys.clone()).agg([
        col("day").min().alias("first"),
        col("day").max().alias("last"),
    ]))?
    .lazy();
    let mut day_keys = vec![col("first").alias("day")];
    day_keys.extend(keys.iter().cloned());
    let single = super::collect_streaming(
        spans
            .clone()
            .filter(col("first").eq(col("last")))
            .group_by(day_keys)
            .agg([len().cast(DataType::Int64).alias("orders")]),
    )?;
    let spread_keys = super::collect_streaming(
        spans
            .filter(col("first").lt(col("last")))
            .select(order_keys.clone()),
    )?;
    let mut columns = order_keys;
    columns.push(col("day"));
    let spread = super::collect_streaming(if spread_keys.height() == 0 {
        sold.select(columns).limit(0)
    } else {
        let on: Vec<Expr> = spread_keys
            .get_column_names()
            .iter()
            .map(|name| col(name.as_str()))
            .collect();
        let mut args = JoinArgs::new(JoinType::Inner);
        args.nulls_equal = true;
        sold.join(spread_keys.lazy(), on.clone(), on, args)
            .select(columns)
            .unique(None, UniqueKeepStrategy::Any)
    })?;
    Ok(Orders { single, spread })
}

/// The sold orders of the span's days.
fn orders(engine: &PolarsEngine, dims: &[String], span: Span) -> Result<Orders> {
    let group: Vec<Expr> = dims.iter().map(|d| col(d.as_str())).collect();
    let order = super::scan::code_of("order_id");
    let sold =
        lines(engine, dims, false, &[order.as_str()])?.filter(col("sold").and(span.holds_day()));
    orders_by_day(sold, &group)
}

/// Each day's net amount (`net`), quantity (`quantity`, with `counted`
/// the lines that have one) and `lines` per group of `dims`.
pub(super) fn daily_sums(engine: &PolarsEngine, dims: &[String]) -> Result<DataFrame> {
    kept_sums(engine, dims, false)
}

/// `sums`, made once per engine for each dimensions and launch key.
fn kept_sums(engine: &PolarsEngine, dims: &[String], new_products: bool) -> Result<DataFrame> {
    engine.cached(&format!("sales {dims:?} {new_products}"), || {
        sums(engine, dims, new_products)
    })
}

pub fn components(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    windows: &[Window],
    wanted: &[String],
) -> Result<LazyFrame> {
    let has = |name: &str| wanted.iter().any(|w| w == name);
    let new_products = has("new_product_amount");
    let daily_sums = kept_sums(engine, dims, new_products)?;
    let mut group = vec![col("window_id")];
    group.extend(dims.iter().map(|d| col(d.as_str())));
    let in_windows = spine.clone().join(
        daily_sums.lazy(),
        [col("day")],
        [col("day")],
        JoinArgs::new(JoinType::Inner),
    );
    let complete = |sum: &str, counted: &str| {
        when(col(counted).sum().eq(col("lines").sum()))
            .then(col(sum).sum())
            .otherwise(lit(NULL))
    };
    let mut aggregates = Vec::new();
    for name in wanted {
        let expr = match name.as_str() {
            "net_amount" => col("net").sum(),
            "gross_amount" => col("gross").sum(),
            "returned_amount" => lit(0) - col("returned").sum(),
            "cost_amount" => complete("cost", "costed"),
            "units" => complete("quantity", "counted"),
            "lines" => col("lines").sum(),
            // Counted below, from the orders of each day.
            "orders" => continue,
            "new_product_amount" => {
                let new = col("launch_date")
                    .gt(col("year_ago"))
                    .and(col("launch_date").lt_eq(col("day")));
                let launched = col("lines").filter(col("launch_date").is_not_null()).sum();
                when(launched.eq(col("lines").sum()))
                    .then(col("net").filter(new).sum())
                    .otherwise(lit(NULL))
            }
            "all_net_amount" => col("net").sum(),
            other => return Err(unknown("sales", other)),
        };
        let alias = if name == "all_net_amount" {
            "_net"
        } else {
            name.as_str()
        };
        aggregates.push(expr.alias(alias));
    }
    let mut grouped = in_windows.group_by(group.clone()).agg(aggregates);
    if has("orders") {
        let daily = engine.cached_over(
            &format!("sales orders {dims:?}"),
            Span::of(windows),
            |span| orders(engine, dims, span),
        )?;
        let single = by_window(
            spine.clone(),
            daily.single.lazy(),
            dims,
            vec![col("orders").sum().alias("single")],
        );
        // Orders sold over several days: distinct per window and group.
        let spread = by_window(
            spine,
            daily.spread.lazy(),
            dims,
            vec![col(super::scan::code_of("order_id"))
                .n_unique()
                .cast(DataType::Int64)
                .alias("spread")],
        );
        grouped = super::join_groups(grouped, single, dims, JoinType::Left);
        grouped = super::join_groups(grouped, spread, dims, JoinType::Left).with_column(
            (col("single").fill_null(lit(0i64)) + col("spread").fill_null(lit(0i64)))
                .alias("orders"),
        );
    }
    // `all_net_amount` is the window's net amount over every group (the
    // base of a share, such as the channel mix).
    Ok(if has("all_net_amount") {
        grouped.with_column(
            col("_net")
                .sum()
                .over([col("window_id")])
                .map_err(polars_error)?
                .alias("all_net_amount"),
        )
    } else {
        grouped
    })
}
