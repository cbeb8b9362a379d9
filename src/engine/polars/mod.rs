//! The Polars engine: every component query of the catalogue written again
//! with Polars lazy frames, over the canonical tables as scans of the
//! warehouse. It answers the same `Engine` contract as the DuckDB engine —
//! components per window and group, exact decimals — and the parity tests
//! hold the two to the last digit.
//!
//! One file per query family, named after the SQL in `queries/components/`
//! (`sales.rs`, `targets.rs`, `market.rs`, `customers.rs` with surveys,
//! `inventory.rs`, `service.rs` with deliveries, `operations.rs` with
//! purchasing, quality, projects and ratings); each builds a lazy frame with
//! `window_id`, the dimensions and the wanted components. The shared shapes
//! are here: the spine of days, a fact table counted on the day of each row,
//! SQL's null rules (`sql_sum`: NULL over no value, where Polars says 0;
//! `complete_sum`, `count_if`), joins that match missing keys as `IS NOT
//! DISTINCT FROM` does, the reading of a collected frame into `Components`,
//! and the cache of intermediate frames kept for the engine's next call.
//!
//! **Reading the warehouse.** `scan.rs` makes each canonical table a Polars
//! scan over the warehouse (projection pushed down: only the columns a query
//! uses cross from DuckDB, once per engine). `read.rs` reads them, large
//! tables in parallel row-id ranges, copying each of DuckDB's 2,048-row
//! Arrow batches of numbers and dates into the range's slice of one buffer
//! per column, allocated once at the table's size: the batches' memory is
//! reused and the values land in memory once. Text stays in DuckDB's arrays.
//!
//! **Ids as numbers.** Each text column also offers whole-number codes
//! (`NAME:code`), so that orders and customers are grouped and joined on
//! integers — codes of one table's column, never compared across tables.
//! `packed.rs` makes them without the text crossing at all: `_opskpi_pack`,
//! a Rust function in DuckDB's scan, writes each short text one-to-one as a
//! 128-bit number (ASCII up to 17 bytes, any text up to 15), which is
//! numbered in Polars (runs when sorted, else the distance from the smallest
//! when the numbers span less than 2^64, else a hash map); a column holding a
//! longer text is read as text and coded from it — never a hash of the text,
//! which two texts could share. A text column's key (`NAME:key`) is its
//! packed numbers themselves (the same text, the same number in every
//! table), or the text when one is too long to pack: the sales lines group
//! on the keys of their dimensions (store, salesperson, region, channel,
//! sku) and each stage unpacks them after. Lookups (category by sku,
//! segment by customer) join on the lines' codes where a column's codes are
//! distances from one packed number (`TableScan::codes_of_keys`), else on
//! text.
//!
//! **Stages.** The stages over the sales lines (daily sums, each order's
//! days, buyers, first purchases) name the columns they read and are
//! collected by `collect_lines` (Polars' in-memory engine; its streaming
//! engine is not built, to keep the cold build in budget). Sales and customers run in two stages: each day's partial sums
//! (or buyers) per dimensions, kept for the next call (a coarser grouping is
//! summed from a finer one kept: region from region by category), then the
//! windows' sums, so overlapping windows (year to date, moving annual total)
//! never multiply the lines. Each order's days come from its run of lines
//! when the order codes never go down and the other keys stay the same
//! within an order, else from grouping on the order and keys
//! (`sales::orders_by_day`). The order-level stages are made only for the
//! days a call's windows reach — its span — and kept for any later call
//! within it; a customer who bought before the span is marked so (its first
//! day set to the day before the span), which is all "new in a window"
//! needs.
//!
//! **Adding a component query** means writing it for both engines:
//! `queries/components/NAME.sql` and a function here (matched by name in
//! `PolarsEngine::components`), with the same components, dimensions and
//! null rules (a sum over nothing is NULL, a sum over a column some rows lack
//! is NULL, a count is 0); `tests/engines.rs` holds them to each other. A
//! Polars function reads no table its SQL does not name (`--data` loads only
//! those; the same test checks `PolarsEngine::tables_read`). A project's own
//! SQL component queries run on DuckDB only, and this engine says so.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{Months, NaiveDate};
use polars::prelude::*;
use rust_decimal::Decimal;

use crate::calendar::{days_since_epoch, Window};
use crate::error::{Error, Result};
use crate::indicators::{Components, Engine, Group, QueryDef, Values};
use crate::warehouse::Warehouse;

