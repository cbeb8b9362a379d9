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

use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::{by_window, left_join, polars_error, unknown, PolarsEngine, Span};
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
/// columns `columns`, read now (`PolarsEngine::frame`, what the stages
/// over them start from). The amounts are always read: the
/// first stage of a request then reads what the daily sums need too, in
/// the same scan (a second read of the cost alone took 0.3 s at 10M lines).
/// A dimension of the lines (store, salesperson, region, channel, sku) is
/// its key (`scan::key_of`: packed numbers, not text): a stage groups on
/// numbers and gives its dimensions back as text (`decoded`). Reading
/// region as keys instead of text took 0.55 s instead of 0.87 s at 10M
/// lines, and 0.6 GB less. The lookups of category (by sku) and segment
/// (by customer) join on whole-number codes where they can, and give
/// those dimensions as keys too (`Lookup`).
pub(super) fn lines(
    engine: &PolarsEngine,
    dims: &[String],
    new_products: bool,
    columns: &[&str],
) -> Result<LazyFrame> {
    let mut lookups: Vec<Lookup> = Vec::new();
    if new_products || dims.iter().any(|d| d == "category" || d == "subcategory") {
        lookups.push(Lookup {
            table: "products",
            on: "sku",
            columns: &["category", "subcategory", "launch_date"],
        });
    }
    if dims.iter().any(|d| d == "segment") {
        lookups.push(Lookup {
            table: "customers",
            on: "customer_id",
            columns: &["segment"],
        });
    }
    let mut read: Vec<String> = ["order_date", "quantity", "net_amount", "cost_amount"]
        .iter()
        .chain(columns)
        .map(|c| c.to_string())
        .collect();
    read.extend(lookups.iter().map(|l| super::scan::code_of(l.on)));
    let mut renamed = vec![sold().alias("sold"), col("order_date").alias("day")];
    for dim in dims {
        let source = match dim.as_str() {
            "store" => "store_id",
            "salesperson" => "salesperson_id",
            dim if LOOKED_UP.contains(&dim) => continue,
            other => other,
        };
        renamed.push(col(super::scan::key_of(source)).alias(dim.as_str()));
        read.push(super::scan::key_of(source));
    }
    let frame = |read: &mut Vec<String>| {
        read.sort_unstable();
        read.dedup();
        let read: Vec<&str> = read.iter().map(String::as_str).collect();
        engine.frame("sales", &read)
    };
    // Read now: the lookups need the lines' codes.
    let _ = frame(&mut read)?;
    // Each lookup on the codes of the lines' column, or on its text.
    let mut joins = Vec::new();
    for lookup in &lookups {
        let (table, on) = lookup.read(engine)?;
        if on != super::scan::code_of(lookup.on) {
            read.push(lookup.on.to_string());
            renamed.push(col(lookup.on).alias(on.as_str()));
        }
        joins.push((table, on));
    }
    let mut lines = frame(&mut read)?.with_columns(renamed);
    for (table, on) in joins {
        lines = left_join(lines, table, &[on.as_str()]);
    }
    Ok(lines)
}

/// The name a text joins on when it cannot join on codes (apart from the
/// dimension of the same name: `sku`'s key).
fn text_of(column: &str) -> String {
    format!("{column}:text")
}

/// What a lookup's column is read as: a dimension (category,
/// subcategory, segment) as its key, any other as it is.
fn dim_key(column: &str) -> String {
    match LOOKED_UP.contains(&column) {
        true => super::scan::key_of(column),
        false => column.to_string(),
    }
}

/// The dimensions of the sales lines that come from a lookup.
const LOOKED_UP: [&str; 3] = ["category", "subcategory", "segment"];

/// A table the sales lines join to by one of their text columns, for some
/// of its columns.
struct Lookup {
    table: &'static str,
    on: &'static str,
    columns: &'static [&'static str],
}

