//! Indicator results next to the canonical tables, for `sql` and saved
//! queries: two table functions registered on the read-only connection.
//!
//! - `kpi(indicators, period [, by := 'region,channel'] [, periods := n])`:
//!   the rows `opskpi kpi` gives — the same columns as its JSON contract,
//!   values as DECIMAL(38,18), computed by the indicator layer (calendar
//!   comparisons, targets, status), not re-implemented in SQL:
//!   `SELECT region, value FROM kpi('net_sales', '2026-10', by := 'region')`.
//! - `kpi_indicators()`: the catalogue (id, label, unit, direction, change
//!   kind, dimensions, definition).
//!
//! Both compute when the query is bound, on a second connection to the same
//! read-only database, and then stream the rows like any table.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use duckdb::arrow::array::{ArrayRef, StringArray};
use duckdb::arrow::datatypes::{DataType, Field, Schema};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::core::{DataChunkHandle, LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::{
    record_batch_to_duckdb_data_chunk, to_duckdb_logical_type_for_field, BindInfo, InitInfo,
    TableFunctionInfo, VTab,
};
use duckdb::Connection;

use crate::calendar::Period;
use crate::contract;
use crate::error::{Error, Result};
use crate::indicators::compute::Context;
use crate::indicators::{compute, Catalogue, KpiRequest};
use crate::warehouse::Warehouse;

/// What the functions compute with: the command's context (as-of date,
/// fiscal year, targets) and the company's UTC offset; with a cache, the
/// answers `kpi()` gave, kept for the next identical request.
#[derive(Clone)]
pub struct Functions {
    pub catalogue: Catalogue,
    pub context: Context,
    pub offset_seconds: i32,
    pub cache: Option<KpiCache>,
}

/// `kpi()`'s answers by request (indicators, periods, dimensions), for data
/// that does not change while the cache lives — `opskpi serve`'s copy of
/// one load, whose cache goes with it: never stale. Exact: the kept batch
/// is the one computed.
#[derive(Clone, Default)]
pub struct KpiCache(Arc<Mutex<std::collections::HashMap<String, RecordBatch>>>);

impl KpiCache {
    /// Enough for the dashboards of a company; past it the cache starts
    /// again empty (answers are recomputed, never wrong).
    const MOST: usize = 512;

    fn get(&self, key: &str) -> Option<RecordBatch> {
        self.0.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: String, batch: &RecordBatch) {
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() >= Self::MOST {
                kept.clear();
            }
            kept.insert(key, batch.clone());
        }
    }
}

/// The functions' own connection and what they compute with.
#[derive(Clone)]
struct Shared {
    conn: Arc<Mutex<Connection>>,
    with: Functions,
}

/// Registers `kpi()` and `kpi_indicators()` on `conn`'s database.
pub fn register(conn: &Connection, with: Functions) -> Result<()> {
    let own = conn
        .try_clone()
        .map_err(Error::query("a connection for kpi()"))?;
    register_over(conn, own, with)
}

/// The company's day of a timestamp, `company_day(ts)`, on `conn` (a
/// connection's own macro): DuckDB without its ICU extension (not built
/// in) cannot cast a zoned timestamp to a date itself.
pub fn company_day(conn: &Connection, offset_seconds: i32) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP MACRO company_day(ts) AS CAST(CAST(ts AS TIMESTAMP) + to_seconds({offset_seconds}) AS DATE)"
    ))
    .map_err(Error::query("register company_day()"))
}

/// Registers `kpi()` and `kpi_indicators()` on `conn`'s database, computing
/// on `compute`'s (which may be another database).
pub fn register_over(conn: &Connection, compute: Connection, with: Functions) -> Result<()> {
    company_day(conn, with.offset_seconds)?;
    let shared = Shared {
        conn: Arc::new(Mutex::new(compute)),
        with,
    };
    conn.register_table_function_with_extra_info::<KpiFunction, _>("kpi", &shared)
        .map_err(Error::query("register kpi()"))?;
    conn.register_table_function_with_extra_info::<IndicatorsFunction, _>(
        "kpi_indicators",
        &shared,
    )
    .map_err(Error::query("register kpi_indicators()"))?;
    Ok(())
}

/// A batch computed at bind time, handed out a vector at a time.
pub struct Rows {
    batch: RecordBatch,
}

pub struct Cursor {
    offset: AtomicUsize,
}

type Failure = Box<dyn std::error::Error>;

fn bind_batch(bind: &BindInfo, batch: RecordBatch) -> std::result::Result<Rows, Failure> {
    for field in batch.schema().fields() {
        bind.add_result_column(field.name(), to_duckdb_logical_type_for_field(field)?);
    }
    Ok(Rows { batch })
}

fn next_chunk<T: VTab<BindData = Rows, InitData = Cursor>>(
    func: &TableFunctionInfo<T>,
    output: &mut DataChunkHandle,
) -> std::result::Result<(), Failure> {
    let batch = &func.get_bind_data().batch;
    let size = unsafe { duckdb::ffi::duckdb_vector_size() } as usize;
    let offset = func
        .get_init_data()
        .offset
        .fetch_add(size, Ordering::Relaxed);
    if offset >= batch.num_rows() {
        output.set_len(0);
        return Ok(());
    }
    let len = size.min(batch.num_rows() - offset);
    record_batch_to_duckdb_data_chunk(&batch.slice(offset, len), output)?;
    Ok(())
}