mod customers;
mod inventory;
mod market;
mod operations;
mod packed;
mod read;
mod sales;
mod scan;
mod service;
mod targets;

/// The canonical tables as Polars scans over the warehouse (`scan.rs`):
/// each column a query uses is read once.
pub struct PolarsEngine<'a> {
    warehouse: &'a Warehouse,
    offset_seconds: i32,
    tables: BTreeMap<&'static str, OnceLock<Arc<scan::TableScan>>>,
    /// From how many rows a table is read in parallel ranges.
    split_from: usize,
    /// Intermediate frames kept for the next call (a query's daily sums per
    /// dimensions, lookups), by name.
    kept: Mutex<HashMap<String, Box<dyn Any + Send + Sync>>>,
}

impl<'a> PolarsEngine<'a> {
    /// An engine over the warehouse's tables, in the warehouse's time zone.
    pub fn new(warehouse: &'a Warehouse) -> PolarsEngine<'a> {
        let tables = crate::model::TABLES
            .iter()
            .map(|table| (table.name, OnceLock::new()))
            .collect();
        PolarsEngine {
            warehouse,
            offset_seconds: warehouse.offset_seconds(),
            tables,
            split_from: 1 << 20,
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// The canonical tables this engine has read so far (`--data` loads
    /// only the tables a request's SQL names: the Polars engine must read
    /// no other, which a test checks with this).
    pub fn tables_read(&self) -> Vec<&'static str> {
        self.tables
            .iter()
            .filter(|(_, slot)| slot.get().is_some())
            .map(|(name, _)| *name)
            .collect()
    }

    /// Reads tables of at least `rows` rows in parallel ranges (default:
    /// about a million; tests set it low to exercise the ranges).
    pub fn split_reads_from(mut self, rows: usize) -> PolarsEngine<'a> {
        self.split_from = rows;
        self
    }

    fn scan(&self, name: &'static str) -> Result<Arc<scan::TableScan>> {
        let slot = self
            .tables
            .get(name)
            .ok_or_else(|| Error::Internal(format!("no canonical table `{name}`")))?;
        if slot.get().is_none() {
            let table = crate::model::table(name)
                .ok_or_else(|| Error::Internal(format!("no canonical table `{name}`")))?;
            let conn = self
                .warehouse
                .connection()
                .try_clone()
                .map_err(Error::query("a second connection"))?;
            packed::register(&conn).map_err(Error::query("register the packing of ids"))?;
            let _ = slot.set(Arc::new(scan::TableScan::new(table, conn, self.split_from)));
        }
        Ok(Arc::clone(slot.get().expect("just set")))
    }

    /// The value kept under `key`, made by `make` the first time.
    fn cached<T: Clone + Send + Sync + 'static>(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.cached_over(key, Span::ALL, |_| make())
    }

