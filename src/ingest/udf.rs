//! The value readers of `values` and the word dictionary as DuckDB scalar
//! functions, so that ingest reads values as written inside DuckDB's own
//! parallel scan. Each returns canonical text, or NULL where the value cannot
//! be read (the stage turns that into a quarantine rule; `values` says why).

use duckdb::core::{DataChunkHandle, Inserter, LogicalTypeHandle, LogicalTypeId};
use duckdb::ffi::duckdb_string_t;
use duckdb::types::DuckString;
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;
use duckdb::Connection;

use super::mapping;
use super::values;
use crate::config::DateOrder;
use crate::error::{Error, Result};

type CallResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Registers every function on `conn` (once per connection).
pub fn register(conn: &Connection) -> Result<()> {
    let register =
        |result: duckdb::Result<()>| result.map_err(Error::query("register value functions"));
    register(conn.register_scalar_function::<NumberFn>("_opskpi_number"))?;
    register(conn.register_scalar_function::<DateFn>("_opskpi_date"))?;
    register(conn.register_scalar_function::<MonthFn>("_opskpi_month"))?;
    register(conn.register_scalar_function::<TimestampFn>("_opskpi_timestamp"))?;
    register(conn.register_scalar_function::<WordFn>("_opskpi_word"))?;
    Ok(())
}

pub fn date_order_name(order: DateOrder) -> &'static str {
    match order {
        DateOrder::Ymd => "ymd",
        DateOrder::Mdy => "mdy",
        DateOrder::Dmy => "dmy",
        DateOrder::Roc => "roc",
    }
}

fn date_order(name: &str) -> DateOrder {
    match name {
        "mdy" => DateOrder::Mdy,
        "dmy" => DateOrder::Dmy,
        "roc" => DateOrder::Roc,
        _ => DateOrder::Ymd,
    }
}

fn varchar() -> LogicalTypeHandle {
    LogicalTypeHandle::from(LogicalTypeId::Varchar)
}

/// Applies `read` to every row of text column `text_column`, with access to
/// the other arguments by row, writing its text or NULL.
fn map_text(
    input: &mut DataChunkHandle,
    output: &mut dyn WritableVector,
    text_column: usize,
    read: impl Fn(&str, &DataChunkHandle, usize) -> Option<String>,
) -> CallResult {
    let len = input.len();
    let column = input.flat_vector(text_column);
    let texts = unsafe { column.as_slice_with_len::<duckdb_string_t>(len) };
    let mut out = output.flat_vector();
    for (row, text) in texts.iter().enumerate() {
        if column.row_is_null(row as u64) {
            out.set_null(row);
            continue;
        }
        let mut text = *text;
        let text = DuckString::new(&mut text).as_str();
        match read(&text, input, row) {
            Some(value) => out.insert(row, value.as_str()),
            None => out.set_null(row),
        }
    }
    Ok(())
}

/// The text of argument `column` at `row` (a constant argument arrives flattened).
fn text_arg(input: &DataChunkHandle, column: usize, row: usize) -> String {
    let vector = input.flat_vector(column);
    let texts = unsafe { vector.as_slice_with_len::<duckdb_string_t>(input.len()) };
    let mut text = texts[row];
    DuckString::new(&mut text).as_str().to_string()
}

fn int_arg(input: &DataChunkHandle, column: usize, row: usize) -> i32 {
    let vector = input.flat_vector(column);
    let values = unsafe { vector.as_slice_with_len::<i32>(input.len()) };
    values[row]
}

struct NumberFn;

impl VScalar for NumberFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        map_text(input, output, 0, |text, input, row| {
            // More decimals than the column keeps is refused, not rounded.
            let scale = int_arg(input, 1, row).max(0) as usize;
            values::parse_number(text)
                .ok()
                .filter(|number| values::decimals(number) <= scale)
        })
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![varchar(), LogicalTypeHandle::from(LogicalTypeId::Integer)],
            varchar(),
        )]
    }
}

/// A date reader over `(text, date order)`: the shared body of `DateFn`
/// and `MonthFn`.
fn read_dated(
    input: &mut DataChunkHandle,
    output: &mut dyn WritableVector,
    read: impl Fn(&str, DateOrder) -> Result<chrono::NaiveDate, values::Problem>,
) -> CallResult {
    map_text(input, output, 0, |text, input, row| {
        let order = date_order(&text_arg(input, 1, row));
        read(text, order).ok().map(|date| date.to_string())
    })
}

fn two_texts() -> Vec<ScalarFunctionSignature> {
    vec![ScalarFunctionSignature::exact(
        vec![varchar(), varchar()],
        varchar(),
    )]
}

struct DateFn;

impl VScalar for DateFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        read_dated(input, output, values::parse_date)
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        two_texts()
    }
}

struct MonthFn;

impl VScalar for MonthFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        read_dated(input, output, values::parse_month)
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        two_texts()
    }
}

struct TimestampFn;

impl VScalar for TimestampFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        map_text(input, output, 0, |text, input, row| {
            let order = date_order(&text_arg(input, 1, row));
            values::parse_timestamp(text, order, int_arg(input, 2, row)).ok()
        })
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![
                varchar(),
                varchar(),
                LogicalTypeHandle::from(LogicalTypeId::Integer),
            ],
            varchar(),
        )]
    }
}

/// `_opskpi_word(v, 'sales.channel')`: the canonical word the dictionary
/// gives for `v`, or NULL for a word it does not know (the type rule then
/// refuses the value, naming the allowed words).
struct WordFn;

impl VScalar for WordFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        map_text(input, output, 0, |text, input, row| {
            let set = text_arg(input, 1, row);
            mapping::canonical_word(&set, text).map(str::to_string)
        })
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        two_texts()
    }
}
