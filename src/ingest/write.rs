//! Writing staged files, inside the run's one transaction. Every canonical
//! row carries the id of the file that brought it (`_file_id`), so a changed
//! file first takes away exactly the rows it brought before — even rows
//! whose keys it no longer has — and then its rows replace any row with the
//! same natural key. Quarantined rows are kept per file the same way.

use chrono::NaiveDateTime;
use duckdb::{params, Connection};

use super::stage::Stage;
use crate::error::{Error, Result};
use crate::faults::{kill, Faults};
use crate::model::{self, LINEAGE_COLUMN};

/// Commits the load. A crash test's `checkpoint=abort:STEP` makes the
/// commit checkpoint at once, aborted at that step of the checkpoint by
/// DuckDB, and kills the process after it.
pub fn commit(conn: &Connection, faults: &Faults) -> Result<()> {
    let abort = faults.checkpoint_abort();
    if let Some(step) = abort {
        conn.execute_batch(&format!(
            "SET debug_checkpoint_abort = '{step}'; SET checkpoint_threshold = '0b';"
        ))
        .map_err(Error::query("fail point"))?;
    }
    let committed = conn
        .execute_batch("COMMIT")
        .map_err(Error::query("commit load"));
    if abort.is_some() {
        kill()?;
    }
    committed
}

/// What writing one staged file did.
pub struct Written {
    pub loaded: u64,
    pub replaced: u64,
    pub quarantined: u64,
}

/// The id of (`table`, `file`), existing or new.
pub fn file_id(conn: &Connection, table: &str, file: &str) -> Result<i64> {
    let existing: Option<i64> = conn
        .query_row(
            "SELECT max(file_id) FROM _opskpi_files WHERE table_name = ? AND file = ?",
            params![table, file],
            |row| row.get(0),
        )
        .map_err(Error::query("file id"))?;
    match existing {
        Some(id) => Ok(id),
        None => conn
            .query_row(
                "SELECT coalesce(max(file_id), 0) + 1 FROM _opskpi_files",
                [],
                |row| row.get(0),
            )
            .map_err(Error::query("file id")),
    }
}

/// Writes one staged file; the caller holds the transaction.
#[allow(clippy::too_many_arguments)]
pub fn write(
    conn: &Connection,
    stage: &Stage,
    file: &str,
    sha256: &str,
    loaded_at: NaiveDateTime,
    duplicates: u64,
    rejects: u64,
    watermark: Option<&str>,
    replace_own: bool,
    faults: &Faults,
) -> Result<Written> {
    let table = stage.table;
    let id = file_id(conn, table.name, file)?;
    let replaced = replace(conn, stage, id, replace_own)?;
    faults.at("after_delete")?;
    let columns = table.column_names().join(", ");
    let loaded = conn
        .execute(
            &format!(
                "INSERT INTO {} ({columns}, {LINEAGE_COLUMN}) SELECT {columns}, ? FROM {} WHERE _problem IS NULL",
                table.name, stage.name
            ),
            [id],
        )
        .map_err(Error::query(format!("insert into {}", table.name)))? as u64;
    faults.at("after_insert")?;
    let quarantined = quarantine(conn, stage, id, file, loaded_at)? + rejects;
    record(
        conn,
        &Record {
            id,
            table: table.name,
            file,
            sha256,
            loaded_at,
            rows: stage.rows + rejects,
            loaded,
            replaced,
            quarantined,
            duplicates,
            watermark,
            notes: &stage.raw.notes,
            left_out: stage.left_out,
            rounded: stage.rounded,
            settings: &stage.settings,
        },
    )?;
    faults.at("after_log")?;
    Ok(Written {
        loaded,
        replaced,
        quarantined,
    })
}

/// Deletes the rows the file (`id`) brought last time — unless it is an
/// increment read past a watermark, which only adds — and the rows of
/// other files with the keys it brings. The rows deleted.
fn replace(conn: &Connection, stage: &Stage, id: i64, replace_own: bool) -> Result<u64> {
    let table = stage.table;
    let query = || Error::query(format!("replace rows of {}", table.name));
    let mut replaced = if replace_own {
        conn.execute(
            &format!("DELETE FROM {} WHERE {LINEAGE_COLUMN} = ?", table.name),
            [id],
        )
        .map_err(query())? as u64
    } else {
        0
    };
    let any: bool = conn
        .query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {})", table.name),
            [],
            |row| row.get(0),
        )
        .map_err(query())?;
    if any {
        let matches: Vec<String> = table
            .key
            .iter()
            .map(|key| format!("t.{key} = s.{key}"))
            .collect();
        replaced += conn
            .execute(
                &format!(
                    "DELETE FROM {} t USING {} s WHERE s._problem IS NULL AND {}",
                    table.name,
                    stage.name,
                    matches.join(" AND ")
                ),
                [],
            )
            .map_err(query())? as u64;
    }
    Ok(replaced)
}