    /// The value kept under `key` for a span covering `span`, made by
    /// `make` for `span` when none is kept yet.
    fn cached_over<T: Clone + Send + Sync + 'static>(
        &self,
        key: &str,
        span: Span,
        make: impl FnOnce(Span) -> Result<T>,
    ) -> Result<T> {
        let poisoned = || Error::Internal("Polars engine: a poisoned cache".into());
        let found = self
            .kept
            .lock()
            .map_err(|_| poisoned())?
            .get(key)
            .and_then(|kept| kept.downcast_ref::<Vec<(Span, T)>>())
            .and_then(|spans| spans.iter().find(|(kept, _)| kept.covers(&span)))
            .map(|(_, value)| value.clone());
        if let Some(found) = found {
            return Ok(found);
        }
        let made = make(span)?;
        let mut kept = self.kept.lock().map_err(|_| poisoned())?;
        let entry = kept
            .entry(key.to_string())
            .or_insert_with(|| Box::new(Vec::<(Span, T)>::new()));
        if let Some(spans) = entry.downcast_mut::<Vec<(Span, T)>>() {
            spans.push((span, made.clone()));
        }
        Ok(made)
    }

    /// A canonical table as a lazy frame.
    fn table(&self, name: &'static str) -> Result<LazyFrame> {
        let scan = self.scan(name)?;
        let args = ScanArgsAnonymous {
            schema: Some(scan.schema()),
            name: "canonical table",
            ..ScanArgsAnonymous::default()
        };
        LazyFrame::anonymous_scan(scan, args).map_err(polars_error)
    }

    /// Columns `columns` of a canonical table (a text's codes as
    /// `scan::code_of`), read now, as a lazy frame over memory: what a stage
    /// collected by `collect_lines` starts from (kept so, although they are
    /// now collected in memory: Polars' streaming engine, should it come
    /// back, cannot run the lazy scans of `table`).
    fn frame(&self, name: &'static str, columns: &[&str]) -> Result<LazyFrame> {
        let names: Vec<PlSmallStr> = columns.iter().map(|c| PlSmallStr::from(*c)).collect();
        let frame = self.scan(name)?.columns(&names).map_err(polars_error)?;
        Ok(frame.lazy())
    }

    /// Whether a table holds any row.
    fn has_rows(&self, name: &'static str) -> Result<bool> {
        self.count(
            self.table(name)?
                .select([len().cast(DataType::Int64).alias("n")]),
        )
        .map(|n| n > 0)
    }

    /// The one whole number a one-row frame holds.
    fn count(&self, frame: LazyFrame) -> Result<i64> {
        let frame = frame.collect().map_err(polars_error)?;
        let column = frame
            .column("n")
            .map_err(polars_error)?
            .i64()
            .map_err(polars_error)?
            .clone();
        Ok(column.get(0).unwrap_or(0))
    }

    /// Whether a column of a table has any value (a column no source
    /// provided is all missing).
    fn has_values(&self, name: &'static str, column: &str) -> Result<bool> {
        let values = col(column).count().cast(DataType::Int64).alias("n");
        self.count(self.table(name)?.select([values]))
            .map(|n| n > 0)
    }

    /// The day of a millisecond timestamp in company time: SQL's
    /// `CAST(ts::TIMESTAMP + to_seconds(offset) AS DATE)` (a datetime's date
    /// is the day it falls in).
    fn local_day(&self, millis: Expr) -> Expr {
        (millis + lit(i64::from(self.offset_seconds) * 1000))
            .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
            .cast(DataType::Date)
    }
}

/// `x // divisor` for a whole number `x ≥ 0` and a positive divisor, in
/// integers. (Polars' own integer division needs its `round_series`
/// feature, a rebuild of Polars for one operator: `x − x mod d` is a
/// multiple of `d`, and Polars divides it as a float, exactly for any
/// |x| < 2⁵³ — counts and millisecond durations are far below.)
fn whole_div(x: Expr, divisor: i64) -> Expr {
    ((x.clone() - x % lit(divisor)) / lit(divisor)).cast(DataType::Int64)
}

/// A frame of a stage over the sales lines; the frame must start from
/// `frame`, not from the lazy scans of `table`. Collected by Polars'
/// in-memory engine: its streaming engine ran these group-bys and joins two
/// to three times as fast (10M lines on 2 cores: first purchase per customer
/// 0.69 → 0.33 s, each order's first and last day 2.3 → 0.73 s) but added
/// about ten minutes to a cold build, past the CI budget (CONTRIBUTING.md:
/// Building); this is the one place to put it back.
fn collect_lines(frame: LazyFrame) -> Result<DataFrame> {
    frame.collect().map_err(polars_error)
}

fn polars_error(error: PolarsError) -> Error {
    Error::Internal(format!("Polars engine: {error}"))
}

/// The days a call's windows reach, from the first window's start to the
/// last one's end (days since the epoch). Order-level work (distinct
/// orders, buyers) is done only on the lines of these days.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Span {
    first: i32,
    last: i32,
}

impl Span {
    /// Every day (what a value kept regardless of days is made for).
    const ALL: Span = Span {
        first: i32::MIN,
        last: i32::MAX,
    };

    fn of(windows: &[Window]) -> Span {
        Span {
            first: windows
                .iter()
                .map(|w| days_since_epoch(w.start))
                .min()
                .unwrap_or(Span::ALL.first),
            last: windows
                .iter()
                .map(|w| days_since_epoch(w.end))
                .max()
                .unwrap_or(Span::ALL.last),
        }
    }

    fn covers(&self, other: &Span) -> bool {
        self.first <= other.first && other.last <= self.last
    }

