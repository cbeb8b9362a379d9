//! Readers, one per source kind. Each turns a source into a *raw relation*
//! DuckDB can scan — the file itself through a table function (CSV,
//! Parquet), or a temporary table the reader filled (Excel, JSON,
//! PostgreSQL) — with the source's own column names, and says how a row is
//! found again in the source (line, sheet row, record). Readers know nothing
//! of the canonical model beyond recognising a header row.

pub mod csv;
pub mod excel;
pub mod json;
pub mod packed;
pub mod parquet;
pub mod postgres;
mod tls;

use duckdb::{appender_params_from_iter, Connection};

use crate::error::{Error, Result};

/// A source as DuckDB can scan it.
#[derive(Debug, Clone)]
pub struct Raw {
    /// The FROM clause: a table function call with `?` placeholders bound
    /// to `params`, or a temporary table's name.
    pub from: String,
    pub params: Vec<String>,
    pub columns: Vec<RawColumn>,
    /// How a staged row's place in the source is computed.
    pub lines: Lines,
    /// What a place is called in messages: `line`, `sheet row`, `record`, `row`.
    pub line_word: &'static str,
    /// Rows the reader could not read at all (wrong field count, broken
    /// quoting), with the reason; they go to quarantine.
    pub rejects: Vec<Reject>,
    /// Where DuckDB records rows of a CSV scan it could not read.
    pub rejects_table: Option<String>,
    /// What the reader detected, for the dry run and the load log.
    pub notes: Vec<(&'static str, String)>,
    /// How many rows the relation holds, when the reader can tell before
    /// the scan (for the progress bar's rows per second).
    pub rows: Option<RowCount>,
}

/// A row count known before the scan: a Parquet file's own, or a CSV's
/// estimate from its size and the lines of its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCount {
    pub rows: u64,
    pub exact: bool,
}

#[derive(Debug, Clone)]
pub struct RawColumn {
    /// The name in the source's header.
    pub header: String,
    /// Its identifier in the raw relation (generated, never user text).
    pub ident: String,
    /// DuckDB's type: VARCHAR for text sources.
    pub ty: String,
}

/// How a staged row's place in the source is found.
#[derive(Debug, Clone, Copy)]
pub enum Lines {
    /// The rows arrive in order: place = offset + 0-based row index.
    Offset(u64),
    /// The relation carries a `_line` column.
    Column,
}

#[derive(Debug, Clone)]
pub struct Reject {
    pub line: u64,
    pub message: String,
    pub value: Option<String>,
}

impl Raw {
    pub fn headers(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.header.clone()).collect()
    }
}

/// Header names as a reader hands them on: trimmed, an empty one named after
/// its position, a repeated one numbered.
pub fn clean_headers(cells: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(cells.len());
    for (i, cell) in cells.iter().enumerate() {
        let base = match cell.trim() {
            "" => format!("column {}", i + 1),
            name => name.to_string(),
        };
        let mut name = base.clone();
        let mut n = 2;
        while out.contains(&name) {
            name = format!("{base} ({n})");
            n += 1;
        }
        out.push(name);
    }
    out
}

/// Looks like a number or a date rather than a column name.
fn looks_like_data(cell: &str) -> bool {
    let cell = cell.trim();
    !cell.is_empty()
        && cell.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '/' | ':' | ' ' | '+' | '$' | '%')
        })
}

/// The index of the header among a source's first rows: the row naming the
/// most known columns; without any, the first row as wide as the data whose
/// cells are all text. Title rows, blank rows and notes above it are skipped.
pub fn find_header(rows: &[Vec<String>], known: &dyn Fn(&str) -> bool) -> usize {
    let filled = |row: &Vec<String>| row.iter().filter(|c| !c.trim().is_empty()).count();
    let scored = rows
        .iter()
        .enumerate()
        .map(|(i, row)| (row.iter().filter(|c| known(c)).count(), filled(row), i))
        .filter(|(score, ..)| *score > 0)
        // Most known names; then the fullest row; then the first.
        .max_by_key(|(score, filled, i)| (*score, *filled, std::cmp::Reverse(*i)));
    if let Some((_, _, i)) = scored {
        return i;
    }
    let width = rows.iter().map(filled).max().unwrap_or(0);
    rows.iter()
        .position(|row| {
            filled(row) == width
                && row
                    .iter()
                    .all(|c| c.trim().is_empty() || !looks_like_data(c))
        })
        .unwrap_or(0)
}

/// Creates temporary table `name` with one VARCHAR column per header and
/// `_line`, and appends `rows` (place, values) to it.
pub fn append_table(
    conn: &Connection,
    name: &str,
    width: usize,
    rows: impl Iterator<Item = (u64, Vec<Option<String>>)>,
) -> Result<u64> {
    let columns: Vec<String> = (0..width).map(|i| format!("c{i} VARCHAR")).collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {name} ({}{}_line BIGINT)",
        columns.join(", "),
        if width > 0 { ", " } else { "" }
    ))
    .map_err(Error::query("create raw table"))?;
    let mut appender = conn
        .appender(name)
        .map_err(Error::query("append raw rows"))?;
    let mut count = 0;
    for (line, mut values) in rows {
        values.resize(width, None);
        let line = line.to_string();
        appender
            .append_row(appender_params_from_iter(
                values
                    .iter()
                    .map(|v| v.as_deref())
                    .chain([Some(line.as_str())]),
            ))
            .map_err(Error::query("append raw rows"))?;
        count += 1;
    }
    appender.flush().map_err(Error::query("append raw rows"))?;
    Ok(count)
}

/// The columns `c0`, `c1`, … of a text relation, named by `headers`.
pub fn text_columns(headers: Vec<String>) -> Vec<RawColumn> {
    headers
        .into_iter()
        .enumerate()
        .map(|(i, header)| RawColumn {
            header,
            ident: format!("c{i}"),
            ty: "VARCHAR".into(),
        })
        .collect()
}

/// The raw relation of an appended table with `headers`.
pub fn appended(
    name: &str,
    headers: Vec<String>,
    line_word: &'static str,
    notes: Vec<(&'static str, String)>,
) -> Raw {
    Raw {
        from: name.to_string(),
        params: Vec::new(),
        columns: text_columns(headers),
        lines: Lines::Column,
        line_word,
        rejects: Vec::new(),
        rejects_table: None,
        notes,
        rows: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[&[&str]]) -> Vec<Vec<String>> {
        text.iter()
            .map(|row| row.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn the_header_is_found_below_titles() {
        let known = |cell: &str| ["訂單編號", "銷售日期", "銷售金額"].contains(&cell);
        let sheet = rows(&[
            &["銷售明細表", "", ""],
            &["列印日期：115/11/01", "", ""],
            &["", "", ""],
            &["訂單編號", "銷售日期", "銷售金額"],
            &["A1", "115/10/03", "220.0464"],
        ]);
        assert_eq!(find_header(&sheet, &known), 3);
        // Nothing known: the first full row of text.
        let unknown = |_: &str| false;
        let sheet = rows(&[&["Report", "", ""], &["a", "b", "c"], &["1", "2", "3"]]);
        assert_eq!(find_header(&sheet, &unknown), 1);
    }

    #[test]
    fn headers_are_named_and_numbered() {
        let cells: Vec<String> = [" id ", "", "id"].iter().map(|s| s.to_string()).collect();
        assert_eq!(clean_headers(&cells), vec!["id", "column 2", "id (2)"]);
    }
}
