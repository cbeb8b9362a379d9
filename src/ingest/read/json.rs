//! JSON sources: an array of objects, or newline-delimited JSON (one object
//! a line). Values keep their exact text — a number is read from the digits
//! in the file, never through a float — and the columns are every key seen,
//! in order of first appearance. A place is the line (NDJSON) or the
//! record's position in the array.

use std::collections::HashMap;
use std::path::Path;

use duckdb::Connection;
use serde_json::value::RawValue;

use super::{append_table, appended, Raw};
use crate::error::{BadData, Error, Result};

type Object<'a> = Vec<(String, &'a RawValue)>;

/// A JSON value as the text the value readers take: strings unquoted,
/// numbers and booleans as written, `null` missing, objects and arrays as JSON.
fn value_text(value: &RawValue) -> Result<Option<String>, serde_json::Error> {
    let text = value.get();
    Ok(match text.as_bytes().first() {
        Some(b'"') => Some(serde_json::from_str::<String>(text)?),
        Some(b'n') => None,
        _ => Some(text.to_string()),
    })
}

fn parse_object(text: &str) -> Result<Object<'_>, String> {
    // A map keeps the last of repeated keys, as JSON parsers do; the order
    // of first appearance comes from a second, ordered pass over the keys.
    let map: HashMap<String, &RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let order: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(order
        .keys()
        .filter_map(|key| map.get(key).map(|value| (key.clone(), *value)))
        .collect())
}

pub fn read(conn: &Connection, path: &Path, name: &str) -> Result<Raw> {
    let bad = |place: Option<u64>, message: String| {
        let mut bad = BadData::file(
            path,
            message,
            Some(
                "each record must be a JSON object; the file an array of them or one object a line"
                    .into(),
            ),
        );
        bad.line = place;
        Error::data(bad)
    };
    let text = fs_err::read_to_string(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::InvalidData {
            bad(None, "the file is not UTF-8 text, as JSON must be".into())
        } else {
            error.into()
        }
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    let mut records: Vec<(u64, Object)> = Vec::new();
    let (word, notes) = if text.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|error| {
            bad(
                Some(error.line() as u64),
                format!("the file is not valid JSON: {error}"),
            )
        })?;
        for (i, item) in items.iter().enumerate() {
            let object = parse_object(item.get()).map_err(|message| {
                bad(
                    Some(i as u64 + 1),
                    format!("record {} is not an object: {message}", i + 1),
                )
            })?;
            records.push((i as u64 + 1, object));
        }
        ("record", vec![("format", "JSON array".to_string())])
    } else {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let object = parse_object(line).map_err(|message| {
                bad(
                    Some(i as u64 + 1),
                    format!("line {} is not a JSON object: {message}", i + 1),
                )
            })?;
            records.push((i as u64 + 1, object));
        }
        (
            "line",
            vec![("format", "newline-delimited JSON".to_string())],
        )
    };
    let mut headers: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (_, object) in &records {
        for (key, _) in object {
            if !index.contains_key(key) {
                index.insert(key.clone(), headers.len());
                headers.push(key.clone());
            }
        }
    }
    let mut rows = Vec::with_capacity(records.len());
    for (place, object) in &records {
        let mut values = vec![None; headers.len()];
        for (key, value) in object {
            values[index[key]] =
                value_text(value).map_err(|error| bad(Some(*place), error.to_string()))?;
        }
        rows.push((*place, values));
    }
    let table = format!("{name}_raw");
    append_table(conn, &table, headers.len(), rows.into_iter())?;
    Ok(appended(&table, headers, word, notes))
}
