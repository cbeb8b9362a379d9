//! The warehouse's schema: the canonical tables of `model`, the load log
//! beside them (`_opskpi_files`, `_opskpi_loads`, `_opskpi_quarantine`, which
//! ingest writes), and the migrations that bring a warehouse written by an
//! older opskpi up to the model.

use duckdb::Connection;

use crate::error::{Error, Result};
use crate::model::{self, LINEAGE_COLUMN};

/// The load log: the bookkeeping tables beside the canonical ones.
pub const LOAD_LOG: &str = "
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
ALTER TABLE _opskpi_files ADD COLUMN IF NOT EXISTS rows_left_out BIGINT;
ALTER TABLE _opskpi_files ADD COLUMN IF NOT EXISTS values_rounded BIGINT;
ALTER TABLE _opskpi_files ADD COLUMN IF NOT EXISTS settings VARCHAR;
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
