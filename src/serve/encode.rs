//! Arrow batches, as DuckDB streams them, to PostgreSQL rows: each column's
//! PostgreSQL type, and each value in the text or binary format the client
//! asked for.
//!
//! Exact by construction: a DECIMAL is a NUMERIC whose text is its digits
//! (never through a float) and whose binary form is built from the integer
//! and the scale in base 10 000 as PostgreSQL stores it; integers, dates and
//! timestamps are PostgreSQL's own forms of the same values. A column of a
//! type PostgreSQL has no word for (lists, structs, intervals) is sent as
//! text, DuckDB's way of writing it — the same as `opskpi sql` shows.

use bytes::{BufMut, BytesMut};
use duckdb::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, Float32Array, Float64Array, Int16Array,
    Int32Array, Int64Array, Int8Array, UInt16Array, UInt32Array, UInt8Array,
};
use duckdb::arrow::datatypes::{
    DataType, Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use duckdb::arrow::record_batch::RecordBatch;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::api::Type;
use pgwire::messages::data::DataRow;

use crate::error::Result;
use crate::export;

/// Days from 1970-01-01 (Arrow's epoch) to 2000-01-01 (PostgreSQL's).
const EPOCH_DAYS: i64 = 10_957;
const EPOCH_MICROS: i64 = EPOCH_DAYS * 86_400 * 1_000_000;

/// How one column goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// A DECIMAL of this scale (or a UBIGINT, scale 0).
    Numeric(i8),
    Date,
    Timestamp,
    TimestampTz,
    Bytea,
    /// Everything else: DuckDB's text of the value.
    Text,
}

fn kind(data_type: &DataType) -> Kind {
    match data_type {
        DataType::Boolean => Kind::Bool,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => Kind::Int2,
        DataType::Int32 | DataType::UInt16 => Kind::Int4,
        DataType::Int64 | DataType::UInt32 => Kind::Int8,
        DataType::UInt64 => Kind::Numeric(0),
        DataType::Float16 | DataType::Float32 => Kind::Float4,
        DataType::Float64 => Kind::Float8,
        DataType::Decimal128(_, scale) if *scale >= 0 => Kind::Numeric(*scale),
        DataType::Date32 => Kind::Date,
        DataType::Timestamp(_, None) => Kind::Timestamp,
        DataType::Timestamp(_, Some(_)) => Kind::TimestampTz,
        DataType::Binary | DataType::LargeBinary => Kind::Bytea,
        _ => Kind::Text,
    }
}

fn pg_type(kind: Kind) -> Type {
    match kind {
        Kind::Bool => Type::BOOL,
        Kind::Int2 => Type::INT2,
        Kind::Int4 => Type::INT4,
        Kind::Int8 => Type::INT8,
        Kind::Float4 => Type::FLOAT4,
        Kind::Float8 => Type::FLOAT8,
        Kind::Numeric(_) => Type::NUMERIC,
        Kind::Date => Type::DATE,
        Kind::Timestamp => Type::TIMESTAMP,
        Kind::TimestampTz => Type::TIMESTAMPTZ,
        Kind::Bytea => Type::BYTEA,
        Kind::Text => Type::TEXT,
    }
}

/// The PostgreSQL type of a parameter DuckDB inferred as `duck` (its type
/// name); text when DuckDB could not tell.
pub fn parameter_type(duck: &str) -> Type {
    let base = duck.split('(').next().unwrap_or(duck).trim();
    match base {
        "BOOLEAN" => Type::BOOL,
        "TINYINT" | "SMALLINT" | "UTINYINT" => Type::INT2,
        "INTEGER" | "USMALLINT" => Type::INT4,
        "BIGINT" | "UINTEGER" => Type::INT8,
        "FLOAT" => Type::FLOAT4,
        "DOUBLE" => Type::FLOAT8,
        "DECIMAL" | "HUGEINT" | "UBIGINT" => Type::NUMERIC,
        "DATE" => Type::DATE,
        "TIMESTAMP" => Type::TIMESTAMP,
        "TIMESTAMP WITH TIME ZONE" => Type::TIMESTAMPTZ,
        "BLOB" => Type::BYTEA,
        _ => Type::TEXT,
    }
}