impl Lookup {
    /// The lookup table and the column to join on: the codes of the sales
    /// lines' column, given to the lookup's texts through their packed
    /// keys (`TableScan::codes_of_keys`: no text read, joined on whole
    /// numbers), else the text. The lines' codes must be read first.
    fn read(&self, engine: &PolarsEngine) -> Result<(LazyFrame, String)> {
        let key = super::scan::key_of(self.on);
        // The dimensions it gives as their keys too, under their names
        // (`decoded` gives the texts back after a stage's grouping):
        // gathering 10M texts into the lines cost more than the grouping.
        let dims: Vec<String> = self.columns.iter().map(|c| dim_key(c)).collect();
        let mut read = vec![key.as_str()];
        read.extend(dims.iter().map(String::as_str));
        let names: Vec<Expr> = self
            .columns
            .iter()
            .zip(&dims)
            .map(|(name, dim)| col(dim.as_str()).alias(*name))
            .collect();
        let mut selected = vec![col(key.as_str())];
        selected.extend(names.iter().cloned());
        let mut table = engine
            .frame(self.table, &read)?
            .select(selected)
            .collect()
            .map_err(polars_error)?;
        let keys = table.column(&key).map_err(polars_error)?;
        let codes = engine
            .scan("sales")?
            .codes_of_keys(self.on, keys)
            .map_err(polars_error)?;
        Ok(match codes {
            Some(codes) => {
                table = table.drop(&key).map_err(polars_error)?;
                table.with_column(codes).map_err(polars_error)?;
                (table.lazy(), super::scan::code_of(self.on))
            }
            None => {
                let mut read = vec![self.on];
                read.extend(dims.iter().map(String::as_str));
                let mut selected = vec![col(self.on).alias(text_of(self.on))];
                selected.extend(names);
                let table = engine.frame(self.table, &read)?.select(selected);
                (table, text_of(self.on))
            }
        })
    }
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
    let sums = [
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
    ];
    let lines = lines(engine, dims, new_products, &[])?;
    let sums = super::collect_lines(lines.group_by(keys).agg(sums))?;
    super::decoded(sums, dims)
}

/// Sold orders per day and group: `single` counts those sold on one day
/// (nearly all); `spread` holds the (order, day, group) of the others.
#[derive(Clone)]
pub(super) struct Orders {
    pub single: DataFrame,
    pub spread: DataFrame,
}

/// Sold orders of `sold` (lines with `day`, the order id's codes and the
/// `keys` columns) per day and keys: from the runs of each order's lines
/// where the lines come in order (`runs`), else by grouping on the order.
pub(super) fn orders_by_day(sold: LazyFrame, keys: &[Expr]) -> Result<Orders> {
    let order = super::scan::code_of("order_id");
    let mut columns = vec![col(order.as_str()), col("day")];
    columns.extend(keys.iter().cloned());
    let lines = sold.select(columns).collect().map_err(polars_error)?;
    match runs(&lines, keys)? {
        Some(orders) => Ok(orders),
        None => grouped(lines.lazy(), keys),
    }
}

/// Orders from their runs of lines, without grouping on the order: when the
/// order codes never go down from one line to the next (ids ascending, as
/// an ERP numbers them: each order's lines then follow each other) and the
/// keys stay the same within an order, an order starts where its code
/// changes, and it was sold over several days when its day changes before
/// the next starts. None when the lines are not like that.
fn runs(lines: &DataFrame, keys: &[Expr]) -> Result<Option<Orders>> {
    let order = super::scan::code_of("order_id");
    let previous = |e: Expr| e.shift(lit(1));
    let code = col(order.as_str());
    let continues = code
        .clone()
        .eq(previous(code.clone()))
        .fill_null(lit(false));
    let mut key_changes = lit(false);
    for key in keys {
        key_changes = key_changes.or(key.clone().neq_missing(previous(key.clone())));
    }
    let marked = lines
        .clone()
        .lazy()
        .with_columns([
            continues.alias("continues"),
            code.clone()
                .lt(previous(code.clone()))
                .fill_null(lit(false))
                .alias("goes_down"),
            key_changes.alias("key_changes"),
        ])
        .with_columns([
            (col("continues").and(col("key_changes"))).alias("key_changes"),
            (col("continues").and(col("day").neq_missing(previous(col("day"))))).alias("moves"),
        ])
        .collect()
        .map_err(polars_error)?;
    let any = |name: &str| -> Result<bool> {
        Ok(marked
            .column(name)
            .and_then(|c| c.bool().cloned())
            .map_err(polars_error)?
            .any())
    };
    if any("goes_down")? || any("key_changes")? {
        return Ok(None);
    }
    // The orders whose day changes within them.
    let spread_orders = marked
        .clone()
        .lazy()
        .filter(col("moves"))
        .select([code.clone()])
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(lit(true).alias("spread"))
        .collect()
        .map_err(polars_error)?;
    let mut day_keys = vec![col("day")];
    day_keys.extend(keys.iter().cloned());
    let single = left_join(
        marked.lazy().filter(col("continues").not()),
        spread_orders.clone().lazy(),
        &[order.as_str()],
    )
    .filter(col("spread").is_null())
    .group_by(day_keys)
    .agg([len().cast(DataType::Int64).alias("orders")]);
    let single = super::collect_lines(single)?;
    let mut columns = vec![code];
    columns.extend(keys.iter().cloned());
    columns.push(col("day"));
    let spread = super::collect_lines(
        lines
            .clone()
            .lazy()
            .join(
                spread_orders.lazy(),
                [col(order.as_str())],
                [col(order.as_str())],
                JoinArgs::new(JoinType::Inner),
            )
            .select(columns)
            .unique(None, UniqueKeepStrategy::Any),
    )?;
    Ok(Some(Orders { single, spread }))
}