/// The file's rows set aside, replacing last time's in `_opskpi_quarantine`:
/// each staged row that broke a rule, then each row the reader could not
/// read. The rows that broke a rule.
fn quarantine(
    conn: &Connection,
    stage: &Stage,
    id: i64,
    file: &str,
    loaded_at: NaiveDateTime,
) -> Result<u64> {
    let table = stage.table;
    conn.execute("DELETE FROM _opskpi_quarantine WHERE file_id = ?", [id])
        .map_err(Error::query("quarantine"))?;
    conn.execute_batch("CREATE OR REPLACE TEMP TABLE _opskpi_rules (code BIGINT, column_name VARCHAR, source_column VARCHAR, rule VARCHAR, message VARCHAR)")
        .map_err(Error::query("quarantine"))?;
    {
        let mut appender = conn
            .appender("_opskpi_rules")
            .map_err(Error::query("quarantine"))?;
        for (code, rule) in stage.rules.iter().enumerate() {
            appender
                .append_row(params![
                    (code + 1) as i64,
                    rule.column,
                    rule.file_column,
                    rule.kind.name(),
                    rule.message
                ])
                .map_err(Error::query("quarantine"))?;
        }
        appender.flush().map_err(Error::query("quarantine"))?;
    }
    let quarantined = conn
        .execute(
            &format!(
                "INSERT INTO _opskpi_quarantine SELECT ?, ?, ?, ?, ?, {line}, r.column_name, r.source_column, r.rule, s._bad, r.message \
                 FROM (SELECT rowid AS _row, * FROM {name} WHERE _problem IS NOT NULL) s JOIN _opskpi_rules r ON r.code = s._problem",
                line = stage.line_sql("s._row", "s._line"),
                name = stage.name,
            ),
            params![id, loaded_at, table.name, file, stage.raw.line_word],
        )
        .map_err(Error::query("quarantine"))? as u64;
    let mut appender = conn
        .appender("_opskpi_quarantine")
        .map_err(Error::query("quarantine"))?;
    for reject in &stage.raw.rejects {
        appender
            .append_row(params![
                id,
                loaded_at,
                table.name,
                file,
                stage.raw.line_word,
                reject.line as i64,
                None::<String>,
                None::<String>,
                "unreadable_row",
                reject.value,
                reject.message
            ])
            .map_err(Error::query("quarantine"))?;
    }
    appender.flush().map_err(Error::query("quarantine"))?;
    Ok(quarantined)
}

/// One loaded file in the load log: its row in `_opskpi_files` (replacing
/// the last) and a line in `_opskpi_loads`.
pub struct Record<'a> {
    pub id: i64,
    pub table: &'a str,
    pub file: &'a str,
    pub sha256: &'a str,
    pub loaded_at: NaiveDateTime,
    /// Rows in the file.
    pub rows: u64,
    pub loaded: u64,
    pub replaced: u64,
    pub quarantined: u64,
    pub duplicates: u64,
    pub watermark: Option<&'a str>,
    pub notes: &'a [(&'static str, String)],
    pub left_out: u64,
    pub rounded: u64,
    /// How the source read the file (`settings_digest`).
    pub settings: &'a str,
}

/// Writes `r` into the load log; the caller holds the transaction.
pub fn record(conn: &Connection, r: &Record) -> Result<()> {
    let notes: Vec<String> = r.notes.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    conn.execute("DELETE FROM _opskpi_files WHERE file_id = ?", [r.id])
        .map_err(Error::query("log load"))?;
    conn.execute(
        "INSERT INTO _opskpi_files (file_id, table_name, file, sha256, loaded_at, rows_in_file, rows_loaded, \
         rows_quarantined, rows_duplicate, watermark, notes, rows_left_out, values_rounded, settings) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            r.id,
            r.table,
            r.file,
            r.sha256,
            r.loaded_at,
            r.rows as i64,
            r.loaded as i64,
            r.quarantined as i64,
            r.duplicates as i64,
            r.watermark,
            notes.join("; "),
            r.left_out as i64,
            r.rounded as i64,
            r.settings
        ],
    )
    .map_err(Error::query("log load"))?;
    conn.execute(
        "INSERT INTO _opskpi_loads (loaded_at, table_name, file, sha256, rows_in_file, rows_replaced, rows_loaded, rows_quarantined, rows_duplicate, file_id) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            r.loaded_at,
            r.table,
            r.file,
            r.sha256,
            r.rows as i64,
            r.replaced as i64,
            r.loaded as i64,
            r.quarantined as i64,
            r.duplicates as i64,
            r.id
        ],
    )
    .map_err(Error::query("log load"))?;
    Ok(())
}

/// Empties every canonical table and the bookkeeping, for `--full`.
pub fn clear(conn: &Connection) -> Result<()> {
    let mut sql: String = model::TABLES
        .iter()
        .map(|table| format!("DELETE FROM {};\n", table.name))
        .collect();
    sql.push_str("DELETE FROM _opskpi_files; DELETE FROM _opskpi_quarantine;");
    conn.execute_batch(&sql)
        .map_err(Error::query("clear warehouse"))
}