/// The types the query's text gives its parameters by a cast — `$1::date`,
/// `CAST($2 AS integer)` — as PostgreSQL infers them (DuckDB binds a
/// parameter's type only at execution); `None` for the others.
pub fn cast_types(sql: &str, count: usize) -> Vec<Option<Type>> {
    let lower = sql.to_ascii_lowercase();
    let mut types = vec![None; count];
    let mut at = 0;
    while let Some(found) = lower[at..].find('$') {
        let start = at + found + 1;
        let end = start
            + lower[start..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
        at = end.max(start);
        let Ok(n) = lower[start..end].parse::<usize>() else {
            continue;
        };
        let after = lower[end..].trim_start();
        let named = if let Some(rest) = after.strip_prefix("::") {
            Some(rest)
        } else {
            // CAST($n AS type)
            let before = lower[..start - 1].trim_end();
            let cast =
                before.ends_with('(') && before[..before.len() - 1].trim_end().ends_with("cast");
            after.strip_prefix("as ").filter(|_| cast)
        };
        let ty = named.and_then(|rest| {
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ' ')
                .collect();
            pg_type_named(name.trim())
        });
        if let (Some(slot), Some(ty)) = (n.checked_sub(1).and_then(|i| types.get_mut(i)), ty) {
            *slot = Some(ty);
        }
    }
    types
}

fn pg_type_named(name: &str) -> Option<Type> {
    let first = name.split_whitespace().next()?;
    Some(match first {
        "int" | "integer" | "int4" => Type::INT4,
        "bigint" | "int8" => Type::INT8,
        "smallint" | "int2" => Type::INT2,
        "real" | "float4" => Type::FLOAT4,
        "double" | "float8" | "float" => Type::FLOAT8,
        "numeric" | "decimal" => Type::NUMERIC,
        "bool" | "boolean" => Type::BOOL,
        "date" => Type::DATE,
        "timestamptz" => Type::TIMESTAMPTZ,
        "timestamp" if name.contains("with time zone") => Type::TIMESTAMPTZ,
        "timestamp" => Type::TIMESTAMP,
        "text" | "varchar" => Type::TEXT,
        _ => return None,
    })
}

/// The row description of `schema`: names, PostgreSQL types (a NUMERIC
/// with its precision and scale in the type modifier, as PostgreSQL's
/// `numeric(p,s)`), and the format of each column (`format(i)`).
pub fn fields(schema: &Schema, format: impl Fn(usize) -> FieldFormat) -> Vec<FieldInfo> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let kind = kind(field.data_type());
            let info = FieldInfo::new(field.name().clone(), None, None, pg_type(kind), format(i));
            match field.data_type() {
                DataType::Decimal128(precision, scale) if *scale >= 0 => {
                    info.with_type_modifier(((*precision as i32) << 16 | *scale as i32) + 4)
                }
                _ => info,
            }
        })
        .collect()
}

/// The rows of `batch` in the formats of `fields`.
pub fn rows(batch: &RecordBatch, fields: &[FieldInfo]) -> Result<Vec<DataRow>> {
    let columns: Vec<Column> = batch
        .columns()
        .iter()
        .zip(fields)
        .map(|(array, field)| Column::new(array, field.format() == FieldFormat::Binary))
        .collect::<Result<_>>()?;
    let mut rows = Vec::with_capacity(batch.num_rows());
    let mut buffer = BytesMut::with_capacity(64 * columns.len());
    for row in 0..batch.num_rows() {
        for column in &columns {
            column.put(row, &mut buffer);
        }
        rows.push(DataRow::new(buffer.split(), columns.len() as i16));
    }
    Ok(rows)
}

/// One column of a batch, ready to write value by value.
struct Column<'a> {
    array: &'a ArrayRef,
    kind: Kind,
    binary: bool,
    /// DuckDB's text of each value, for the kinds written as text.
    texts: Option<Vec<Option<String>>>,
    /// Microseconds per unit of a timestamp column (or units per µs, < 0).
    micros: i64,
}

impl<'a> Column<'a> {
    fn new(array: &'a ArrayRef, binary: bool) -> Result<Column<'a>> {
        let kind = kind(array.data_type());
        let texts = match kind {
            Kind::Text => Some(export::texts(array)?),
            _ => None,
        };
        let micros = match array.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => 1_000_000,
            DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000,
            DataType::Timestamp(TimeUnit::Nanosecond, _) => -1_000,
            _ => 1,
        };
        Ok(Column {
            array,
            kind,
            binary,
            texts,
            micros,
        })
    }

    /// Writes the value at `row` — its length, then its bytes; -1 for NULL.
    fn put(&self, row: usize, out: &mut BytesMut) {
        if self.array.is_null(row) {
            out.put_i32(-1);
            return;
        }
        let start = out.len();
        out.put_i32(0);
        if self.binary {
            self.put_binary(row, out);
        } else {
            self.put_text(row, out);
        }
        let length = (out.len() - start - 4) as i32;
        out[start..start + 4].copy_from_slice(&length.to_be_bytes());
    }

