//! The Spark engine: the component SQL of `queries/components/` — the same
//! text DuckDB runs — on Apache Spark through Spark Connect, over the
//! Parquet lake `opskpi lake export` writes. Only the components' rows
//! cross the network; the order lines stay where the cluster reads them.
//!
//! A session holds: the canonical tables as temporary views over the lake's
//! current generation (each checked against the model first), opskpi's two
//! SQL functions (`_opskpi_pro_rata`, `_opskpi_seconds_between`, defined
//! for DuckDB in `engine/duckdb.rs`), and per request the windows and their
//! day spine as views. Spark's session time zone is UTC, as the warehouse's.

mod connect;
mod proto;

use std::cell::RefCell;
use std::collections::BTreeSet;

use duckdb::arrow::datatypes::{DataType, TimeUnit};

use super::answer;
use crate::calendar::Window;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::indicators::{Components, Engine, QueryDef};
use crate::lake::Manifest;
use crate::model::{self, ColumnType, Table};

pub use connect::Client;

/// Exact in Spark's decimals: `amount × 10000` is whole (amounts carry at
/// most 4 decimals), the rounding half away from zero is integer division
/// in DECIMAL(38,0) — no double anywhere (`sign` would be one).
const FUNCTIONS: [&str; 2] = [
    "CREATE OR REPLACE TEMPORARY FUNCTION _opskpi_pro_rata(amount DECIMAL(18,4), days INT, month_days INT)
     RETURNS DECIMAL(18,2)
     RETURN CAST((CASE WHEN amount < 0 THEN -1 ELSE 1 END)
                 * ((2 * abs(CAST(CAST(amount AS DECIMAL(38,4)) * 10000 AS DECIMAL(38,0))) * days + month_days * 100)
                    div (2 * month_days * 100)) * 0.01 AS DECIMAL(18,2))",
    "CREATE OR REPLACE TEMPORARY FUNCTION _opskpi_seconds_between(start_at TIMESTAMP, end_at TIMESTAMP)
     RETURNS BIGINT
     RETURN (unix_millis(end_at) - unix_millis(start_at)) div 1000",
];

/// A Spark Connect session over the lake.
pub struct SparkEngine {
    client: Client,
    offset_seconds: i32,
    /// The canonical tables already declared in this session.
    declared: RefCell<BTreeSet<&'static str>>,
    /// The windows the session's views hold now (a request asks every
    /// component query over the same windows: declared once).
    windows: RefCell<Vec<Window>>,
    lake_uri: String,
    manifest: Manifest,
}

impl SparkEngine {
    /// Connects to `[spark] remote` and reads the lake's manifest.
    pub fn connect(config: &Config, offset_seconds: i32) -> Result<SparkEngine> {
        let Some(path) = &config.lake.path else {
            return Err(Error::config_hint(
                "the Spark engine reads the lake, and opskpi.toml has no [lake] path",
                "add [lake] path = \"lake\" to opskpi.toml and run opskpi lake export",
            ));
        };
        let path = config.resolve(path);
        let manifest = Manifest::read(&path)?.ok_or_else(|| {
            Error::config_hint(
                format!("the lake {} has no export yet", path.display()),
                "export the canonical tables first: opskpi lake export",
            )
        })?;
        let lake_uri = match &config.lake.uri {
            Some(uri) => uri.trim_end_matches('/').to_string(),
            None => path
                .canonicalize()
                .map_err(|error| Error::config(format!("the lake {}: {error}", path.display())))?
                .display()
                .to_string(),
        };
        let client = Client::connect(&config.spark)?;
        client.execute("session time zone", "SET spark.sql.session.timeZone = UTC")?;
        for function in FUNCTIONS {
            client.execute("opskpi's functions", function)?;
        }
        Ok(SparkEngine {
            client,
            offset_seconds,
            declared: RefCell::new(BTreeSet::new()),
            windows: RefCell::new(Vec::new()),
            lake_uri,
            manifest,
        })
    }

