//! Writing staged files, inside the run's one transaction. Every canonical
//! row carries the id of the file that brought it (`_file_id`), so a changed
//! file first takes away exactly the rows it brought before — even rows
//! whose keys it no longer has — and then its rows replace any row with the
//! same natural key. Quarantined rows are kept per file the same way.

use chrono::NaiveDateTime;
use duckdb::{params, Connection};

use super::stage::Stage;
use crate::error::{Error, Result};
use crate::model::{self, LINEAGE_COLUMN};

/// The bookkeeping tables beside the canonical ones.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS _opskpi_loads (
    loaded_at TIMESTAMP NOT NULL,
    table_name VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    rows_in_file BIGINT NOT NULL,
    rows_replaced BIGINT NOT NULL
);
ALTER TABLE _opskpi_loads ADD COLUMN IF NOT EXISTS rows_loaded BIGINT;
ALTER TABLE _opskpi_loads ADD COLUMN IF NOT EXISTS rows_quarantined BIGINT;
ALTER TABLE _opskpi_loads ADD COLUMN IF NOT EXISTS rows_duplicate BIGINT;
ALTER TABLE _opskpi_loads ADD COLUMN IF NOT EXISTS file_id BIGINT;
CREATE TABLE IF NOT EXISTS _opskpi_files (
    file_id BIGINT NOT NULL,
    table_name VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    rows_in_file BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    watermark VARCHAR,
    notes VARCHAR
);
CREATE TABLE IF NOT EXISTS _opskpi_quarantine (
    file_id BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    table_name VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    place VARCHAR NOT NULL,
    line BIGINT,
    column_name VARCHAR,
    source_column VARCHAR,
    rule VARCHAR NOT NULL,
    value VARCHAR,
    message VARCHAR NOT NULL
);
";

/// DDL bringing an older warehouse's canonical tables up to the model:
/// the lineage column, and money widened to the model's scale.
pub fn migrations(conn: &Connection) -> Result<String> {
    let mut sql = String::new();
    for table in model::TABLES {
        sql.push_str(&format!(
            "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {LINEAGE_COLUMN} BIGINT;\n",
            table.name
        ));
        let mut statement = conn
            .prepare(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main'",
            )
            .map_err(Error::query("schema"))?;
        let found: Vec<(String, String, String)> = statement
            .query_map([table.name], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .map_err(Error::query("schema"))?
            .collect::<duckdb::Result<_>>()
            .map_err(Error::query("schema"))?;
        for column in table.columns {
            let Some((_, ty, nullable)) = found.iter().find(|(name, ..)| name == column.name)
            else {
                sql.push_str(&format!(
                    "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {};\n",
                    table.name,
                    column.name,
                    column.ty.sql_type()
                ));
                continue;
            };
            if *ty != column.ty.sql_type() {
                sql.push_str(&format!(
                    "ALTER TABLE {} ALTER COLUMN {} SET DATA TYPE {};\n",
                    table.name,
                    column.name,
                    column.ty.sql_type()
                ));
            }
            if nullable == "NO" && column.nullable {
                sql.push_str(&format!(
                    "ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL;\n",
                    table.name, column.name
                ));
            }
        }
    }
    Ok(sql)
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
) -> Result<Written> {
    let table = stage.table;
    let id = file_id(conn, table.name, file)?;
    let name = &stage.name;
    let query = |what: &str| Error::query(format!("{what} {}", table.name));
    // The rows this file brought last time (an increment read past a
    // watermark keeps them: it only adds).
    let mut replaced = if replace_own {
        conn.execute(
            &format!("DELETE FROM {} WHERE {LINEAGE_COLUMN} = ?", table.name),
            [id],
        )
        .map_err(query("replace rows of"))? as u64
    } else {
        0
    };
    // Rows of other files with the keys this file brings.
    let any: bool = conn
        .query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {})", table.name),
            [],
            |row| row.get(0),
        )
        .map_err(query("replace rows of"))?;
    if any {
        let matches: Vec<String> = table
            .key
            .iter()
            .map(|key| format!("t.{key} = s.{key}"))
            .collect();
        replaced += conn
            .execute(
                &format!(
                    "DELETE FROM {} t USING {name} s WHERE s._problem IS NULL AND {}",
                    table.name,
                    matches.join(" AND ")
                ),
                [],
            )
            .map_err(query("replace rows of"))? as u64;
    }
    let columns = table.column_names().join(", ");
    let loaded = conn
        .execute(
            &format!(
                "INSERT INTO {} ({columns}, {LINEAGE_COLUMN}) SELECT {columns}, ? FROM {name} WHERE _problem IS NULL",
                table.name
            ),
            [id],
        )
        .map_err(query("insert into"))? as u64;
    // Quarantine: this file's rows set aside, replacing last time's.
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
                line = stage.line_sql("s._row", "s._line")
            ),
            params![id, loaded_at, table.name, file, stage.raw.line_word],
        )
        .map_err(Error::query("quarantine"))? as u64;
    {
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
    }
    let quarantined = quarantined + rejects;
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
        },
    )?;
    Ok(Written {
        loaded,
        replaced,
        quarantined,
    })
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
}

/// Writes `r` into the load log; the caller holds the transaction.
pub fn record(conn: &Connection, r: &Record) -> Result<()> {
    let notes: Vec<String> = r.notes.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    conn.execute("DELETE FROM _opskpi_files WHERE file_id = ?", [r.id])
        .map_err(Error::query("log load"))?;
    conn.execute(
        "INSERT INTO _opskpi_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            notes.join("; ")
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
