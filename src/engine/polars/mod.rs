//! The Polars engine: every component query of the catalogue written again
//! with Polars lazy frames, over the canonical tables read once from the
//! warehouse (DuckDB → Arrow → Polars, see `frames.rs`). It answers the same
//! `Engine` contract as the DuckDB engine — components per window and group,
//! exact decimals — and the parity tests hold the two to the last digit.
//!
//! Work in progress (issue 9): the `sales` query is written; the others
//! answer with an error naming the query.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use polars::prelude::*;
use rust_decimal::Decimal;

use crate::calendar::Window;
use crate::error::{Error, Result};
use crate::indicators::{Components, Engine, Group, QueryDef, Values};
use crate::warehouse::Warehouse;

mod sales;

/// The canonical tables as frames, read from the warehouse when first used.
pub struct PolarsEngine<'a> {
    warehouse: &'a Warehouse,
    tables: BTreeMap<&'static str, OnceLock<DataFrame>>,
}

impl<'a> PolarsEngine<'a> {
    pub fn new(warehouse: &'a Warehouse) -> PolarsEngine<'a> {
        let tables = crate::model::TABLES
            .iter()
            .map(|table| (table.name, OnceLock::new()))
            .collect();
        PolarsEngine { warehouse, tables }
    }

    /// A canonical table as a lazy frame.
    fn table(&self, name: &'static str) -> Result<LazyFrame> {
        let slot = self
            .tables
            .get(name)
            .ok_or_else(|| Error::Internal(format!("no canonical table `{name}`")))?;
        if slot.get().is_none() {
            let frame =
                crate::frames::query_frame(self.warehouse, &format!("SELECT * FROM {name}"))?;
            let _ = slot.set(frame);
        }
        Ok(slot.get().expect("just set").clone().lazy())
    }
}

fn polars_error(error: PolarsError) -> Error {
    Error::Internal(format!("Polars engine: {error}"))
}

/// The days of every window: `window_id` (its index) and `day`.
fn spine(windows: &[Window]) -> Result<LazyFrame> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let (mut ids, mut days) = (Vec::new(), Vec::new());
    for (id, window) in windows.iter().enumerate() {
        let mut day = window.start;
        while day <= window.end {
            ids.push(id as i32);
            days.push((day - epoch).num_days() as i32);
            day = day.succ_opt().expect("a next day");
        }
    }
    let day = Series::new("day".into(), days)
        .cast(&DataType::Date)
        .map_err(polars_error)?;
    let frame = DataFrame::new(
        ids.len(),
        vec![Series::new("window_id".into(), ids).into(), day.into()],
    )
    .map_err(polars_error)?;
    Ok(frame.lazy())
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
            "sales" => sales::components(self, spine, dims, wanted)?,
            other => {
                return Err(Error::config_hint(
                    format!("the Polars engine does not compute query `{other}` yet"),
                    "use the DuckDB engine (the default) for it",
                ))
            }
        };
        let frame = frame.collect().map_err(polars_error)?;
        read(frame, query, dims, windows, wanted)
    }
}
