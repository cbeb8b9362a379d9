//! `queries/components/customers.sql` and `surveys.sql` in Polars: the
//! customers active in a window (new and returning), and the satisfaction
//! survey answers.

use polars::prelude::*;

use super::{by_window, count_if, left_join, polars_error, unknown, PolarsEngine, Span};
use crate::calendar::Window;
use crate::error::Result;

/// Each customer's sold orders per day and group (a customer as a whole
/// number: the frames of the second stage then hash no text) and the
/// orders sold over several days apart, each row with the customer's first
/// sold day, sorted by day.
#[derive(Clone)]
pub(super) struct Buyers {
    single: ByDay,
    spread: ByDay,
}

/// A frame sorted by its `day` column, and those days, to cut a window out
/// of it by two binary searches.
#[derive(Clone)]
pub(super) struct ByDay {
    frame: DataFrame,
    days: Vec<i32>,
}

impl ByDay {
    fn new(frame: DataFrame) -> Result<ByDay> {
        let frame = frame
            .sort(["day"], SortMultipleOptions::default())
            .map_err(polars_error)?;
        let days = frame
            .column("day")
            .and_then(|c| c.cast(&DataType::Int32))
            .map_err(polars_error)?;
        let days = days
            .i32()
            .map_err(polars_error)?
            .iter()
            .map(|d| d.unwrap_or(i32::MIN))
            .collect();
        Ok(ByDay { frame, days })
    }

    /// The rows dated in `window`.
    fn window(&self, window: &Window) -> DataFrame {
        let (start, end) = (
            super::days_since_epoch(window.start),
            super::days_since_epoch(window.end),
        );
        let first = self.days.partition_point(|d| *d < start);
        let last = self.days.partition_point(|d| *d <= end);
        self.frame.slice(first as i64, last - first)
    }
}

/// The buyers of the span's days. A customer's first sold day is the
/// earliest in the span, or the day before the span for a customer who
/// bought before it (all that `new_customers` needs to know: not new in
/// any window of the span).
fn buyers(engine: &PolarsEngine, dims: &[String], span: Span) -> Result<Buyers> {
    // Customers by their codes (`scan::code_of`): no text is hashed below.
    let customer = super::scan::code_of("customer_id");
    // Sold lines with a customer (a return does not make one active).
    let order = super::scan::code_of("order_id");
    let read = [customer.as_str(), order.as_str()];
    let sold = super::sales::lines(engine, dims, false, &read)?.filter(
        col(customer.as_str())
            .is_not_null()
            .and(col("sold"))
            .and(span.holds_day()),
    );
    let mut keys = vec![col(customer.as_str())];
    keys.extend(dims.iter().map(|d| col(d.as_str())));
    let orders = super::sales::orders_by_day(sold, &keys)?;
    let span_start = lit(span.first).cast(DataType::Date);
    let before = engine
        .frame(
            "sales",
            &[&customer, "quantity", "net_amount", "order_date"],
        )?
        .filter(
            col(customer.as_str())
                .is_not_null()
                .and(super::sales::sold())
                .and(col("order_date").lt(span_start)),
        )
        .select([col(customer.as_str())])
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(lit(true).alias("before"));
    let day_before = lit(span.first.saturating_sub(1)).cast(DataType::Date);
    let first = concat(
        [
            orders
                .single
                .clone()
                .lazy()
                .select([col(customer.as_str()), col("day")]),
            orders
                .spread
                .clone()
                .lazy()
                .select([col(customer.as_str()), col("day")]),
        ],
        UnionArgs::default(),
    )
    .map_err(polars_error)?
    .group_by([col(customer.as_str())])
    .agg([col("day").min().alias("first_day")]);
    let first = super::collect_lines(
        left_join(first, before, &[customer.as_str()])
            .with_column(
                when(col("before").is_null())
                    .then(col("first_day"))
                    .otherwise(day_before)
                    .alias("first_day"),
            )
            .select([col(customer.as_str()), col("first_day")]),
    )?;
    // Each row with its customer's first sold day; the code is the customer.
    let coded = |frame: DataFrame| {
        super::collect_lines(
            left_join(frame.lazy(), first.clone().lazy(), &[customer.as_str()]).rename(
                [customer.as_str()],
                ["customer"],
                true,
            ),
        )
    };
    Ok(Buyers {
        single: ByDay::new(super::decoded(coded(orders.single)?, dims)?)?,
        spread: ByDay::new(super::decoded(coded(orders.spread)?, dims)?)?,
    })
}