    /// Declares the canonical tables `sql` names as views over the lake,
    /// each checked against the model.
    fn declare_tables(&self, sql: &str) -> Result<()> {
        for table in model::TABLES {
            if self.declared.borrow().contains(table.name) || !mentions(sql, table.name) {
                continue;
            }
            let Some(dir) = self.manifest.table_dir(table.name) else {
                return Err(Error::config_hint(
                    format!("the lake has no table `{}`", table.name),
                    "export the lake again with this opskpi: opskpi lake export",
                ));
            };
            let location = format!("{}/{dir}", self.lake_uri).replace('`', "``");
            let raw = format!("parquet.`{location}`");
            let batches = self.client.query(
                &format!("lake table {}", table.name),
                &format!("SELECT * FROM {raw} LIMIT 0"),
            )?;
            let schema = match batches.first() {
                Some(batch) => batch.schema(),
                None => {
                    return Err(Error::Remote {
                        message: format!(
                            "Spark sent no schema for the lake table `{}`",
                            table.name
                        ),
                        hint: None,
                    })
                }
            };
            check_schema(table, &schema, &location)?;
            let columns: Vec<&str> = table.column_names();
            self.client.execute(
                &format!("lake table {}", table.name),
                &format!(
                    "CREATE OR REPLACE TEMPORARY VIEW {} AS SELECT {} FROM {raw}",
                    table.name,
                    columns.join(", ")
                ),
            )?;
            self.declared.borrow_mut().insert(table.name);
        }
        Ok(())
    }

    /// The windows and their day spine as the session's views.
    fn declare_windows(&self, windows: &[Window]) -> Result<()> {
        if self.windows.borrow().as_slice() == windows {
            return Ok(());
        }
        self.windows.borrow_mut().clear();
        let rows: Vec<String> = windows
            .iter()
            .enumerate()
            .map(|(id, window)| {
                format!(
                    "({id}, DATE'{}', DATE'{}', {})",
                    window.start,
                    window.end,
                    window.days()
                )
            })
            .collect();
        self.client.execute(
            "windows",
            &format!(
                "CREATE OR REPLACE TEMPORARY VIEW _opskpi_windows AS
                 SELECT * FROM VALUES {} AS w(window_id, start_date, end_date, days)",
                rows.join(", ")
            ),
        )?;
        self.client.execute(
            "windows",
            "CREATE OR REPLACE TEMPORARY VIEW _opskpi_spine AS
             SELECT window_id, explode(sequence(start_date, end_date, INTERVAL 1 DAY)) AS day
             FROM _opskpi_windows",
        )?;
        *self.windows.borrow_mut() = windows.to_vec();
        Ok(())
    }
}

impl Engine for SparkEngine {
    fn components(
        &self,
        query: &QueryDef,
        dims: &[String],
        windows: &[Window],
        wanted: &[String],
    ) -> Result<Components> {
        let (name, sql) = answer::request_sql(query, dims, wanted, self.offset_seconds)?;
        if windows.is_empty() {
            return Ok(Components::default());
        }
        self.declare_tables(&sql)?;
        self.declare_windows(windows)?;
        let batches = self.client.query(&name, &sql)?;
        answer::components(&name, &batches, query, dims, windows, wanted)
    }
}

/// Whether `sql` names `table` as a word.
fn mentions(sql: &str, table: &str) -> bool {
    sql.match_indices(table).any(|(at, _)| {
        let before = sql[..at].chars().next_back();
        let after = sql[at + table.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !word(before) && !word(after)
    })
}

/// The lake's table against the model: every column there, each of the
/// model's type (decimals of its scale, any precision up to 38).
fn check_schema(
    table: &Table,
    schema: &duckdb::arrow::datatypes::Schema,
    location: &str,
) -> Result<()> {
    for column in table.columns {
        let found = schema
            .field_with_name(column.name)
            .ok()
            .map(|f| f.data_type().clone());
        let fits = match (&found, column.ty) {
            (None, _) => false,
            (
                Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
                ColumnType::Text | ColumnType::OneOf(_),
            ) => true,
            (Some(DataType::Date32), ColumnType::Date | ColumnType::Month) => true,
            (Some(DataType::Timestamp(TimeUnit::Microsecond, _)), ColumnType::Timestamp) => true,
            (
                Some(DataType::Int64 | DataType::Int32),
                ColumnType::Integer | ColumnType::IntRange(..),
            ) => true,
            (
                Some(DataType::Decimal128(_, scale)),
                ColumnType::Decimal(want) | ColumnType::DecimalRange(want, ..),
            ) => *scale == want as i8,
            _ => false,
        };
        if !fits {
            let what = match found {
                None => "is missing".to_string(),
                Some(ty) => format!("is {ty}, not {}", column.ty.sql_type()),
            };
            return Err(Error::config_hint(
                format!(
                    "the lake table `{}` ({location}) does not match the model: column `{}` {what}",
                    table.name, column.name
                ),
                "export the lake again from the warehouse: opskpi lake export",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_mentioned_as_a_word_only() {
        assert!(mentions("FROM sales s", "sales"));
        assert!(mentions("JOIN sales\n", "sales"));
        assert!(!mentions("FROM sales_targets t", "sales"));
        assert!(!mentions("sum(net_sales)", "sales"));
        assert!(mentions("JOIN sales_targets t", "sales_targets"));
    }
}
