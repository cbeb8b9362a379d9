//! The `opskpi kpi` contract: KPI rows as an aligned table, CSV, JSON,
//! NDJSON, a typed Arrow batch (Parquet, Excel, SQL's `kpi()`) or a Polars
//! frame — what scripts depend on (`docs/kpi-contract.md`).
//!
//! JSON is an array of objects with the keys `indicator`, `label`, `unit`,
//! `change_kind`, `period`, `partial`, one key per dimension, `value`,
//! `previous`, `change_vs_previous`, `last_year`, `change_vs_last_year`,
//! `target`, `status`, `sample_size`, `low_sample`. Ratios are fractions
//! (0.123, not 12.3), NPS is on its −100…100 scale, n/a is `null`. CSV has
//! the same columns, n/a as an empty field. Machine outputs keep their
//! precision: money and counts exact, computed values (ratios, means,
//! relative changes) to 15 significant digits; only the terminal table
//! rounds for reading.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table, TableComponent};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

use std::sync::Arc;

use duckdb::arrow::array::{ArrayRef, BooleanArray, Decimal128Array, Int64Array, StringArray};
use duckdb::arrow::datatypes::{DataType, Field as ArrowField, Schema};
use duckdb::arrow::record_batch::RecordBatch;

use polars::prelude::DataFrame;

use crate::error::{Error, Result};
use crate::export::{self, ExportFormat};
use crate::frames;
use crate::indicators::{ChangeKind, KpiRow, Status, Unit};
use crate::locale::{self, Locale};

/// Significant digits CSV and JSON keep of a computed value (a ratio, a
/// mean, a relative change): more than any consumer rounds to, and clear of
/// the last digits of a 28-digit division. Sums of money and counts are
/// exact and keep every digit.
const SIGNIFICANT: u32 = 15;

/// A value as machine outputs carry it, by unit.
fn exact(value: Option<Decimal>, unit: Unit) -> Option<Decimal> {
    value.map(|v| match unit {
        Unit::Money | Unit::Count => v.normalize(),
        _ => v.round_sf(SIGNIFICANT).unwrap_or(v).normalize(),
    })
}

/// A change as machine outputs carry it: relative changes are ratios.
fn exact_change(value: Option<Decimal>, row: &KpiRow) -> Option<Decimal> {
    match row.change_kind {
        ChangeKind::Relative => exact(value, Unit::Ratio),
        ChangeKind::Difference => exact(value, row.unit),
    }
}

/// The contract's columns, dimensions (which follow `partial`) left out.
const CONTRACT: [&str; 15] = [
    "indicator",
    "label",
    "unit",
    "change_kind",
    "period",
    "partial",
    "value",
    "previous",
    "change_vs_previous",
    "last_year",
    "change_vs_last_year",
    "target",
    "status",
    "sample_size",
    "low_sample",
];

/// The fields of a row in contract order, values as exact decimals.
fn fields(row: &KpiRow) -> Vec<(String, Field)> {
    let mut fields = vec![
        ("indicator".into(), Field::Text(Some(row.indicator.clone()))),
        ("label".into(), Field::Text(Some(row.label.clone()))),
        ("unit".into(), Field::Text(Some(row.unit.name().into()))),
        (
            "change_kind".into(),
            Field::Text(Some(row.change_kind.name().into())),
        ),
        ("period".into(), Field::Text(Some(row.period.to_string()))),
        ("partial".into(), Field::Bool(row.partial)),
    ];
    for (dim, value) in &row.dims {
        fields.push((dim.clone(), Field::Text(value.clone())));
    }
    fields.extend([
        ("value".into(), Field::Number(exact(row.value, row.unit))),
        (
            "previous".into(),
            Field::Number(exact(row.previous, row.unit)),
        ),
        (
            "change_vs_previous".into(),
            Field::Number(exact_change(row.change_vs_previous, row)),
        ),
        (
            "last_year".into(),
            Field::Number(exact(row.last_year, row.unit)),
        ),
        (
            "change_vs_last_year".into(),
            Field::Number(exact_change(row.change_vs_last_year, row)),
        ),
        ("target".into(), Field::Number(exact(row.target, row.unit))),
        (
            "status".into(),
            Field::Text(row.status.map(|status| status.name().into())),
        ),
        ("sample_size".into(), Field::Number(row.sample_size)),
        ("low_sample".into(), Field::Bool(row.low_sample)),
    ]);
    fields
}

enum Field {
    Text(Option<String>),
    Number(Option<Decimal>),
    Bool(bool),
}

/// Renders rows in a text format (table, CSV, JSON, NDJSON).
pub fn render(rows: &[KpiRow], format: ExportFormat, locale: Locale) -> Result<String> {
    match format {
        ExportFormat::Json => json(rows),
        ExportFormat::Ndjson => ndjson(rows),
        ExportFormat::Csv => csv(rows),
        ExportFormat::Table => Ok(table(rows, locale)),
        ExportFormat::Parquet | ExportFormat::Xlsx => Err(Error::config_hint(
            format!("{} is a file format", format.name()),
            format!("add --out FILE.{}", format.name()),
        )),
    }
}

