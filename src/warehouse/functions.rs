//! Helpers for the Rust functions opskpi gives DuckDB (ingest's value
//! readers, the Polars engine's packing of ids): reading a chunk's texts in
//! place, without copying them out as Rust strings. The functions
//! themselves belong to the module that registers them.

use duckdb::core::DataChunkHandle;
use duckdb::ffi::duckdb_string_t;
use duckdb::vtab::arrow::WritableVector;

/// What a scalar function's body returns to duckdb-rs.
pub type CallResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The bytes of a DuckDB string, read in place (no copy, unlike `DuckString`).
pub fn string_bytes(text: &duckdb_string_t) -> &[u8] {
    // SAFETY: a `duckdb_string_t` holds its length first in both layouts;
    // up to 12 bytes are inlined, longer ones are behind the pointer, which
    // DuckDB keeps alive while the chunk is.
    unsafe {
        let len = text.value.inlined.length as usize;
        if len <= 12 {
            std::slice::from_raw_parts(text.value.inlined.inlined.as_ptr().cast::<u8>(), len)
        } else {
            std::slice::from_raw_parts(text.value.pointer.ptr.cast::<u8>(), len)
        }
    }
}

/// Applies `read` to the bytes of every text of the first argument, in
/// place, writing its value as the output's stored type `T` (what the
/// function's signature returns) or NULL.
pub fn read_in_place<T: Copy>(
    input: &mut DataChunkHandle,
    output: &mut dyn WritableVector,
    read: impl Fn(&[u8]) -> Option<T>,
) -> CallResult {
    let len = input.len();
    let column = input.flat_vector(0);
    let texts = unsafe { column.as_slice_with_len::<duckdb_string_t>(len) };
    let mut out = output.flat_vector();
    let values = unsafe { out.as_mut_slice_with_len::<T>(len) };
    let mut nulls = Vec::new();
    for (row, (text, value)) in texts.iter().zip(values.iter_mut()).enumerate() {
        // A NULL's string is not to be read.
        match (!column.row_is_null(row as u64))
            .then(|| read(string_bytes(text)))
            .flatten()
        {
            Some(read) => *value = read,
            None => nulls.push(row),
        }
    }
    for row in nulls {
        out.set_null(row);
    }
    Ok(())
}
