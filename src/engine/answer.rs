//! An engine's answer — Arrow batches of `window_id`, the dimensions and
//! the components — read into exact decimals, whichever engine wrote it.
//! Any decimal precision is read (DuckDB sums DECIMAL(18,4) into (38,4),
//! Spark into (28,4)); a floating-point component is refused.

use std::collections::BTreeMap;

use duckdb::arrow::array::{Array, ArrayRef, AsArray};
use duckdb::arrow::compute::{cast, cast_with_options, CastOptions};
use duckdb::arrow::datatypes::{DataType, Decimal128Type, Int32Type};
use duckdb::arrow::record_batch::RecordBatch;
use rust_decimal::Decimal;

use crate::calendar::Window;
use crate::error::{Error, Result};
use crate::indicators::{Components, Group, QueryDef, Values};

/// Decimal places components are carried with from the engine into Rust.
const COMPONENT_SCALE: i8 = 10;

/// The SQL a SQL engine runs for a request: the component query rendered,
/// projected to the wanted components only (the engine then drops the
/// aggregates nobody reads: a distinct count is not cheap); and its name.
/// Both lists are spliced into SQL: they must be the query's own names.
pub(super) fn request_sql(
    query: &QueryDef,
    dims: &[String],
    wanted: &[String],
    offset_seconds: i32,
) -> Result<(String, String)> {
    query.check_request(dims, wanted)?;
    let columns: Vec<&str> = std::iter::once("window_id")
        .chain(dims.iter().map(String::as_str))
        .chain(wanted.iter().map(String::as_str))
        .collect();
    let sql = format!(
        "SELECT {} FROM (\n{}\n) AS components",
        columns.join(", "),
        query.render(dims, wanted, offset_seconds)?
    );
    Ok((format!("components/{}", query.name), sql))
}

/// The components of the answer `batches` to the query `name`.
pub(super) fn components(
    name: &str,
    batches: &[RecordBatch],
    query: &QueryDef,
    dims: &[String],
    windows: &[Window],
    wanted: &[String],
) -> Result<Components> {
    let mut components = Components::default();
    for batch in batches {
        read_batch(batch, query, dims, windows, wanted, &mut components).map_err(
            |problem| match problem {
                Problem::Internal(message) => {
                    Error::Internal(format!("query `{name}`: {message}"))
                }
                Problem::TooLarge(component, what) => Error::config_hint(
                    format!("query `{name}`: its `{component}` is {what}, beyond the 28 digits of exact decimals"),
                    "check the loaded amounts for a value far too large (a unit mistake, a wrong column)",
                ),
            },
        )?;
    }
    Ok(components)
}

/// What went wrong reading an answer: a bug, or a component too large to
/// be an exact decimal (named, with its value).
enum Problem {
    Internal(String),
    TooLarge(String, String),
}

impl From<String> for Problem {
    fn from(message: String) -> Problem {
        Problem::Internal(message)
    }
}

impl From<&str> for Problem {
    fn from(message: &str) -> Problem {
        Problem::Internal(message.to_string())
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> std::result::Result<&'a dyn Array, String> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| format!("returns no column `{name}`"))
}

/// A component as Decimal(38, COMPONENT_SCALE): a value that does not fit
/// is an error, never the NULL a safe cast would make of it.
fn exact_column(array: &dyn Array, name: &str) -> std::result::Result<ArrayRef, Problem> {
    let options = CastOptions {
        safe: false,
        format_options: Default::default(),
    };
    cast_with_options(array, &DataType::Decimal128(38, COMPONENT_SCALE), &options)
        .map_err(|error| Problem::TooLarge(name.to_string(), format!("too large ({error})")))
}

/// An exact decimal of `mantissa` × 10^−scale, its trailing zeros dropped
/// first so that large whole amounts fit; `None` beyond 28 digits.
fn decimal(mantissa: i128, scale: u32) -> Option<Decimal> {
    let (mut mantissa, mut scale) = (mantissa, scale);
    while scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

fn read_batch(
    batch: &RecordBatch,
    query: &QueryDef,
    dims: &[String],
    windows: &[Window],
    wanted: &[String],
    components: &mut Components,
) -> std::result::Result<(), Problem> {
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
            return Err(
                format!("component `{name}` is floating point; components must be exact").into(),
            );
        }
        value_columns.push(Some(exact_column(array, name)?));
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
        for (column, name) in value_columns.iter().zip(&query.components) {
            let Some(column) = column else {
                values.push(None);
                continue;
            };
            let decimals = column.as_primitive::<Decimal128Type>();
            values.push(if decimals.is_null(row) {
                None
            } else {
                let mantissa = decimals.value(row);
                let value = decimal(mantissa, COMPONENT_SCALE as u32).ok_or_else(|| {
                    Problem::TooLarge(name.clone(), format!("{mantissa}e-{COMPONENT_SCALE}"))
                })?;
                Some(value)
            });
        }
        by_window.entry(window).or_default().insert(group, values);
    }
    for (window, rows) in by_window {
        components.rows.entry(window).or_default().extend(rows);
    }
    Ok(())
}