    fn put_binary(&self, row: usize, out: &mut BytesMut) {
        match self.kind {
            Kind::Bool => out.put_u8(self.array.as_boolean().value(row) as u8),
            Kind::Int2 => out.put_i16(self.int(row) as i16),
            Kind::Int4 => out.put_i32(self.int(row) as i32),
            Kind::Int8 => out.put_i64(self.int(row) as i64),
            Kind::Float4 => out.put_f32(self.float(row) as f32),
            Kind::Float8 => out.put_f64(self.float(row)),
            Kind::Numeric(scale) => numeric_binary(self.int(row), scale, out),
            Kind::Date => out.put_i32((self.days(row) - EPOCH_DAYS) as i32),
            Kind::Timestamp | Kind::TimestampTz => out.put_i64(self.timestamp(row) - EPOCH_MICROS),
            Kind::Bytea => out.put_slice(self.bytes(row)),
            Kind::Text => out.put_slice(self.text(row).as_bytes()),
        }
    }

    fn put_text(&self, row: usize, out: &mut BytesMut) {
        use std::fmt::Write;
        let mut text = String::new();
        match self.kind {
            Kind::Bool => text.push(if self.array.as_boolean().value(row) {
                't'
            } else {
                'f'
            }),
            Kind::Int2 | Kind::Int4 | Kind::Int8 => {
                let _ = write!(text, "{}", self.int(row));
            }
            Kind::Float4 => text = float_text(self.float(row) as f32 as f64, true),
            Kind::Float8 => text = float_text(self.float(row), false),
            Kind::Numeric(scale) => text = numeric_text(self.int(row), scale),
            Kind::Date => text = date_text(self.days(row)),
            Kind::Timestamp => text = timestamp_text(self.timestamp(row), false),
            Kind::TimestampTz => text = timestamp_text(self.timestamp(row), true),
            Kind::Bytea => {
                text.push_str("\\x");
                for byte in self.bytes(row) {
                    let _ = write!(text, "{byte:02x}");
                }
            }
            Kind::Text => text.push_str(self.text(row)),
        }
        out.put_slice(text.as_bytes());
    }

    /// An integer (or a decimal's unscaled integer) as i128.
    fn int(&self, row: usize) -> i128 {
        let any = self.array.as_any();
        macro_rules! get {
            ($($array:ty),*) => {
                $(if let Some(array) = any.downcast_ref::<$array>() {
                    return array.value(row) as i128;
                })*
            };
        }
        get!(
            Int8Array,
            Int16Array,
            Int32Array,
            Int64Array,
            UInt8Array,
            UInt16Array,
            UInt32Array,
            Decimal128Array
        );
        if let Some(array) = any.downcast_ref::<duckdb::arrow::array::UInt64Array>() {
            return array.value(row) as i128;
        }
        unreachable!("an integer column of type {}", self.array.data_type())
    }

    fn float(&self, row: usize) -> f64 {
        let any = self.array.as_any();
        if let Some(array) = any.downcast_ref::<Float64Array>() {
            return array.value(row);
        }
        if let Some(array) = any.downcast_ref::<Float32Array>() {
            return array.value(row) as f64;
        }
        if let Some(array) = any.downcast_ref::<duckdb::arrow::array::Float16Array>() {
            return array.value(row).to_f64();
        }
        unreachable!("a float column of type {}", self.array.data_type())
    }

    fn days(&self, row: usize) -> i64 {
        self.array
            .as_any()
            .downcast_ref::<Date32Array>()
            .map(|array| array.value(row) as i64)
            .unwrap_or_default()
    }

    /// Microseconds since 1970-01-01 (UTC for a zoned timestamp).
    fn timestamp(&self, row: usize) -> i64 {
        let value = match self.array.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => {
                self.array.as_primitive::<TimestampSecondType>().value(row)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => self
                .array
                .as_primitive::<TimestampMillisecondType>()
                .value(row),
            DataType::Timestamp(TimeUnit::Microsecond, _) => self
                .array
                .as_primitive::<TimestampMicrosecondType>()
                .value(row),
            _ => self
                .array
                .as_primitive::<TimestampNanosecondType>()
                .value(row),
        };
        if self.micros > 0 {
            value * self.micros
        } else {
            value.div_euclid(-self.micros)
        }
    }

    fn bytes(&self, row: usize) -> &[u8] {
        match self.array.data_type() {
            DataType::LargeBinary => self.array.as_binary::<i64>().value(row),
            _ => self.array.as_binary::<i32>().value(row),
        }
    }

    fn text(&self, row: usize) -> &str {
        self.texts
            .as_ref()
            .and_then(|texts| texts[row].as_deref())
            .unwrap_or_default()
    }
}