/// Orders by grouping the lines on the order and keys: each's first and
/// last day.
fn grouped(sold: LazyFrame, keys: &[Expr]) -> Result<Orders> {
    let mut order_keys = vec![col(super::scan::code_of("order_id"))];
    order_keys.extend(keys.iter().cloned());
    let spans = super::collect_lines(sold.clone().group_by(order_keys.clone()).agg([
        col("day").min().alias("first"),
        col("day").max().alias("last"),
    ]))?
    .lazy();
    let mut day_keys = vec![col("first").alias("day")];
    day_keys.extend(keys.iter().cloned());
    let single = super::collect_lines(
        spans
            .clone()
            .filter(col("first").eq(col("last")))
            .group_by(day_keys)
            .agg([len().cast(DataType::Int64).alias("orders")]),
    )?;
    let spread_keys = super::collect_lines(
        spans
            .filter(col("first").lt(col("last")))
            .select(order_keys.clone()),
    )?;
    let mut columns = order_keys;
    columns.push(col("day"));
    let spread = super::collect_lines(if spread_keys.height() == 0 {
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
    let orders = orders_by_day(sold, &group)?;
    Ok(Orders {
        single: super::decoded(orders.single, dims)?,
        spread: super::decoded(orders.spread, dims)?,
    })
}

/// Each day's net amount (`net`), quantity (`quantity`, with `counted`
/// the lines that have one) and `lines` per group of `dims`.
pub(super) fn daily_sums(engine: &PolarsEngine, dims: &[String]) -> Result<DataFrame> {
    kept_sums(engine, dims, false)
}

/// `sums`, made once per engine for each dimensions and launch key. Every
/// sum and count adds up over groups, so a coarser grouping is summed from
/// a finer one already made (the monthly report asks for region by
/// category, then category, then region) instead of from every line again.
fn kept_sums(engine: &PolarsEngine, dims: &[String], new_products: bool) -> Result<DataFrame> {
    type Made = Arc<Mutex<Vec<(Vec<String>, bool, DataFrame)>>>;
    let made: Made = engine.cached("sales sums made", || Ok(Made::default()))?;
    let poisoned = || crate::error::Error::Internal("Polars engine: a poisoned cache".into());
    engine.cached(&format!("sales {dims:?} {new_products}"), || {
        let finer = made
            .lock()
            .map_err(|_| poisoned())?
            .iter()
            .find(|(finer, launch, _)| {
                dims.iter().all(|d| finer.contains(d)) && (*launch || !new_products)
            })
            .map(|(_, _, frame)| frame.clone());
        let sums = match finer {
            Some(finer) => summed_over(finer, dims, new_products)?,
            None => sums(engine, dims, new_products)?,
        };
        made.lock()
            .map_err(|_| poisoned())?
            .push((dims.to_vec(), new_products, sums.clone()));
        Ok(sums)
    })
}

/// `sums` per day, `dims` (and the launch date) from the sums of a finer
/// grouping.
fn summed_over(finer: DataFrame, dims: &[String], new_products: bool) -> Result<DataFrame> {
    let mut keys = vec![col("day")];
    keys.extend(dims.iter().map(|d| col(d.as_str())));
    if new_products {
        keys.push(col("launch_date"));
    }
    let sums = SUMS.map(|name| col(name).sum().alias(name));
    finer
        .lazy()
        .group_by(keys)
        .agg(sums)
        .collect()
        .map_err(polars_error)
}

/// The columns of `sums` after its keys.
const SUMS: [&str; 8] = [
    "net", "gross", "returned", "cost", "costed", "quantity", "counted", "lines",
];

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Sold lines: (order, day, customer) each.
    fn sold(lines: &[(u64, i32, u64)]) -> LazyFrame {
        let order: Vec<u64> = lines.iter().map(|l| l.0).collect();
        let day: Vec<i32> = lines.iter().map(|l| l.1).collect();
        let customer: Vec<u64> = lines.iter().map(|l| l.2).collect();
        let day = Series::new("day".into(), day)
            .cast(&DataType::Date)
            .unwrap();
        DataFrame::new(
            lines.len(),
            vec![
                Series::new(super::super::scan::code_of("order_id").into(), order).into(),
                day.into(),
                Series::new("customer".into(), customer).into(),
            ],
        )
        .unwrap()
        .lazy()
    }

    /// Each row of a frame as text, sorted.
    fn rows(frame: &DataFrame) -> Vec<String> {
        let mut rows: Vec<String> = (0..frame.height())
            .map(|i| {
                let row = frame.get_row(i).unwrap();
                row.0
                    .iter()
                    .map(|value| value.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        rows.sort();
        rows
    }

    /// Order 1 on day 10 (two lines), order 2 on day 10, order 3 on days
    /// 11 and 12, order 4 on day 12; customers 7, 8, 7, 8. By hand: day 10
    /// two orders sold on one day, day 12 one, and order 3 over two days.
    const LINES: [(u64, i32, u64); 6] = [
        (1, 10, 7),
        (1, 10, 7),
        (2, 10, 8),
        (3, 11, 7),
        (3, 12, 7),
        (4, 12, 8),
    ];

    #[test]
    fn orders_from_runs_and_from_groups_agree() {
        // The lines of orders 1 and 3 apart.
        let shuffled = [LINES[0], LINES[2], LINES[1], LINES[3], LINES[5], LINES[4]];
        for lines in [&LINES, &shuffled] {
            let orders = orders_by_day(sold(lines), &[]).unwrap();
            assert_eq!(
                rows(&orders.single),
                ["1970-01-11 2", "1970-01-13 1"],
                "{lines:?}"
            );
            assert_eq!(rows(&orders.spread), ["3 1970-01-12", "3 1970-01-13"]);
            let orders = orders_by_day(sold(lines), &[col("customer")]).unwrap();
            assert_eq!(
                rows(&orders.single),
                ["1970-01-11 7 1", "1970-01-11 8 1", "1970-01-13 8 1"]
            );
            assert_eq!(rows(&orders.spread), ["3 7 1970-01-12", "3 7 1970-01-13"]);
        }
        // In order, the runs answer; shuffled, they cannot.
        let lines = sold(&LINES).collect().unwrap();
        assert!(runs(&lines, &[col("customer")]).unwrap().is_some());
        let lines = sold(&shuffled).collect().unwrap();
        assert!(runs(&lines, &[]).unwrap().is_none());
    }

    /// An order whose lines name two customers counts once for each
    /// (grouped on order and customer): the runs give way to the groups.
    #[test]
    fn an_order_of_two_customers_counts_for_each() {
        let mut lines = LINES;
        lines[1].2 = 9;
        let frame = sold(&lines).collect().unwrap();
        assert!(runs(&frame, &[col("customer")]).unwrap().is_none());
        let orders = orders_by_day(sold(&lines), &[col("customer")]).unwrap();
        assert_eq!(
            rows(&orders.single),
            [
                "1970-01-11 7 1",
                "1970-01-11 8 1",
                "1970-01-11 9 1",
                "1970-01-13 8 1"
            ]
        );
        // Without customers the order is one order, and the runs answer.
        assert!(runs(&frame, &[]).unwrap().is_some());
        let orders = orders_by_day(sold(&lines), &[]).unwrap();
        assert_eq!(rows(&orders.single), ["1970-01-11 2", "1970-01-13 1"]);
    }
}