/// Customers per window, from their sold lines (a return does not make a
/// customer active). New: the customer's first sold line ever is in the
/// window. With two orders or more: distinct sold orders in the window ≥ 2.
/// Lines without a customer are left out.
pub fn components(
    engine: &PolarsEngine,
    dims: &[String],
    windows: &[Window],
    wanted: &[String],
) -> Result<LazyFrame> {
    let buyers_of =
        engine.cached_over(&format!("customers {dims:?}"), Span::of(windows), |span| {
            buyers(engine, dims, span)
        })?;
    let group: Vec<Expr> = dims.iter().map(|d| col(d.as_str())).collect();
    let mut customer_keys = group.clone();
    customer_keys.push(col("customer"));
    // Each window is a slice of the frames sorted by day: no window
    // multiplies the rows of another.
    let mut parts = Vec::new();
    for (id, window) in windows.iter().enumerate() {
        let (single, spread) = (
            buyers_of.single.window(window),
            buyers_of.spread.window(window),
        );
        if single.height() == 0 && spread.height() == 0 {
            continue;
        }
        let single = single.lazy().group_by(customer_keys.clone()).agg([
            col("orders").sum().alias("orders"),
            col("first_day").first(),
        ]);
        let buyers = if spread.height() == 0 {
            single
        } else {
            // Orders sold over several days: distinct per customer.
            let spread = spread.lazy().group_by(customer_keys.clone()).agg([
                col(super::scan::code_of("order_id"))
                    .n_unique()
                    .cast(DataType::Int64)
                    .alias("spread"),
                col("first_day").first().alias("first_day_spread"),
            ]);
            let mut args =
                JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns);
            args.nulls_equal = true;
            single
                .join(spread, customer_keys.clone(), customer_keys.clone(), args)
                .with_columns([
                    (col("orders").fill_null(lit(0i64)) + col("spread").fill_null(lit(0i64)))
                        .alias("orders"),
                    when(col("first_day").is_null())
                        .then(col("first_day_spread"))
                        .otherwise(col("first_day"))
                        .alias("first_day"),
                ])
        };
        let start = lit(super::days_since_epoch(window.start)).cast(DataType::Date);
        let mut aggregates = Vec::new();
        for name in wanted {
            let expr = match name.as_str() {
                "active_customers" => len().cast(DataType::Int64),
                "new_customers" => count_if(col("first_day").gt_eq(start.clone())),
                "customers_with_repeat_orders" => count_if(col("orders").gt_eq(lit(2))),
                other => return Err(unknown("customers", other)),
            };
            aggregates.push(expr.alias(name.as_str()));
        }
        let counted = if dims.is_empty() {
            buyers.select(aggregates)
        } else {
            buyers.group_by(group.clone()).agg(aggregates)
        };
        parts.push(counted.with_column(lit(id as i32).alias("window_id")));
    }
    if parts.is_empty() {
        let mut fields = vec![Field::new("window_id".into(), DataType::Int32)];
        fields.extend(
            dims.iter()
                .map(|d| Field::new(d.as_str().into(), DataType::String)),
        );
        fields.extend(
            wanted
                .iter()
                .map(|w| Field::new(w.as_str().into(), DataType::Int64)),
        );
        return Ok(DataFrame::empty_with_schema(&Schema::from_iter(fields)).lazy());
    }
    concat(parts, UnionArgs::default()).map_err(polars_error)
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