/// Writes rows in `format` to `out` (the terminal when `None`).
pub fn write(
    rows: &[KpiRow],
    format: ExportFormat,
    out: Option<&std::path::Path>,
    locale: Locale,
) -> Result<()> {
    if format.needs_file() {
        let batch = batch(rows)?;
        let mut export = export::sink(format, &batch.schema(), out, None)?;
        export.write(&batch)?;
        export.finish()?;
        return Ok(());
    }
    let text = render(rows, format, locale)?;
    match out {
        Some(path) => export::write_file(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(())
}

/// Decimals the value columns of a typed batch keep: every digit of money
/// (4) and of a 15-significant-digit ratio down to 0.001.
pub const BATCH_SCALE: i8 = 18;

/// Rows as one Arrow batch with typed columns, in contract order: text as
/// strings, `partial` and `low_sample` as booleans, `sample_size` as an
/// integer, values as Decimal(38, 18) — exact for money and counts, and
/// for ratios to at least 15 significant digits down to 0.001.
pub fn batch(rows: &[KpiRow]) -> Result<RecordBatch> {
    batch_by(rows, &[])
}

/// [`batch`], whose columns, when there is no row, still hold the
/// dimensions `dims` asked for (an empty answer by region has a region
/// column).
pub fn batch_by(rows: &[KpiRow], dims: &[String]) -> Result<RecordBatch> {
    let template: Vec<(String, Field)> = match rows.first() {
        Some(row) => fields(row),
        None => CONTRACT
            .iter()
            .flat_map(|&name| {
                let field = match name {
                    "partial" | "low_sample" => Field::Bool(false),
                    "indicator" | "label" | "unit" | "change_kind" | "period" | "status" => {
                        Field::Text(None)
                    }
                    _ => Field::Number(None),
                };
                let after: Vec<(String, Field)> = if name == "partial" {
                    dims.iter()
                        .map(|d| (d.clone(), Field::Text(None)))
                        .collect()
                } else {
                    Vec::new()
                };
                std::iter::once((name.to_string(), field)).chain(after)
            })
            .collect(),
    };
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut schema: Vec<ArrowField> = Vec::new();
    let all: Vec<Vec<(String, Field)>> = rows.iter().map(fields).collect();
    for (j, (name, kind)) in template.iter().enumerate() {
        fn at<'a>(row: &'a [(String, Field)], j: usize, name: &str) -> Result<&'a Field> {
            match row.get(j) {
                Some((key, field)) if key == name => Ok(field),
                _ => Err(Error::Internal(
                    "KPI rows of one answer have the same columns".into(),
                )),
            }
        }
        let (ty, array): (DataType, ArrayRef) = match kind {
            Field::Text(_) => {
                let values: Vec<Option<String>> = all
                    .iter()
                    .map(|row| match at(row, j, name)? {
                        Field::Text(text) => Ok(text.clone()),
                        _ => Err(Error::Internal("a text column".into())),
                    })
                    .collect::<Result<_>>()?;
                (DataType::Utf8, Arc::new(StringArray::from(values)))
            }
            Field::Bool(_) => {
                let values: Vec<bool> = all
                    .iter()
                    .map(|row| match at(row, j, name)? {
                        Field::Bool(flag) => Ok(*flag),
                        _ => Err(Error::Internal("a boolean column".into())),
                    })
                    .collect::<Result<_>>()?;
                (DataType::Boolean, Arc::new(BooleanArray::from(values)))
            }
            Field::Number(_) if name == "sample_size" => {
                let values: Vec<Option<i64>> = all
                    .iter()
                    .map(|row| match at(row, j, name)? {
                        Field::Number(n) => Ok(n.and_then(|n| n.to_i64())),
                        _ => Err(Error::Internal("a number column".into())),
                    })
                    .collect::<Result<_>>()?;
                (DataType::Int64, Arc::new(Int64Array::from(values)))
            }
            Field::Number(_) => {
                let values: Vec<Option<i128>> = all
                    .iter()
                    .zip(rows)
                    .map(|(fields, row)| match at(fields, j, name)? {
                        Field::Number(n) => n.map(|n| scaled(n, &row.indicator, name)).transpose(),
                        _ => Err(Error::Internal("a number column".into())),
                    })
                    .collect::<Result<_>>()?;
                let array = Decimal128Array::from(values)
                    .with_precision_and_scale(38, BATCH_SCALE)
                    .map_err(|e| Error::Internal(format!("KPI batch: {e}")))?;
                (DataType::Decimal128(38, BATCH_SCALE), Arc::new(array))
            }
        };
        schema.push(ArrowField::new(name, ty, true));
        columns.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(schema)), columns)
        .map_err(|e| Error::Internal(format!("KPI batch: {e}")))
}

/// Rows as a Polars frame, in the columns of `batch`.
pub fn kpi_frame(rows: &[KpiRow]) -> Result<DataFrame> {
    let batch = batch(rows)?;
    frames::to_polars(&batch.schema(), &[batch])
}

