//! JSON sources: an array of objects, or newline-delimited JSON (one object
//! a line). Values keep their exact text — a number is read from the digits
//! in the file, never through a float — and the columns are every key seen,
//! in order of first appearance; a key written twice in one object is
//! refused, not settled by a guess. A place is the line the record starts on.

use std::collections::HashMap;
use std::path::Path;

use duckdb::Connection;
use serde_json::value::RawValue;

use super::{append_table, appended, Raw, RowCount};
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

/// An object's members in the order written, or the first key written twice.
struct Members<'a>(std::result::Result<Object<'a>, String>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members<'de>, A::Error> {
                let mut members: Object<'de> = Vec::new();
                let mut repeated = None;
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    if repeated.is_none() && members.iter().any(|(seen, _)| *seen == key) {
                        repeated = Some(key);
                    } else {
                        members.push((key, value));
                    }
                }
                Ok(Members(match repeated {
                    Some(key) => Err(format!("the key `{key}` appears twice")),
                    None => Ok(members),
                }))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

fn parse_object(text: &str) -> Result<Object<'_>, String> {
    let members: Members = serde_json::from_str(text).map_err(|e| e.to_string())?;
    members.0
}

/// The 1-based line of `part`, a slice of `text`.
fn line_of(text: &str, part: &str) -> u64 {
    let at = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
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
    let notes = if text.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|error| {
            bad(
                Some(error.line() as u64),
                format!("the file is not valid JSON: {error}"),
            )
        })?;
        for (i, item) in items.iter().enumerate() {
            let line = line_of(text, item.get());
            let object = parse_object(item.get()).map_err(|message| {
                bad(
                    Some(line),
                    format!("record {} is not an object of values: {message}", i + 1),
                )
            })?;
            records.push((line, object));
        }
        vec![("format", "JSON array".to_string())]
    } else {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let object = parse_object(line).map_err(|message| {
                bad(
                    Some(i as u64 + 1),
                    format!("the line is not a JSON object of values: {message}"),
                )
            })?;
            records.push((i as u64 + 1, object));
        }
        vec![("format", "newline-delimited JSON".to_string())]
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
    let count = append_table(conn, &table, headers.len(), rows.into_iter())?;
    Ok(Raw {
        rows: Some(RowCount {
            rows: count,
            exact: true,
        }),
        ..appended(&table, headers, "line", notes)
    })
}
