//! Text outputs: CSV, JSON and NDJSON streamed to a file or the terminal,
//! and the terminal table (which keeps only the rows it shows). Values are
//! Arrow's exact text of each value: decimals with every digit, dates as
//! `YYYY-MM-DD`, floats as the shortest text that reads back the same.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use duckdb::arrow::array::{Array, ArrayRef};
use duckdb::arrow::datatypes::{DataType, SchemaRef};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::{failed, ExportFormat, Pending, Sink};
use crate::error::{Error, Result};

/// The rows a terminal table shows when no limit is given.
pub const TABLE_ROWS: usize = 100;

/// Each value of `column` as text, `None` for NULL.
pub fn texts(column: &ArrayRef) -> Result<Vec<Option<String>>> {
    let options = FormatOptions::default().with_null("");
    let formatter = ArrayFormatter::try_new(column.as_ref(), &options)
        .map_err(|e| Error::Internal(format!("format a value: {e}")))?;
    Ok((0..column.len())
        .map(|row| (!column.is_null(row)).then(|| formatter.value(row).to_string()))
        .collect())
}

/// How JSON writes a column's values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum JsonKind {
    Number,
    Bool,
    Text,
}

fn json_kind(ty: &DataType) -> JsonKind {
    if ty.is_numeric() {
        JsonKind::Number
    } else if *ty == DataType::Boolean {
        JsonKind::Bool
    } else {
        JsonKind::Text
    }
}

/// CSV, JSON or NDJSON, written as the batches come.
pub struct TextSink {
    format: ExportFormat,
    names: Vec<String>,
    kinds: Vec<JsonKind>,
    /// CSV goes through the csv crate's writer; JSON straight to a buffer.
    csv: Option<csv::Writer<Box<dyn Write>>>,
    json: Option<BufWriter<Box<dyn Write>>>,
    pending: Option<Pending>,
    path: Option<PathBuf>,
    rows: u64,
}

impl TextSink {
    pub fn new(format: ExportFormat, schema: &SchemaRef, out: Option<&Path>) -> Result<TextSink> {
        let (target, pending): (Box<dyn Write>, Option<Pending>) = match out {
            Some(path) => {
                let pending = Pending::new(path)?;
                (Box::new(pending.file()?), Some(pending))
            }
            None => (Box::new(std::io::stdout()), None),
        };
        let (csv, json) = if format == ExportFormat::Csv {
            let csv = csv::WriterBuilder::new()
                .buffer_capacity(1 << 16)
                .from_writer(target);
            (Some(csv), None)
        } else {
            (None, Some(BufWriter::with_capacity(1 << 16, target)))
        };
        let mut sink = TextSink {
            format,
            names: schema.fields().iter().map(|f| f.name().clone()).collect(),
            kinds: schema
                .fields()
                .iter()
                .map(|f| json_kind(f.data_type()))
                .collect(),
            csv,
            json,
            pending,
            path: out.map(Path::to_path_buf),
            rows: 0,
        };
        match format {
            ExportFormat::Csv => {
                let names = sink.names.clone();
                if let Some(csv) = sink.csv.as_mut() {
                    csv.write_record(&names).map_err(|e| failed(out, e))?;
                }
            }
            ExportFormat::Json => sink.put(b"[")?,
            _ => {}
        }
        Ok(sink)
    }

    /// JSON text.
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        match self.json.as_mut() {
            Some(json) => json
                .write_all(bytes)
                .map_err(|e| failed(self.path.as_deref(), e)),
            None => Err(Error::Internal("JSON text for a CSV output".into())),
        }
    }
}