    /// Whether the `day` column is in the span.
    fn holds_day(&self) -> Expr {
        let day = |d: i32| lit(d).cast(DataType::Date);
        col("day")
            .gt_eq(day(self.first))
            .and(col("day").lt_eq(day(self.last)))
    }
}

/// A frame of `window_id` and any number of date columns, built in Rust.
fn window_days(ids: Vec<i32>, dates: Vec<(&str, Vec<NaiveDate>)>) -> Result<LazyFrame> {
    let height = ids.len();
    let mut columns: Vec<Column> = vec![Series::new("window_id".into(), ids).into()];
    for (name, days) in dates {
        let days: Vec<i32> = days.into_iter().map(days_since_epoch).collect();
        let series = Series::new(name.into(), days)
            .cast(&DataType::Date)
            .map_err(polars_error)?;
        columns.push(series.into());
    }
    Ok(DataFrame::new(height, columns)
        .map_err(polars_error)?
        .lazy())
}

/// The days of every window: `window_id` (its index), `day`, the window's
/// first day (`window_start`) and the day twelve months before (`year_ago`,
/// SQL's `day - INTERVAL 12 MONTH`: a month end clamps to the shorter month).
fn spine(windows: &[Window]) -> Result<LazyFrame> {
    let (mut ids, mut days, mut starts, mut year_ago) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (id, window) in windows.iter().enumerate() {
        let mut day = window.start;
        while day <= window.end {
            ids.push(id as i32);
            days.push(day);
            starts.push(window.start);
            year_ago.push(day - Months::new(12));
            day = day.succ_opt().expect("a next day");
        }
    }
    window_days(
        ids,
        vec![
            ("day", days),
            ("window_start", starts),
            ("year_ago", year_ago),
        ],
    )
}

/// SQL's `sum`: NULL when no row has a value (Polars sums nothing to 0).
fn sql_sum(values: Expr) -> Expr {
    when(values.clone().count().gt(lit(0)))
        .then(values.sum())
        .otherwise(lit(NULL))
}

/// The sum of `column` when every row has it; otherwise null.
fn complete_sum(column: &str) -> Expr {
    when(col(column).count().eq(len()))
        .then(col(column).sum())
        .otherwise(lit(NULL))
}

/// SQL's `count(*) FILTER (WHERE condition)`: a missing condition is false.
fn count_if(condition: Expr) -> Expr {
    condition.fill_null(lit(false)).cast(DataType::Int64).sum()
}

