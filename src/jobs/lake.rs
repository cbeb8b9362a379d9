//! `opskpi lake export`: the warehouse's canonical tables as a Parquet lake
//! (`src/lake.rs`: layout, generations, atomic switch). Sales are one part
//! per month of `order_date`, every other table one part. A part is written
//! only when its rows changed since the current generation: each part's
//! fingerprint is its row count and the sum of its rows' hashes, computed
//! in one scan; the changed months are written in one partitioned `COPY`.
//! The Parquet files keep the model's types (DECIMAL(18,s), DATE,
//! timestamps in UTC).

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use duckdb::Connection;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ingest::{self, IngestOptions, LoadOutcome};
use crate::lake::{Generation, Outcome};
use crate::model::{self, Table};
use crate::warehouse::Warehouse;

use super::open_existing;

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LakeExport {
    pub folder: PathBuf,
    pub generation: u64,
    pub tables: usize,
    pub parts_written: usize,
    pub parts_unchanged: usize,
    pub rows: u64,
}

/// The partitioned table and its month column.
const BY_MONTH: (&str, &str) = ("sales", "order_date");

/// Exports every canonical table to `out` (else `[lake] path`).
pub fn lake_export(
    config: &Config,
    as_of: NaiveDate,
    out: Option<&Path>,
    step: &dyn Fn(&str),
) -> Result<LakeExport> {
    let folder = lake_folder(config, out)?;
    let warehouse = open_existing(config, as_of)?;
    export_warehouse(&warehouse, &folder, step)
}

/// `out`, else `[lake] path`.
fn lake_folder(config: &Config, out: Option<&Path>) -> Result<PathBuf> {
    match (out, &config.lake.path) {
        (Some(out), _) => Ok(out.to_path_buf()),
        (None, Some(path)) => Ok(config.resolve(path)),
        (None, None) => Err(Error::config_hint(
            "where should the lake go? opskpi.toml has no [lake] path",
            "give --out FOLDER, or add [lake] path = \"lake\" to opskpi.toml",
        )),
    }
}

/// `opskpi ingest --to-lake`: every source read, mapped and checked as a
/// load into the warehouse is (the same code: quarantine, `max_bad_rows`,
/// keys), into a scratch warehouse of this run only — in `[warehouse]
/// temp_directory`, within the memory limit — then exported to the lake
/// (only the changed parts written, switched atomically) and the scratch
/// warehouse removed, whatever happened. No warehouse remembers what was
/// loaded, so every source is read each time; a refused load leaves the
/// lake as it was. A dry run writes nothing, lake included.
pub fn ingest_to_lake(
    config: &Config,
    loaded_at: NaiveDateTime,
    options: &IngestOptions,
    progress: &(dyn Fn(ingest::Report) + Sync),
) -> Result<(Vec<LoadOutcome>, Option<LakeExport>)> {
    let folder = lake_folder(config, None)?;
    let parent = match &config.warehouse.temp_directory {
        Some(dir) => config.resolve(dir),
        None => folder
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| config.root.clone()),
    };
    fs_err::create_dir_all(&parent)?;
    let scratch = tempfile::Builder::new()
        .prefix(".opskpi-ingest-")
        .tempdir_in(&parent)
        .map_err(|error| {
            Error::config(format!(
                "a scratch folder for the load in {}: {error}",
                parent.display()
            ))
        })?;
    let mut load = config.clone();
    load.warehouse.path = scratch.path().join("load.duckdb");
    load.warehouse.temp_directory = Some(scratch.path().join("spill"));
    let outcomes = super::ingest(&load, loaded_at, options, progress)?;
    if options.dry_run {
        return Ok((outcomes, None));
    }
    let warehouse = open_existing(&load, loaded_at.date())?;
    let export = export_warehouse(&warehouse, &folder, &|step| {
        progress(ingest::Report::Step(step))
    })?;
    Ok((outcomes, Some(export)))
}

/// Exports the canonical tables of `warehouse` into the lake `folder`.
pub fn export_warehouse(
    warehouse: &Warehouse,
    folder: &Path,
    step: &dyn Fn(&str),
) -> Result<LakeExport> {
    let conn = warehouse.connection();
    fs_err::create_dir_all(folder)?;
    let mut generation = Generation::begin(folder)?;
    let mut export = LakeExport {
        folder: folder.to_path_buf(),
        ..LakeExport::default()
    };
    for table in model::TABLES {
        step(&format!("lake: {}", table.name));
        let outcomes = if table.name == BY_MONTH.0 {
            export_by_month(conn, table, &mut generation, &mut export.rows)?
        } else {
            export_whole(conn, table, &mut generation, &mut export.rows)?
        };
        for outcome in outcomes {
            match outcome {
                Outcome::Written => export.parts_written += 1,
                Outcome::Unchanged => export.parts_unchanged += 1,
            }
        }
        export.tables += 1;
    }
    step("lake: switching to the new generation");
    export.generation = generation.commit()?.generation;
    Ok(export)
}

