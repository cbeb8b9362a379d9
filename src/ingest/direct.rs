//! The direct load: each file's checked scan inserted straight into its
//! canonical table, in one transaction, for a run whose files turn out
//! clean — no row breaks a rule, none the reader could not read, no key
//! repeated within a file, no reference to an unknown row. The first sign
//! of anything else rolls the whole run back, and the caller stages it
//! (`stage`, `checks`, `judge`, `write`), which sets bad rows aside and
//! names them. Both ways leave the same rows and the same load log; the
//! direct one writes the rows once instead of through a stage table (a
//! clean 10M-line Parquet file: about a third less time), and a file whose
//! keys come in order is proven free of repeats as it is written
//! (`key_order`) instead of by grouping its keys afterwards.

use chrono::NaiveDateTime;
use duckdb::params;

use super::{stage, write, IngestOptions, LoadOutcome, Report};
use crate::config::Source;
use crate::error::{Error, Result};
use crate::model::{self, Table, LINEAGE_COLUMN};
use crate::warehouse::Warehouse;

/// Whether a run may try the direct load: it writes (not a dry run) and
/// reads files only (a database source's increment adds to rows it
/// brought before, which the stage path handles).
pub fn eligible(sources: &[Source], options: &IngestOptions) -> bool {
    !options.dry_run
        && !options.staged
        && sources.iter().all(|source| {
            // Rows left out, values rounded and generated line numbers are
            // counted and numbered in the stage.
            source.postgres.is_none()
                && source.keep.is_none()
                && source.decimals == crate::config::Decimals::Exact
                && source.columns.values().all(|spec| {
                    let detail = spec.detail();
                    detail.generate.is_none() && detail.decimals.is_none()
                })
        })
}

/// Loads the run directly; `None` when a file is not clean (nothing is
/// left of the attempt: the caller stages the run).
pub fn load(
    warehouse: &Warehouse,
    sources: &[&Source],
    loaded_at: NaiveDateTime,
    options: &IngestOptions,
    scratch: &std::path::Path,
    report: &(dyn Fn(Report) + Sync),
) -> Result<Option<Vec<LoadOutcome>>> {
    let conn = warehouse.connection();
    let faults = &options.faults;
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(Error::query("begin load"))?;
    let mut temporary: Vec<String> = Vec::new();
    let result = run(
        warehouse,
        sources,
        loaded_at,
        options,
        scratch,
        report,
        &mut temporary,
    );
    let outcome = match result {
        Ok(Some(outcomes)) => write::commit(conn, faults)
            .and_then(|()| faults.at("after_commit"))
            .map(|()| Some(outcomes)),
        Ok(None) => conn
            .execute_batch("ROLLBACK")
            .map(|()| None)
            .map_err(Error::query("roll back load")),
        Err(error) => {
            // Best effort: the original error is what the user needs to see.
            let _ = conn.execute_batch("ROLLBACK");
            Err(error)
        }
    };
    for name in temporary {
        let _ = conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {name}_raw; DROP TABLE IF EXISTS {name}_rejects; DROP TABLE IF EXISTS {name}_reject_scans;"
        ));
    }
    outcome
}