/// The rows of `facts` (with a `day` column) counted in every window that
/// holds their day, grouped by window and `dims`.
fn by_window(
    spine: LazyFrame,
    facts: LazyFrame,
    dims: &[String],
    aggregates: Vec<Expr>,
) -> LazyFrame {
    let mut keys = vec![col("window_id")];
    keys.extend(dims.iter().map(|d| col(d.as_str())));
    spine
        .select([col("window_id"), col("day")])
        .join(
            facts,
            [col("day")],
            [col("day")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by(keys)
        .agg(aggregates)
}

/// `frame` with its dimension columns as text (a stage groups on their
/// keys, `scan::key_of`).
fn decoded(mut frame: DataFrame, dims: &[String]) -> Result<DataFrame> {
    for dim in dims {
        if let Ok(column) = frame.column(dim.as_str()) {
            let text = packed::decode(column).map_err(polars_error)?;
            frame.with_column(text).map_err(polars_error)?;
        }
    }
    Ok(frame)
}

/// `left LEFT JOIN right USING (key)`.
fn left_join(left: LazyFrame, right: LazyFrame, keys: &[&str]) -> LazyFrame {
    let on: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    left.join(right, on.clone(), on, JoinArgs::new(JoinType::Left))
}

/// Joins on the window and the dimensions, matching missing dimension
/// values (`IS NOT DISTINCT FROM`); a full join coalesces the keys.
fn join_groups(left: LazyFrame, right: LazyFrame, dims: &[String], how: JoinType) -> LazyFrame {
    let mut on = vec![col("window_id")];
    on.extend(dims.iter().map(|d| col(d.as_str())));
    let mut args = JoinArgs::new(how).with_coalesce(JoinCoalesce::CoalesceColumns);
    args.nulls_equal = true;
    left.join(right, on.clone(), on, args)
}

/// A dimension taken from another column under its own name.
fn renamed(source: &str, name: &str) -> Expr {
    col(source).alias(name)
}

/// The collected frame's rows as components: `window_id`, the dimensions
/// (text, or null), then each wanted component, as exact decimals.
fn read(
    frame: DataFrame,
    query: &QueryDef,
    dims: &[String],
    windows: &[Window],
    wanted: &[String],
) -> Result<Components> {
    let ids = frame
        .column("window_id")
        .and_then(|c| c.cast(&DataType::Int32))
        .map_err(polars_error)?;
    let ids = ids.i32().map_err(polars_error)?.clone();
    let mut dim_columns = Vec::new();
    for dim in dims {
        let column = frame
            .column(dim)
            .and_then(|c| c.cast(&DataType::String))
            .map_err(polars_error)?;
        dim_columns.push(column.str().map_err(polars_error)?.clone());
    }
    let mut value_columns = Vec::new();
    for name in &query.components {
        if !wanted.contains(name) {
            value_columns.push(None);
            continue;
        }
        let column = frame.column(name).map_err(polars_error)?;
        if matches!(column.dtype(), DataType::Float32 | DataType::Float64) {
            return Err(Error::Internal(format!(
                "Polars engine: component `{name}` is floating point; components must be exact"
            )));
        }
        let exact = column
            .cast(&DataType::Decimal(38, 18))
            .map_err(polars_error)?;
        value_columns.push(Some(
            exact.decimal().map_err(polars_error)?.physical().clone(),
        ));
    }
    let mut components = Components::default();
    for row in 0..frame.height() {
        let id = ids
            .get(row)
            .ok_or_else(|| Error::Internal("Polars engine: a row without window".into()))?;
        let window = *windows
            .get(id as usize)
            .ok_or_else(|| Error::Internal("Polars engine: window id out of range".into()))?;
        let group: Group = dim_columns
            .iter()
            .map(|c| c.get(row).map(str::to_string))
            .collect();
        let values: Values = value_columns
            .iter()
            .map(|c| {
                c.as_ref()
                    .and_then(|c| c.get(row))
                    .map(|mantissa| {
                        Decimal::try_from_i128_with_scale(mantissa, 18)
                            .map(|d| d.normalize())
                            .map_err(|_| {
                                Error::Internal(format!("value {mantissa}e-18 is too large"))
                            })
                    })
                    .transpose()
            })
            .collect::<Result<_>>()?;
        components
            .rows
            .entry(window)
            .or_default()
            .insert(group, values);
    }
    Ok(components)
}

impl Engine for PolarsEngine<'_> {
    fn components(
        &self,
        query: &QueryDef,
        dims: &[String],
        windows: &[Window],
        wanted: &[String],
    ) -> Result<Components> {
        query.check_request(dims, wanted)?;
        if query.project_sql.is_some() {
            return Err(Error::config_hint(
                format!("query `{}` is the project's own SQL", query.name),
                "a project's component queries run on the DuckDB engine only: leave out --engine polars",
            ));
        }
        let spine = spine(windows)?;
        let frame = match query.name.as_str() {
            "sales" => sales::components(self, spine, dims, windows, wanted)?,
            "targets" => return targets::components(self, query, spine, dims, windows, wanted),
            "market" => market::components(self, spine, dims, windows, wanted)?,
            "surveys" => customers::surveys(self, spine, dims, wanted)?,
            "customers" => customers::components(self, dims, windows, wanted)?,
            "inventory" => inventory::components(self, spine, dims, windows)?,
            "service" => service::components(self, spine, dims, windows, wanted)?,
            "deliveries" => service::deliveries(self, spine, dims, wanted)?,
            "purchasing" => operations::purchasing(self, spine, dims, wanted)?,
            "quality" => operations::quality(self, spine, dims, wanted)?,
            "projects" => operations::projects(self, spine, dims, wanted)?,
            "ratings" => operations::ratings(self, spine, dims, wanted)?,
            other => {
                return Err(Error::config_hint(
                    format!("the Polars engine has no query `{other}`"),
                    "use the DuckDB engine (the default) for it",
                ))
            }
        };
        let frame = frame.collect().map_err(polars_error)?;
        read(frame, query, dims, windows, wanted)
    }
}

/// An aggregate the query does not know (`check_request` stops these
/// first; this keeps a match over component names total).
fn unknown(query: &str, component: &str) -> Error {
    Error::Internal(format!(
        "the Polars engine has no component `{component}` in query `{query}`"
    ))
}