/// The model's columns, in the model's order (no lineage column).
fn columns(table: &Table) -> String {
    table.column_names().join(", ")
}

/// `(parts, rows, hash sum)` rows of a fingerprint query.
fn fingerprints(conn: &Connection, sql: &str) -> Result<Vec<(Option<String>, u64, String)>> {
    let mut statement = conn
        .prepare(sql)
        .map_err(Error::query("lake fingerprints"))?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, Option<String>>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(Error::query("lake fingerprints"))?;
    let mut all = Vec::new();
    for row in rows {
        let (part, count, sum) = row.map_err(Error::query("lake fingerprints"))?;
        all.push((part, count as u64, sum.unwrap_or_default()));
    }
    Ok(all)
}

/// A part's fingerprint: the table, its columns (a changed model writes
/// again), the count and the hash sum.
fn fingerprint(table: &Table, part: Option<&str>, rows: u64, sum: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "{}|{}|{}|{rows}|{sum}",
        table.name,
        columns(table),
        part.unwrap_or("")
    ));
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn copy_to(conn: &Connection, select: &str, target: &Path, partition: Option<&str>) -> Result<()> {
    let target = target.display().to_string().replace('\'', "''");
    let partition = partition
        .map(|column| format!(", PARTITION_BY ({column}), OVERWRITE_OR_IGNORE true"))
        .unwrap_or_default();
    conn.execute_batch(&format!(
        "COPY ({select}) TO '{target}' (FORMAT parquet, COMPRESSION zstd{partition})"
    ))
    .map_err(Error::query("lake export"))
}

fn export_whole(
    conn: &Connection,
    table: &Table,
    generation: &mut Generation,
    rows: &mut u64,
) -> Result<Vec<Outcome>> {
    let select = format!("SELECT {} FROM {}", columns(table), table.name);
    let found = fingerprints(
        conn,
        &format!(
            "SELECT NULL::VARCHAR, count(*), sum(hash({cols}))::VARCHAR FROM {name}",
            cols = columns(table),
            name = table.name
        ),
    )?;
    let (_, count, sum) = found.into_iter().next().unwrap_or((None, 0, String::new()));
    *rows += count;
    let print = fingerprint(table, None, count, &sum);
    let path = Generation::part_path(None, &print);
    let outcome = generation.part(table.name, None, path, count, print, |target| {
        copy_to(conn, &select, target, None)
    })?;
    Ok(vec![outcome])
}

/// Sales by month: the fingerprints of every month in one scan, then the
/// changed months in one partitioned COPY into a staging folder, each
/// moved to its part.
fn export_by_month(
    conn: &Connection,
    table: &Table,
    generation: &mut Generation,
    rows: &mut u64,
) -> Result<Vec<Outcome>> {
    let (name, date) = BY_MONTH;
    let months = fingerprints(
        conn,
        &format!(
            "SELECT strftime({date}, '%Y-%m'), count(*), sum(hash({cols}))::VARCHAR
             FROM {name} GROUP BY ALL ORDER BY 1",
            cols = columns(table)
        ),
    )?;
    if months.is_empty() {
        return export_whole(conn, table, generation, rows);
    }
    let mut parts = Vec::new();
    let mut changed = Vec::new();
    for (month, count, sum) in &months {
        let month = month
            .clone()
            .ok_or_else(|| Error::Internal(format!("a row of `{name}` without `{date}`")))?;
        let print = fingerprint(table, Some(&month), *count, sum);
        let path = Generation::part_path(Some(&month), &print);
        if !generation.has_part(name, &path, &print) {
            changed.push(month.clone());
        }
        *rows += count;
        parts.push((month, path, *count, print));
    }
    // The changed months in one scan, each month's rows in one file.
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(generation.folder())?;
    if !changed.is_empty() {
        let list: Vec<String> = changed.iter().map(|m| format!("'{m}'")).collect();
        let select = format!(
            "SELECT {cols}, strftime({date}, '%Y-%m') AS month FROM {name}
             WHERE strftime({date}, '%Y-%m') IN ({list})",
            cols = columns(table),
            list = list.join(", ")
        );
        copy_to(conn, &select, staging.path(), Some("month"))?;
    }
    let mut outcomes = Vec::new();
    for (month, path, count, print) in parts {
        let outcome = generation.part(name, Some("month"), path, count, print, |target| {
            let folder = staging.path().join(format!("month={month}"));
            let files: Vec<PathBuf> = fs_err::read_dir(&folder)?
                .map(|entry| entry.map(|e| e.path()))
                .collect::<std::io::Result<_>>()?;
            match files.as_slice() {
                [file] => Ok(fs_err::rename(file, target)?),
                _ => Err(Error::Internal(format!(
                    "the staged month {month} of `{name}` is {} files, not one",
                    files.len()
                ))),
            }
        })?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