fn run(
    warehouse: &Warehouse,
    sources: &[&Source],
    loaded_at: NaiveDateTime,
    options: &IngestOptions,
    scratch: &std::path::Path,
    report: &(dyn Fn(Report) + Sync),
    temporary: &mut Vec<String>,
) -> Result<Option<Vec<LoadOutcome>>> {
    let conn = warehouse.connection();
    let progress = |step: &str| report(Report::Step(step));
    options.faults.at("after_begin")?;
    if options.full {
        write::clear(conn)?;
    }
    let mut outcomes: Vec<(usize, LoadOutcome)> = Vec::new();
    let mut position = 0;
    for source in sources {
        source.check()?;
        let table = model::table(&source.table).expect("checked");
        for file in super::expand(source)? {
            position += 1;
            let name = format!("_opskpi_stage_{}", temporary.len());
            temporary.push(name.clone());
            let Some((sha256, raw)) = super::read_changed(
                warehouse, source, table, &file, &name, options, scratch, &progress,
            )?
            else {
                outcomes.push((position, LoadOutcome::unchanged(table.name, &file)));
                continue;
            };
            let shown = file.display().to_string();
            progress(&format!("loading {shown}"));
            let planned = stage::plan(
                table,
                source,
                raw,
                &name,
                &shown,
                loaded_at.date(),
                options.offset_seconds,
            )?;
            let known_as = super::identity(options.root.as_deref(), &file);
            let id = write::file_id(conn, table.name, &known_as)?;
            // The rows this file brought last time.
            let mut replaced = conn
                .execute(
                    &format!("DELETE FROM {} WHERE {LINEAGE_COLUMN} = ?", table.name),
                    [id],
                )
                .map_err(Error::query(format!("replace rows of {}", table.name)))?
                as u64;
            options.faults.at("after_delete")?;
            let log = super::key_order::orders().start();
            let Ok(loaded) = planned.insert_clean(conn, id, &log, report) else {
                return Ok(None);
            };
            options.faults.at("after_insert")?;
            let mut stage = planned.stage;
            super::read::csv::collect_rejects(conn, &mut stage.raw)?;
            if !stage.raw.rejects.is_empty() {
                return Ok(None);
            }
            // Keys seen in order during the insert need no grouping after it.
            if !log.proves_unique(loaded as u64) {
                progress(&format!("looking for repeated keys in {shown}"));
                if repeats_a_key(conn, table, id)? {
                    return Ok(None);
                }
            }
            if names_unknown_rows(conn, table, id)? {
                return Ok(None);
            }
            replaced += replace_other_files_rows(conn, table, id)?;
            conn.execute("DELETE FROM _opskpi_quarantine WHERE file_id = ?", [id])
                .map_err(Error::query("quarantine"))?;
            let loaded = loaded as u64;
            write::record(
                conn,
                &write::Record {
                    id,
                    table: table.name,
                    file: &known_as,
                    sha256: &sha256.get()?,
                    loaded_at,
                    rows: loaded,
                    loaded,
                    replaced,
                    quarantined: 0,
                    duplicates: 0,
                    watermark: None,
                    notes: &stage.raw.notes,
                    left_out: 0,
                    rounded: 0,
                    settings: &stage.settings,
                },
            )?;
            options.faults.at("after_log")?;
            outcomes.push((
                position,
                LoadOutcome {
                    rows: loaded,
                    loaded,
                    replaced,
                    ..super::judge::described(&stage, &file)
                },
            ));
        }
    }
    options.faults.at("before_commit")?;
    Ok(Some(super::in_order(outcomes)))
}

/// Whether two rows of file `id` share the table's natural key.
fn repeats_a_key(conn: &duckdb::Connection, table: &Table, id: i64) -> Result<bool> {
    conn.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE {LINEAGE_COLUMN} = ? GROUP BY {} HAVING count(*) > 1)",
            table.name,
            table.key.join(", ")
        ),
        [id],
        |row| row.get(0),
    )
    .map_err(Error::query("check keys"))
}

/// Whether a row of file `id` names an unknown row of a table that holds
/// rows (ingest checks a reference only then).
fn names_unknown_rows(conn: &duckdb::Connection, table: &Table, id: i64) -> Result<bool> {
    for reference in table.references {
        let unknown: bool = conn
            .query_row(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM {to}) AND EXISTS (SELECT 1 FROM {table} \
                     WHERE {LINEAGE_COLUMN} = ? AND {column} IS NOT NULL \
                     AND {column} NOT IN (SELECT {key} FROM {to}))",
                    to = reference.table,
                    table = table.name,
                    column = reference.column,
                    key = reference.key
                ),
                params![id],
                |row| row.get(0),
            )
            .map_err(Error::query("check references"))?;
        if unknown {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Deletes the rows of other files that have a key file `id` brings (rows
/// replace rows by natural key); how many.
fn replace_other_files_rows(conn: &duckdb::Connection, table: &Table, id: i64) -> Result<u64> {
    let others: bool = conn
        .query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE {LINEAGE_COLUMN} <> ?)",
                table.name
            ),
            [id],
            |row| row.get(0),
        )
        .map_err(Error::query("replace rows"))?;
    if !others {
        return Ok(0);
    }
    let keys = table.key.join(", ");
    let matches: Vec<String> = table
        .key
        .iter()
        .map(|key| format!("t.{key} = s.{key}"))
        .collect();
    let deleted = conn
        .execute(
            &format!(
                "DELETE FROM {name} t USING (SELECT {keys} FROM {name} WHERE {LINEAGE_COLUMN} = ?) s \
                 WHERE t.{LINEAGE_COLUMN} <> ? AND {}",
                matches.join(" AND "),
                name = table.name
            ),
            [id, id],
        )
        .map_err(Error::query(format!("replace rows of {}", table.name)))?;
    Ok(deleted as u64)
}
