//! The DuckDB engine: the warehouse computes indicator components with the
//! SQL of `queries/components/` (rendered per request by the indicator
//! layer) over the windows and their day spine, loaded as temporary tables;
//! the answer crosses into Rust as Arrow batches, read as exact decimals.

use std::collections::BTreeMap;

use duckdb::arrow::array::{Array, AsArray};
use duckdb::arrow::compute::cast;
use duckdb::arrow::datatypes::{DataType, Decimal128Type, Int32Type};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::{params, Connection};
use rust_decimal::Decimal;

use crate::calendar::Window;
use crate::error::{Error, Result};
use crate::indicators::{Components, Engine, Group, QueryDef, Values};
use crate::warehouse::Warehouse;

/// Decimal places components are carried with from DuckDB into Rust.
const COMPONENT_SCALE: i8 = 10;

/// `amount × days ÷ month_days` rounded half away from zero to the cent, in
/// integers: DuckDB divides a DECIMAL by an integer in floating point, which
/// puts about one amount in four a cent off when the exact value ends in a
/// half cent (1000.15 × 15 ÷ 30 = 500.075 → 500.08, not 500.07). Amounts
/// carry at most 4 decimals, so `amount × 10000` is a whole number.
const PRO_RATA: &str = "CREATE OR REPLACE TEMP MACRO _opskpi_pro_rata(amount, days, month_days) AS
    CAST(CAST(sign(amount) * ((2 * abs(CAST(amount * 10000 AS HUGEINT)) * days + month_days * 100)
                              // (2 * month_days * 100)) AS DECIMAL(38,0)) * 0.01 AS DECIMAL(18,2));";

/// Loads the windows and their day spine into temporary tables.
fn load_windows(conn: &Connection, windows: &[Window]) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE _opskpi_windows (
                window_id INTEGER, start_date DATE, end_date DATE, days INTEGER);
             {PRO_RATA}"
    ))
    .map_err(Error::query("windows"))?;
    {
        let mut appender = conn
            .appender("_opskpi_windows")
            .map_err(Error::query("windows"))?;
        for (id, window) in windows.iter().enumerate() {
            appender
                .append_row(params![
                    id as i32,
                    window.start,
                    window.end,
                    window.days() as i32
                ])
                .map_err(Error::query("windows"))?;
        }
        appender.flush().map_err(Error::query("windows"))?;
    }
    conn.execute_batch(
            "CREATE OR REPLACE TEMP TABLE _opskpi_spine AS
             SELECT window_id, unnest(generate_series(start_date, end_date, INTERVAL 1 DAY))::DATE AS day
             FROM _opskpi_windows;",
        )
        .map_err(Error::query("windows"))
}

impl Engine for Warehouse {
    fn components(
        &self,
        query: &QueryDef,
        dims: &[String],
        windows: &[Window],
        wanted: &[String],
    ) -> Result<Components> {
        // Both lists are spliced into SQL: they must be the query's own names.
        query.check_request(dims, wanted)?;
        load_windows(self.connection(), windows)?;
        let name = format!("components/{}", query.name);
        // Project the wanted components only: DuckDB then drops the
        // aggregates nobody reads (a distinct count is not cheap).
        let columns: Vec<&str> = std::iter::once("window_id")
            .chain(dims.iter().map(String::as_str))
            .chain(wanted.iter().map(String::as_str))
            .collect();
        let sql = format!(
            "SELECT {} FROM (\n{}\n) AS components",
            columns.join(", "),
            query.render(dims, wanted, self.offset_seconds())?
        );
        let batches = self.arrow(&name, &sql)?;
        let mut components = Components::default();
        for batch in &batches {
            read_batch(batch, query, dims, windows, wanted, &mut components)
                .map_err(|message| Error::Internal(format!("query `{name}`: {message}")))?;
        }
        Ok(components)
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> std::result::Result<&'a dyn Array, String> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| format!("returns no column `{name}`"))
}

fn read_batch(
    batch: &RecordBatch,
    query: &QueryDef,
    dims: &[String],
    windows: &[Window],
    wanted: &[String],
    components: &mut Components,
) -> std::result::Result<(), String> {
    let ids = cast(column(batch, "window_id")?, &DataType::Int32).map_err(|e| e.to_string())?;
    let ids = ids.as_primitive::<Int32Type>();
    let mut dim_columns = Vec::new();
    for dim in dims {
        let text = cast(column(batch, dim)?, &DataType::Utf8).map_err(|e| e.to_string())?;
        dim_columns.push(text);
    }
    let mut value_columns = Vec::new();
    // In catalogue order; `None` for the components not asked for.
    for name in &query.components {
        if !wanted.contains(name) {
            value_columns.push(None);
            continue;
        }
        let array = column(batch, name)?;
        if matches!(
            array.data_type(),
            DataType::Float16 | DataType::Float32 | DataType::Float64
        ) {
            return Err(format!(
                "component `{name}` is floating point; components must be exact"
            ));
        }
        let exact =
            cast(array, &DataType::Decimal128(38, COMPONENT_SCALE)).map_err(|e| e.to_string())?;
        value_columns.push(Some(exact));
    }
    let mut by_window: BTreeMap<Window, BTreeMap<Group, Values>> = BTreeMap::new();
    for row in 0..batch.num_rows() {
        let window = *windows
            .get(ids.value(row) as usize)
            .ok_or("window id out of range")?;
        let group: Vec<Option<String>> = dim_columns
            .iter()
            .map(|column| {
                let strings = column.as_string::<i32>();
                (!strings.is_null(row)).then(|| strings.value(row).to_string())
            })
            .collect();
        let mut values = Vec::with_capacity(value_columns.len());
        for column in &value_columns {
            let Some(column) = column else {
                values.push(None);
                continue;
            };
            let decimals = column.as_primitive::<Decimal128Type>();
            values.push(if decimals.is_null(row) {
                None
            } else {
                let mantissa = decimals.value(row);
                let value = Decimal::try_from_i128_with_scale(mantissa, COMPONENT_SCALE as u32)
                    .map_err(|_| format!("value {mantissa}e-{COMPONENT_SCALE} is too large"))?;
                Some(value.normalize())
            });
        }
        by_window.entry(window).or_default().insert(group, values);
    }
    for (window, rows) in by_window {
        components.rows.entry(window).or_default().extend(rows);
    }
    Ok(())
}
