//! The bridge from Arrow record batches (arrow-rs, DuckDB's) to Polars
//! frames (polars-arrow) with typed columns: decimals stay decimals, dates
//! stay dates. KPI rows (`contract::kpi_frame`) and the answers of `sql`
//! and saved queries (`jobs::sql_frame`, …) cross through it.
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
