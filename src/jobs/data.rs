//! `--data FOLDER`: indicators straight from a folder of canonical files
//! (a data-lake export), with no warehouse file to keep. Each file or
//! sub-folder named after a canonical table (`sales.parquet`,
//! `customers.csv`, `sales/` with several files) is loaded into an
//! in-memory warehouse by ingest itself (other sub-folders are left alone;
//! a data file named after no table is refused, as a misspelt one would
//! silently be missing) — the same checks, the same errors
//! naming file, line and column — and nothing is written to disk. A
//! command that knows which tables it reads (`kpi`) loads only those, and
//! the tables their rows are checked against (a sale's SKU against the
//! products): the same rows as a load of the whole folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::Timelike;

use crate::config::{Config, Format, Source};
use crate::error::{Error, Result};
use crate::warehouse::Warehouse;

/// The canonical sources a folder holds, in the order of the model.
pub fn sources(folder: &Path) -> Result<Vec<Source>> {
    let entries = fs_err::read_dir(folder).map_err(|error| {
        Error::config_hint(
            format!("cannot read the data folder: {error}"),
            "--data takes a folder of canonical files such as sales.parquet, customers.csv",
        )
    })?;
    let mut found: Vec<(usize, PathBuf)> = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_data = path.is_dir() || Format::from_extension(&path).is_some();
        let stem = if path.is_dir() {
            path.file_name()
        } else {
            path.file_stem()
        }
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
        if !is_data || stem.starts_with('.') {
            continue;
        }
        let Some(position) = crate::model::TABLES.iter().position(|t| t.name == stem) else {
            if path.is_dir() {
                // Reports, pipelines: not data.
                continue;
            }
            return Err(Error::config_hint(
                format!("`{}` names no canonical table", path.display()),
                format!(
                    "name each file after its table ({}); leave other files out of the folder",
                    crate::model::TABLES
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if let Some((_, other)) = found.iter().find(|(p, _)| *p == position) {
            return Err(Error::config_hint(
                format!(
                    "both `{}` and `{}` hold table `{stem}`",
                    other.display(),
                    path.display()
                ),
                format!("keep one, or put every file of the table in a folder `{stem}/`"),
            ));
        }
        found.push((position, path));
    }
    if found.is_empty() {
        return Err(Error::config_hint(
            format!("`{}` holds no canonical file", folder.display()),
            "name each file after its table: sales.parquet, products.csv, customers.csv, …",
        ));
    }
    found.sort();
    Ok(found
        .into_iter()
        .map(|(position, path)| Source::new(crate::model::TABLES[position].name, path))
        .collect())
}

/// The tables `tables` and, through the references ingest checks, the
/// tables they refer to.
fn with_references(tables: &BTreeSet<&'static str>) -> BTreeSet<&'static str> {
    let mut all = tables.clone();
    let mut todo: Vec<&'static str> = tables.iter().copied().collect();
    while let Some(name) = todo.pop() {
        for reference in crate::model::table(name).map_or(&[][..], |t| t.references) {
            if all.insert(reference.table) {
                todo.push(reference.table);
            }
        }
    }
    all
}

/// An in-memory warehouse holding the folder's files (with `only`, those
/// of these tables and the tables they refer to), in company time.
pub fn open(
    config: &Config,
    folder: &Path,
    only: Option<&BTreeSet<&'static str>>,
    as_of: chrono::NaiveDate,
) -> Result<Warehouse> {
    let every = sources(folder)?;
    let offset_seconds = crate::config::parse_offset(&config.company.timezone)?;
    // The load time is when the files were written (the latest of them, of
    // the whole folder), in the company's time: a date after it cannot be
    // true and is refused as ingest refuses it, and the same files give the
    // same report, byte for byte, whichever tables a command reads and
    // whatever time zone the machine is set to. Where the system does not
    // say, the end of the as-of day (no clock is read below `cli`).
    let loaded_at = written_at(&every, offset_seconds).unwrap_or_else(|| {
        as_of.and_time(chrono::NaiveTime::MIN) + chrono::Duration::seconds(86_399)
    });
    let sources: Vec<Source> = match only.map(with_references) {
        Some(wanted) => every
            .into_iter()
            .filter(|source| wanted.contains(source.table.as_str()))
            .collect(),
        None => every,
    };
    // In memory, but within the configured limit: the rest spills to a
    // temp folder of its own, removed with the warehouse.
    let mut warehouse = Warehouse::in_memory_within(&config.warehouse.memory_limit)?;
    let spill = warehouse.spill_folder().map(Path::to_path_buf);
    let options = crate::ingest::IngestOptions {
        offset_seconds,
        scratch: spill,
        ..Default::default()
    };
    crate::ingest::ingest(&mut warehouse, &sources, loaded_at, &options, &|_| {})?;
    Ok(warehouse.in_timezone(offset_seconds))
}

/// The latest modification time of the sources' files (in a sub-folder,
/// of its files), to the second, `offset_seconds` east of UTC; `None` when
/// the system does not say.
fn written_at(sources: &[Source], offset_seconds: i32) -> Option<chrono::NaiveDateTime> {
    let mut latest: Option<std::time::SystemTime> = None;
    let mut note = |path: &Path| {
        if let Ok(modified) = fs_err::metadata(path).and_then(|m| m.modified()) {
            latest = Some(latest.map_or(modified, |l| l.max(modified)));
        }
    };
    for source in sources {
        let Some(path) = &source.path else { continue };
        if path.is_dir() {
            for entry in fs_err::read_dir(path).ok()?.flatten() {
                note(&entry.path());
            }
        } else {
            note(path);
        }
    }
    let utc: chrono::DateTime<chrono::Utc> = latest?.into();
    (utc.naive_utc() + chrono::Duration::seconds(i64::from(offset_seconds))).with_nanosecond(0)
}
