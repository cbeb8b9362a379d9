//! Excel workbooks through `rust_xlsxwriter` in its constant-memory mode
//! (each sheet's rows go to a temporary file as they are written). A sheet
//! holds 1,048,576 rows; past that the rows continue on a further sheet,
//! each with the header row, so no row is ever dropped.
//!
//! Excel keeps numbers as doubles, which hold any decimal of up to 15
//! significant digits exactly as written: such a value is a number cell
//! (shown in Excel's General format); a longer one is a text cell
//! with every digit rather than a rounded number. Dates are date cells;
//! timestamps with a zone are text (Excel has no zones).

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use duckdb::arrow::datatypes::{DataType, SchemaRef};
use duckdb::arrow::record_batch::RecordBatch;
use rust_xlsxwriter::{DocProperties, Format, Workbook};

use super::text::texts;
use super::{failed, Pending, Sink};
use crate::error::{Error, Result};

/// Rows of one sheet, the header included.
pub const SHEET_ROWS: u32 = 1_048_576;
/// Digits a double keeps exactly.
const EXACT_DIGITS: usize = 15;
/// Integers a double keeps exactly: ±2^53.
const EXACT_INTEGER: i128 = 1 << 53;

#[derive(Clone, Copy)]
enum Kind {
    Integer,
    Float,
    Decimal,
    Bool,
    Date,
    Timestamp,
    Text,
}

fn kind(ty: &DataType) -> Kind {
    match ty {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Kind::Integer,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => Kind::Float,
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Kind::Decimal,
        DataType::Boolean => Kind::Bool,
        DataType::Date32 | DataType::Date64 => Kind::Date,
        DataType::Timestamp(_, None) => Kind::Timestamp,
        _ => Kind::Text,
    }
}

/// The significant digits of a decimal written as text.
fn significant_digits(text: &str) -> usize {
    let all: String = text.chars().filter(char::is_ascii_digit).collect();
    all.trim_start_matches('0').trim_end_matches('0').len()
}

pub struct XlsxSink {
    workbook: Workbook,
    names: Vec<String>,
    kinds: Vec<Kind>,
    date: Format,
    timestamp: Format,
    header: Format,
    sheet: usize,
    /// The next row of the current sheet.
    row: u32,
    pending: Pending,
    path: PathBuf,
}

impl XlsxSink {
    pub fn new(schema: &SchemaRef, path: &Path) -> Result<XlsxSink> {
        let pending = Pending::new(path)?;
        let mut workbook = Workbook::new();
        // A fixed creation date (the zip format's epoch, which the entries
        // carry too): the same answer gives the same bytes.
        let epoch = NaiveDate::from_ymd_opt(1980, 1, 1).expect("a date");
        workbook.set_properties(
            &DocProperties::new()
                .set_creation_datetime(&epoch)
                .set_author("opskpi"),
        );
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            workbook
                .set_tempdir(dir)
                .map_err(|e| failed(Some(path), e))?;
        }
        let mut sink = XlsxSink {
            workbook,
            names: schema.fields().iter().map(|f| f.name().clone()).collect(),
            kinds: schema
                .fields()
                .iter()
                .map(|f| kind(f.data_type()))
                .collect(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            timestamp: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            header: Format::new().set_bold(),
            sheet: 0,
            row: 0,
            pending,
            path: path.to_path_buf(),
        };
        sink.new_sheet()?;
        Ok(sink)
    }

    /// Starts a further sheet with the header row.
    fn new_sheet(&mut self) -> Result<()> {
        let path = self.path.clone();
        let fail = |e: rust_xlsxwriter::XlsxError| failed(Some(&path), e);
        let name = if self.sheet == 0 {
            "data".to_string()
        } else {
            format!("data {}", self.sheet + 1)
        };
        let sheet = self
            .workbook
            .add_worksheet_with_constant_memory()
            .map_err(fail)?;
        sheet.set_name(name).map_err(fail)?;
        sheet.set_freeze_panes(1, 0).map_err(fail)?;
        for (col, name) in self.names.iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, name, &self.header)
                .map_err(fail)?;
        }
        self.sheet += 1;
        self.row = 1;
        Ok(())
    }
}

impl Sink for XlsxSink {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let columns: Vec<Vec<Option<String>>> =
            batch.columns().iter().map(texts).collect::<Result<_>>()?;
        let path = self.path.clone();
        for r in 0..batch.num_rows() {
            if self.row == SHEET_ROWS {
                self.new_sheet()?;
            }
            let row = self.row;
            let sheet = self
                .workbook
                .worksheet_from_index(self.sheet - 1)
                .map_err(|e| failed(Some(&path), e))?;
            for (c, column) in columns.iter().enumerate() {
                let Some(text) = column[r].as_deref() else {
                    continue;
                };
                let col = c as u16;
                let result = match self.kinds[c] {
                    Kind::Integer => match text.parse::<i128>() {
                        Ok(n) if n.abs() <= EXACT_INTEGER => sheet.write_number(row, col, n as f64),
                        _ => sheet.write_string(row, col, text),
                    },
                    Kind::Float => match text.parse::<f64>() {
                        Ok(x) if x.is_finite() => sheet.write_number(row, col, x),
                        _ => sheet.write_string(row, col, text),
                    },
                    Kind::Decimal => match text.parse::<f64>() {
                        Ok(x) if significant_digits(text) <= EXACT_DIGITS => {
                            sheet.write_number(row, col, x)
                        }
                        _ => sheet.write_string(row, col, text),
                    },
                    Kind::Bool => sheet.write_boolean(row, col, text == "true"),
                    Kind::Date => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                        Ok(d) if d >= NaiveDate::from_ymd_opt(1900, 3, 1).expect("a date") => {
                            sheet.write_datetime_with_format(row, col, d, &self.date)
                        }
                        _ => sheet.write_string(row, col, text),
                    },
                    Kind::Timestamp => {
                        match NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
                            Ok(t)
                                if t.date()
                                    >= NaiveDate::from_ymd_opt(1900, 3, 1).expect("a date") =>
                            {
                                sheet.write_datetime_with_format(row, col, t, &self.timestamp)
                            }
                            _ => sheet.write_string(row, col, text),
                        }
                    }
                    Kind::Text => sheet.write_string(row, col, text),
                };
                result.map_err(|e| match e {
                    rust_xlsxwriter::XlsxError::MaxStringLengthExceeded => Error::config_hint(
                        format!(
                            "`{}`: a value of column `{}` is longer than an Excel cell holds (32,767 characters)",
                            path.display(),
                            self.names[c]
                        ),
                        "export as CSV, JSON or Parquet, which take it whole",
                    ),
                    other => failed(Some(&path), other),
                })?;
            }
            self.row += 1;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, _total: u64) -> Result<()> {
        let temp = self.pending.temp_path().to_path_buf();
        self.workbook
            .save(&temp)
            .map_err(|e| failed(Some(&self.path), e))?;
        self.pending.complete()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits_are_counted_as_written() {
        assert_eq!(significant_digits("220.0464"), 7);
        assert_eq!(significant_digits("-0.0050"), 1);
        assert_eq!(significant_digits("1200"), 2);
        assert_eq!(significant_digits("14015811.110000000000000000"), 10);
        assert_eq!(significant_digits("1234567890123.4567"), 17);
    }
}