fn text(value: &duckdb::vtab::Value) -> String {
    value.to_string()
}

struct KpiFunction;

impl VTab for KpiFunction {
    type BindData = Rows;
    type InitData = Cursor;

    fn bind(bind: &BindInfo) -> std::result::Result<Rows, Failure> {
        let shared = unsafe { &*bind.get_extra_info::<Shared>() };
        let indicators: Vec<String> = text(&bind.get_parameter(0))
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if indicators.is_empty() {
            return Err("kpi(): name at least one indicator, e.g. kpi('net_sales', '2026-10') (kpi_indicators() lists them)".into());
        }
        let period = Period::parse(&text(&bind.get_parameter(1)), shared.with.context.calendar)
            .map_err(|e| format!("kpi(): {e}"))?;
        let dims: Vec<String> = bind
            .get_named_parameter("by")
            .filter(|v| !v.is_null())
            .map(|v| {
                text(&v)
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let periods = bind
            .get_named_parameter("periods")
            .filter(|v| !v.is_null())
            .map(|v| v.to_int64())
            .unwrap_or(1);
        if !(1..=400).contains(&periods) {
            return Err(
                format!("kpi(): periods := {periods} is out of range; give 1 to 400").into(),
            );
        }
        let request = KpiRequest {
            indicators,
            periods: period.series(periods as usize),
            dims,
        };
        let key = format!(
            "{:?}|{:?}|{:?}",
            request.indicators, request.periods, request.dims
        );
        if let Some(batch) = shared.with.cache.as_ref().and_then(|c| c.get(&key)) {
            return bind_batch(bind, batch);
        }
        let rows = {
            let conn = shared
                .conn
                .lock()
                .map_err(|_| "kpi(): an earlier call failed")?
                .try_clone()?;
            let warehouse = Warehouse::over(conn).in_timezone(shared.with.offset_seconds);
            compute(
                &warehouse,
                &shared.with.catalogue,
                &shared.with.context,
                &request,
            )
            .map_err(|e| format!("kpi(): {e}"))?
        };
        let batch = contract::batch_by(&rows, &request.dims)?;
        if let Some(cache) = &shared.with.cache {
            cache.put(key, &batch);
        }
        bind_batch(bind, batch)
    }

    fn init(_: &InitInfo) -> std::result::Result<Cursor, Failure> {
        Ok(Cursor {
            offset: AtomicUsize::new(0),
        })
    }

    fn func(
        func: &TableFunctionInfo<Self>,
        output: &mut DataChunkHandle,
    ) -> std::result::Result<(), Failure> {
        next_chunk(func, output)
    }

    fn parameters() -> Option<Vec<LogicalTypeHandle>> {
        Some(vec![
            LogicalTypeHandle::from(LogicalTypeId::Varchar),
            LogicalTypeHandle::from(LogicalTypeId::Varchar),
        ])
    }

    fn named_parameters() -> Option<Vec<(String, LogicalTypeHandle)>> {
        Some(vec![
            ("by".into(), LogicalTypeHandle::from(LogicalTypeId::Varchar)),
            (
                "periods".into(),
                LogicalTypeHandle::from(LogicalTypeId::Bigint),
            ),
        ])
    }
}

struct IndicatorsFunction;

impl VTab for IndicatorsFunction {
    type BindData = Rows;
    type InitData = Cursor;

    fn bind(bind: &BindInfo) -> std::result::Result<Rows, Failure> {
        let shared = unsafe { &*bind.get_extra_info::<Shared>() };
        bind_batch(bind, catalogue_batch(&shared.with.catalogue)?)
    }

    fn init(_: &InitInfo) -> std::result::Result<Cursor, Failure> {
        Ok(Cursor {
            offset: AtomicUsize::new(0),
        })
    }

    fn func(
        func: &TableFunctionInfo<Self>,
        output: &mut DataChunkHandle,
    ) -> std::result::Result<(), Failure> {
        next_chunk(func, output)
    }
}

/// The catalogue as a batch: one row per indicator.
fn catalogue_batch(catalogue: &Catalogue) -> Result<RecordBatch> {
    let columns: [(&str, Vec<String>); 7] = [
        (
            "indicator",
            catalogue.indicators.iter().map(|i| i.id.clone()).collect(),
        ),
        (
            "label",
            catalogue
                .indicators
                .iter()
                .map(|i| i.label.clone())
                .collect(),
        ),
        (
            "unit",
            catalogue
                .indicators
                .iter()
                .map(|i| i.unit.name().to_string())
                .collect(),
        ),
        (
            "direction",
            catalogue
                .indicators
                .iter()
                .map(|i| i.direction.name().to_string())
                .collect(),
        ),
        (
            "change_kind",
            catalogue
                .indicators
                .iter()
                .map(|i| i.unit.change_kind().name().to_string())
                .collect(),
        ),
        (
            "dimensions",
            catalogue
                .indicators
                .iter()
                .map(|i| catalogue.dimensions(i).join(","))
                .collect(),
        ),
        (
            "definition",
            catalogue
                .indicators
                .iter()
                .map(|i| i.definition.clone())
                .collect(),
        ),
    ];
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, _)| Field::new(*name, DataType::Utf8, false))
        .collect();
    let arrays: Vec<ArrayRef> = columns
        .into_iter()
        .map(|(_, values)| Arc::new(StringArray::from(values)) as ArrayRef)
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| Error::Internal(format!("catalogue batch: {e}")))
}