/// A NUMERIC's text: the unscaled `value` with `scale` digits after the
/// point (`-12.3400`), as PostgreSQL writes a `numeric(p,s)`.
pub fn numeric_text(value: i128, scale: i8) -> String {
    let digits = value.unsigned_abs().to_string();
    let scale = scale.max(0) as usize;
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

/// A NUMERIC in PostgreSQL's binary form: the count of base-10 000 digits,
/// the weight of the first, the sign, the display scale, then the digits —
/// without leading or trailing zero digits (zero has none, weight 0).
pub fn numeric_binary(value: i128, scale: i8, out: &mut BytesMut) {
    let scale = scale.max(0) as usize;
    let digits = value.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    // Whole part padded on the left, fraction on the right, to groups of 4.
    let whole = format!("{whole:0>width$}", width = whole.len().div_ceil(4) * 4);
    let fraction = format!(
        "{fraction:0<width$}",
        width = fraction.len().div_ceil(4) * 4
    );
    let group = |text: &str| -> Vec<i16> {
        text.as_bytes()
            .chunks(4)
            .map(|chunk| std::str::from_utf8(chunk).unwrap().parse().unwrap())
            .collect()
    };
    let mut groups = group(&whole);
    let mut weight = groups.len() as i16 - 1;
    groups.extend(group(&fraction));
    let leading = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..leading);
    weight -= leading as i16;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    out.put_i16(groups.len() as i16);
    out.put_i16(weight);
    out.put_u16(if value < 0 && !groups.is_empty() {
        0x4000
    } else {
        0
    });
    out.put_u16(scale as u16);
    for g in groups {
        out.put_i16(g);
    }
}

/// A float as PostgreSQL writes it: the shortest text that reads back as
/// the same value, `Infinity`, `-Infinity`, `NaN`.
fn float_text(value: f64, single: bool) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if single {
        format!("{}", value as f32)
    } else {
        format!("{value}")
    }
}

fn date_text(days: i64) -> String {
    chrono::DateTime::from_timestamp(days * 86_400, 0)
        .map(|at| at.date_naive().format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `2026-10-01 12:30:00[.123456]`, with `+00` for a zoned timestamp (the
/// session's time zone is UTC).
fn timestamp_text(micros: i64, zoned: bool) -> String {
    let Some(at) = chrono::DateTime::from_timestamp_micros(micros) else {
        return String::new();
    };
    let mut text = at.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string();
    let fraction = micros.rem_euclid(1_000_000);
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    if zoned {
        text.push_str("+00");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(value: i128, scale: i8) -> Vec<i16> {
        let mut out = BytesMut::new();
        numeric_binary(value, scale, &mut out);
        out.chunks(2)
            .map(|pair| i16::from_be_bytes([pair[0], pair[1]]))
            .collect()
    }

    #[test]
    fn numeric_text_is_the_digits() {
        assert_eq!(numeric_text(123_4500, 4), "123.4500");
        assert_eq!(numeric_text(-5, 4), "-0.0005");
        assert_eq!(numeric_text(0, 2), "0.00");
        assert_eq!(numeric_text(42, 0), "42");
        assert_eq!(
            numeric_text(i128::MAX, 18),
            "170141183460469231731.687303715884105727"
        );
    }

    #[test]
    fn numeric_binary_is_postgresql_s_layout() {
        // [ndigits, weight, sign, dscale, digits…], worked out by hand from
        // PostgreSQL's numeric.c layout (base 10 000, no zero at either end).
        assert_eq!(binary(0, 2), vec![0, 0, 0, 2]);
        assert_eq!(binary(12_345_678, 2), vec![3, 1, 0, 2, 12, 3456, 7800]);
        assert_eq!(binary(-5, 4), vec![1, -1, 0x4000, 4, 5]);
        assert_eq!(binary(10_000, 0), vec![1, 1, 0, 0, 1]);
        assert_eq!(binary(1_0000_0001, 4), vec![3, 1, 0, 4, 1, 0, 1]);
        assert_eq!(binary(5, 6), vec![1, -2, 0, 6, 500]);
    }

    #[test]
    fn casts_type_parameters_as_postgresql_infers_them() {
        assert_eq!(
            cast_types(
                "select $1::integer + 1, cast($2 as date), $3, $4 :: timestamp with time zone",
                4
            ),
            vec![
                Some(Type::INT4),
                Some(Type::DATE),
                None,
                Some(Type::TIMESTAMPTZ)
            ]
        );
        assert_eq!(cast_types("select '$1::int'", 0), vec![]);
        assert_eq!(cast_types("select $2::bigint", 1), vec![None]);
    }

    #[test]
    fn times_are_written_as_postgresql_writes_them() {
        assert_eq!(date_text(EPOCH_DAYS), "2000-01-01");
        assert_eq!(timestamp_text(1_500_000, false), "1970-01-01 00:00:01.5");
        assert_eq!(timestamp_text(-1, true), "1969-12-31 23:59:59.999999+00");
        assert_eq!(float_text(0.1, false), "0.1");
        assert_eq!(float_text(f64::NEG_INFINITY, false), "-Infinity");
    }
}