/// A decimal as the integer of its value × 10^BATCH_SCALE (rounded half
/// away from zero past the 18th decimal); a value past Decimal(38, 18)'s
/// 20 whole digits is an error naming the indicator, never a wrapped number.
fn scaled(value: Decimal, indicator: &str, column: &str) -> Result<i128> {
    let rounded = value.round_dp_with_strategy(
        BATCH_SCALE as u32,
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    );
    let factor = 10i128.pow(BATCH_SCALE as u32 - rounded.scale());
    rounded
        .mantissa()
        .checked_mul(factor)
        .filter(|scaled| scaled.unsigned_abs() < 10u128.pow(38))
        .ok_or_else(|| {
            Error::config_hint(
                format!("`{indicator}`: its {column} {value} is too large for the typed output (at most 20 whole digits)"),
                "write it as CSV or JSON, which keep any number",
            )
        })
}

/// A row as a JSON object with the contract's keys, in contract order.
struct JsonRow(Vec<(String, Field)>);

impl Serialize for JsonRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, field) in &self.0 {
            match field {
                Field::Text(text) => map.serialize_entry(key, text)?,
                Field::Bool(flag) => map.serialize_entry(key, flag)?,
                // The exact decimal's own text as the JSON number: never
                // through a double, so every digit of money stays.
                Field::Number(number) => {
                    let raw = number
                        .map(|number| RawValue::from_string(number.to_string()))
                        .transpose()
                        .map_err(serde::ser::Error::custom)?;
                    map.serialize_entry(key, &raw)?
                }
            }
        }
        map.end()
    }
}

fn json_rows(rows: &[KpiRow]) -> Vec<JsonRow> {
    rows.iter().map(|row| JsonRow(fields(row))).collect()
}

fn ndjson(rows: &[KpiRow]) -> Result<String> {
    let mut text = String::new();
    for row in json_rows(rows) {
        text.push_str(&serde_json::to_string(&row).map_err(|e| Error::Internal(e.to_string()))?);
        text.push('\n');
    }
    Ok(text)
}

fn json(rows: &[KpiRow]) -> Result<String> {
    let mut text = serde_json::to_string_pretty(&json_rows(rows))
        .map_err(|e| Error::Internal(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

fn csv(rows: &[KpiRow]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header_written = false;
    for row in rows {
        let fields = fields(row);
        if !header_written {
            writer
                .write_record(fields.iter().map(|(key, _)| key.as_str()))
                .map_err(|e| Error::Internal(e.to_string()))?;
            header_written = true;
        }
        let record: Vec<String> = fields
            .into_iter()
            .map(|(_, field)| match field {
                Field::Text(text) => text.unwrap_or_default(),
                Field::Bool(flag) => flag.to_string(),
                Field::Number(number) => number.map(|n| n.to_string()).unwrap_or_default(),
            })
            .collect();
        writer
            .write_record(&record)
            .map_err(|e| Error::Internal(e.to_string()))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(e.to_string()))
}

fn table(rows: &[KpiRow], locale: Locale) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .remove_style(TableComponent::HorizontalLines)
        .remove_style(TableComponent::MiddleIntersections)
        .remove_style(TableComponent::LeftBorderIntersections)
        .remove_style(TableComponent::RightBorderIntersections)
        .set_content_arrangement(ContentArrangement::Disabled);
    let dims: Vec<String> = rows
        .first()
        .map(|row| row.dims.iter().map(|(d, _)| d.clone()).collect())
        .unwrap_or_default();
    let mut header = vec!["indicator".to_string(), "period".to_string()];
    header.extend(dims.iter().cloned());
    header.extend(
        [
            "value",
            "previous",
            "Δ prev",
            "last year",
            "Δ last year",
            "target",
            "status",
        ]
        .map(String::from),
    );
    table.set_header(header);
    for row in rows {
        let value = |v| locale::value(locale, row.unit, v);
        let change = |c| locale::change(locale, row.unit, row.change_kind, c);
        let mut period = row.period.to_string();
        if row.partial {
            period.push('*');
        }
        let mut cells = vec![row.indicator.clone(), period];
        cells.extend(
            row.dims
                .iter()
                .map(|(_, v)| v.clone().unwrap_or_else(|| "(none)".into())),
        );
        let mut status = row.status.map(Status::name).unwrap_or("").to_string();
        if row.low_sample {
            status.push_str(" (low sample)");
        }
        cells.extend([
            value(row.value),
            value(row.previous),
            change(row.change_vs_previous),
            value(row.last_year),
            change(row.change_vs_last_year),
            value(row.target),
            status,
        ]);
        table.add_row(cells);
    }
    for index in 2 + dims.len()..2 + dims.len() + 6 {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut text = table.to_string();
    text.push('\n');
    if rows.iter().any(|row| row.partial) {
        text.push_str("* partial period: compared with the same days of the comparison periods\n");
    }
    text
}
