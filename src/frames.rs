//! Polars frames from Arrow record batches: KPI rows and the answers of
//! `sql` and saved queries as a `polars::DataFrame` with typed columns
//! (decimals stay decimals, dates stay dates).
//!
//! DuckDB hands out arrow-rs batches and Polars reads polars-arrow arrays;
//! the two crates share no Rust types, so each column crosses through the
//! Arrow C Data Interface — the buffers move without a copy (text gains
//! Polars' 16-byte view per value). DuckDB's batches hold at most 2048
//! rows: the frame is rechunked once at the end, the one copy.

use std::sync::Arc;

use duckdb::arrow::array::{make_array, ArrayRef};
use duckdb::arrow::datatypes::SchemaRef;
use duckdb::arrow::ffi::{to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use duckdb::arrow::record_batch::RecordBatch;
use polars::prelude::{Column, DataFrame, PlSmallStr, Series};

use crate::error::{Error, Result};
use crate::indicators::KpiRow;

fn polars_error(error: impl std::fmt::Display) -> Error {
    Error::Internal(format!("Arrow to Polars: {error}"))
}

/// One arrow-rs array as a polars-arrow array, through the C Data Interface.
fn to_polars_array(array: &ArrayRef) -> Result<Box<dyn polars_arrow::array::Array>> {
    let (ffi_array, ffi_schema): (FFI_ArrowArray, FFI_ArrowSchema) =
        to_ffi(&array.to_data()).map_err(polars_error)?;
    // SAFETY: both structs are the C Data Interface's `ArrowArray` and
    // `ArrowSchema` (`#[repr(C)]` on both sides, the same fields). The schema
    // is only read here and released by arrow-rs when `ffi_schema` drops; the
    // array's ownership — its release callback — moves to polars-arrow, so
    // arrow-rs must not drop it: `ManuallyDrop` keeps it from doing so.
    unsafe {
        let schema =
            &*(&ffi_schema as *const FFI_ArrowSchema as *const polars_arrow::ffi::ArrowSchema);
        let field = polars_arrow::ffi::import_field_from_c(schema).map_err(polars_error)?;
        let ffi_array = std::mem::ManuallyDrop::new(ffi_array);
        let moved: polars_arrow::ffi::ArrowArray = std::ptr::read(
            &*ffi_array as *const FFI_ArrowArray as *const polars_arrow::ffi::ArrowArray,
        );
        polars_arrow::ffi::import_array_from_c(moved, field.dtype).map_err(polars_error)
    }
}

/// Record batches of one schema as one Polars frame (zero batches: an empty
/// frame with the schema's columns), in one chunk.
pub fn to_polars(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<DataFrame> {
    let mut frame = to_polars_chunks(schema, batches)?;
    frame.rechunk_mut();
    Ok(frame)
}

/// `to_polars` with a chunk per batch (for a caller that stacks frames
/// and makes one chunk only of the columns it keeps).
pub fn to_polars_chunks(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<DataFrame> {
    let empty;
    let batches = if batches.is_empty() {
        empty = [RecordBatch::new_empty(Arc::clone(schema))];
        &empty[..]
    } else {
        batches
    };
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let arrays: Vec<ArrayRef> = batches.iter().map(|b| Arc::clone(b.column(i))).collect();
        columns.push(Column::from(arrays_to_series(field.name(), &arrays)?));
    }
    let height = batches.iter().map(RecordBatch::num_rows).sum();
    DataFrame::new(height, columns).map_err(polars_error)
}

/// KPI rows as a frame, in the columns of the `kpi` contract: text,
/// booleans, `sample_size` as an integer and the values as Decimal(38, 18).
pub fn kpi_frame(rows: &[KpiRow]) -> Result<DataFrame> {
    let batch = crate::output::batch(rows)?;
    to_polars(&batch.schema(), &[batch])
}

/// Arrays of one column (a chunk each) as one Polars series.
pub fn arrays_to_series(name: &str, arrays: &[ArrayRef]) -> Result<Series> {
    let chunks = arrays
        .iter()
        .map(to_polars_array)
        .collect::<Result<Vec<_>>>()?;
    Series::from_arrow_chunks(PlSmallStr::from(name), chunks).map_err(polars_error)
}

/// A single arrow-rs array, for tests and callers that build one by hand.
pub fn array_to_series(name: &str, array: ArrayRef) -> Result<Series> {
    let array = make_array(array.to_data());
    Series::from_arrow(PlSmallStr::from(name), to_polars_array(&array)?).map_err(polars_error)
}

/// The answer of `opskpi sql` on a project's warehouse as a frame (see
/// `pipeline::sql_batches`).
pub fn sql_frame(
    config: &crate::config::Config,
    as_of: chrono::NaiveDate,
    query: &str,
) -> Result<DataFrame> {
    let (schema, batches) = crate::pipeline::sql_batches(config, as_of, query)?;
    to_polars(&schema, &batches)
}

/// The answer of a saved query (`opskpi query NAME --param …`) as a frame.
pub fn saved_query_frame(
    config: &crate::config::Config,
    as_of: chrono::NaiveDate,
    name: &str,
    params: &[(String, String)],
) -> Result<DataFrame> {
    let (schema, batches) = crate::pipeline::saved_query_batches(config, as_of, name, params)?;
    to_polars(&schema, &batches)
}

/// The answer of one read query on the warehouse as a frame, typed as
/// DuckDB types it (DECIMAL stays a decimal of its scale, DATE a date).
pub fn query_frame(warehouse: &crate::warehouse::Warehouse, sql: &str) -> Result<DataFrame> {
    let (schema, batches) = crate::warehouse::arrow_batches(warehouse.connection(), sql)
        .map_err(Error::query("query"))?;
    to_polars(&schema, &batches)
}