impl Sink for TextSink {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let options = FormatOptions::default().with_null("");
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Internal(format!("format a value: {e}")))?;
        let columns = batch.columns();
        let path = self.path.clone();
        let fail = |e: &dyn std::fmt::Display| failed(path.as_deref(), e);
        let mut value = String::new();
        if let Some(csv) = self.csv.as_mut() {
            for row in 0..batch.num_rows() {
                for (column, formatter) in columns.iter().zip(&formatters) {
                    value.clear();
                    if !column.is_null(row) {
                        std::fmt::Write::write_fmt(
                            &mut value,
                            format_args!("{}", formatter.value(row)),
                        )
                        .map_err(|e| fail(&e))?;
                    }
                    csv.write_field(&value).map_err(|e| fail(&e))?;
                }
                csv.write_record(None::<&[u8]>).map_err(|e| fail(&e))?;
            }
            self.rows += batch.num_rows() as u64;
            return Ok(());
        }
        let mut chunk = String::new();
        for row in 0..batch.num_rows() {
            if self.format == ExportFormat::Json {
                chunk.push_str(if self.rows == 0 { "\n  " } else { ",\n  " });
            }
            chunk.push('{');
            for (j, (column, formatter)) in columns.iter().zip(&formatters).enumerate() {
                if j > 0 {
                    chunk.push_str(", ");
                }
                chunk.push_str(&serde_json::to_string(&self.names[j]).expect("a string"));
                chunk.push_str(": ");
                if column.is_null(row) {
                    chunk.push_str("null");
                    continue;
                }
                value.clear();
                std::fmt::Write::write_fmt(&mut value, format_args!("{}", formatter.value(row)))
                    .map_err(|e| fail(&e))?;
                match self.kinds[j] {
                    JsonKind::Number if is_json_number(&value) => chunk.push_str(&value),
                    JsonKind::Bool => chunk.push_str(&value),
                    _ => chunk.push_str(&serde_json::to_string(&value).expect("a string")),
                }
            }
            chunk.push('}');
            if self.format == ExportFormat::Ndjson {
                chunk.push('\n');
            }
            self.rows += 1;
        }
        self.put(chunk.as_bytes())
    }

    fn finish(mut self: Box<Self>, _total: u64) -> Result<()> {
        if self.format == ExportFormat::Json {
            let end: &[u8] = if self.rows == 0 { b"]\n" } else { b"\n]\n" };
            self.put(end)?;
        }
        let path = self.path.clone();
        if let Some(csv) = self.csv.as_mut() {
            csv.flush().map_err(|e| failed(path.as_deref(), e))?;
        }
        if let Some(json) = self.json.as_mut() {
            json.flush().map_err(|e| failed(path.as_deref(), e))?;
        }
        if let Some(pending) = self.pending.take() {
            pending.complete()?;
        }
        Ok(())
    }
}

/// The terminal table: the rows within the limit, and a line saying how
/// many were left out.
pub struct TableSink {
    names: Vec<String>,
    numeric: Vec<bool>,
    rows: Vec<Vec<Option<String>>>,
    out: Option<PathBuf>,
}

impl TableSink {
    pub fn new(schema: &SchemaRef, out: Option<&Path>) -> Result<TableSink> {
        Ok(TableSink {
            names: schema.fields().iter().map(|f| f.name().clone()).collect(),
            numeric: schema
                .fields()
                .iter()
                .map(|f| f.data_type().is_numeric())
                .collect(),
            rows: Vec::new(),
            out: out.map(Path::to_path_buf),
        })
    }
}

impl Sink for TableSink {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let columns: Vec<Vec<Option<String>>> =
            batch.columns().iter().map(texts).collect::<Result<_>>()?;
        for row in 0..batch.num_rows() {
            self.rows
                .push(columns.iter().map(|c| c[row].clone()).collect());
        }
        Ok(())
    }

    fn finish(self: Box<Self>, total: u64) -> Result<()> {
        let mut table = comfy_table::Table::new();
        table
            .load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
            .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
            .set_header(self.names.clone());
        for row in &self.rows {
            table.add_row(row.iter().zip(&self.numeric).map(|(value, numeric)| {
                let cell = comfy_table::Cell::new(value.as_deref().unwrap_or("NULL"));
                if *numeric {
                    cell.set_alignment(comfy_table::CellAlignment::Right)
                } else {
                    cell
                }
            }));
        }
        let mut text = format!("{table}\n");
        if (self.rows.len() as u64) < total {
            text.push_str(&format!(
                "({} of {total} rows shown; --limit 0 shows all, --format csv --out FILE writes all)\n",
                self.rows.len()
            ));
        }
        match &self.out {
            Some(path) => {
                let pending = Pending::new(path)?;
                fs_err::write(pending.temp_path(), text)?;
                pending.complete()?;
            }
            None => print!("{text}"),
        }
        Ok(())
    }
}

/// Whether `text` is a JSON number as it stands (`12`, `-0.5000`, `1e3`).
pub(crate) fn is_json_number(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let body = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    digits(whole)
        && (whole == "0" || !whole.starts_with('0'))
        && fraction.is_none_or(digits)
        && exponent.is_none_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_are_recognised_as_written() {
        for yes in [
            "0",
            "12",
            "-0.5000",
            "1e3",
            "2.5E-7",
            "123456789012345678901234.5678",
        ] {
            assert!(is_json_number(yes), "{yes}");
        }
        for no in ["", "-", "01", "1.", ".5", "inf", "NaN", "1e", "0x10"] {
            assert!(!is_json_number(no), "{no}");
        }
    }
}
