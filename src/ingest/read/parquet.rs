//! Parquet files through DuckDB's own reader. Typed columns stay typed where
//! they already are what the canonical column needs (a DATE, an exact
//! DECIMAL, an integer); anything else is read as text by the value readers.

use std::path::Path;

use duckdb::{params, Connection};

use super::{Lines, Raw, RawColumn};
use crate::error::{BadData, Error, Result};

pub fn read(conn: &Connection, path: &Path) -> Result<Raw> {
    let file = path.display().to_string();
    let described: duckdb::Result<Vec<(String, String)>> = conn
        .prepare("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))")
        .and_then(|mut statement| {
            statement
                .query_map(params![file], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        });
    let described = described.map_err(|error| {
        let first = error
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        Error::data(BadData::file(
            path,
            format!("cannot read the Parquet file: {first}"),
            Some("check that it is a complete Parquet file, or set the source's `format`".into()),
        ))
    })?;
    // The file's metadata holds its row count: no scan.
    let rows: Option<i64> = conn
        .query_row(
            "SELECT count(*) FROM read_parquet(?)",
            params![file],
            |row| row.get(0),
        )
        .ok();
    Ok(Raw {
        rows: rows.map(|rows| super::RowCount {
            rows: rows as u64,
            exact: true,
        }),
        from: "read_parquet(?)".into(),
        params: vec![file],
        columns: described
            .into_iter()
            .map(|(header, ty)| RawColumn {
                ident: format!("\"{}\"", header.replace('"', "\"\"")),
                header,
                ty,
            })
            .collect(),
        lines: Lines::Offset(1),
        line_word: "row",
        rejects: Vec::new(),
        rejects_table: None,
        notes: vec![("format", "Parquet".into())],
    })
}
