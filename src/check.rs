//! `opskpi check`: what a data team (or a pipeline) must know before it
//! trusts the numbers — rows in quarantine, keys repeated in a source, gaps
//! in dated data (a month without inventory snapshots, a day without
//! sales), tables gone stale, and columns no source provides (so the
//! indicators needing them are n/a). Reads the warehouse only.

use chrono::NaiveDate;
use duckdb::{params, Connection};

use crate::error::{Error, Result};
use crate::model;
use crate::warehouse::Warehouse;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    /// `quarantine`, `duplicates`, `gap`, `stale`, `missing_column`, `empty`.
    pub kind: &'static str,
    pub table: String,
    /// What the finding is about: the file (quarantine, duplicates), the
    /// column (missing_column), the grain (gap: `day`, `month`), the newest
    /// date (stale).
    pub subject: String,
    /// Rows (quarantine, duplicates), missing days or months (gap), days
    /// since the newest date (stale); 0 otherwise.
    pub count: u64,
    pub message: String,
    /// Example rows (quarantine) or ranges (gaps).
    pub examples: Vec<String>,
}

/// Everything `opskpi check` finds in the warehouse on `as_of`: rows set
/// aside, then per table its empty columns, staleness and gaps.
pub fn check(
    warehouse: &Warehouse,
    as_of: NaiveDate,
    stale_after_days: u32,
) -> Result<Vec<Finding>> {
    let conn = warehouse.connection();
    let mut findings = quarantine(conn)?;
    for table in model::TABLES {
        findings.extend(table_findings(conn, table, as_of, stale_after_days)?);
    }
    Ok(findings)
}

fn query(name: &str) -> impl FnOnce(duckdb::Error) -> Error {
    Error::query(format!("check {name}"))
}

/// Rows set aside at load, by file and rule.
fn quarantine(conn: &Connection) -> Result<Vec<Finding>> {
    let mut statement = conn
        .prepare(
            "SELECT table_name, file, rule, coalesce(source_column, ''), count(*), \
             array_to_string(list(place || ' ' || coalesce(CAST(line AS VARCHAR), '?') || ': `' || coalesce(value, '') || '` ' || message ORDER BY line)[1:5], chr(1)) \
             FROM _opskpi_quarantine GROUP BY ALL ORDER BY 1, 2, 3, 4",
        )
        .map_err(query("quarantine"))?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                split(row.get::<_, Option<String>>(5)?),
            ))
        })
        .map_err(query("quarantine"))?;
    let mut findings = Vec::new();
    for row in rows {
        let (table, file, rule, column, count, examples) = row.map_err(query("quarantine"))?;
        let (kind, level) = match rule.as_str() {
            "duplicate_key" => ("duplicates", Level::Warning),
            // The source asked for the last row of a key; recorded, not wrong.
            "superseded_duplicate" => ("duplicates", Level::Info),
            _ => ("quarantine", Level::Warning),
        };
        let column = if column.is_empty() {
            String::new()
        } else {
            format!(" in `{column}`")
        };
        findings.push(Finding {
            level,
            kind,
            table,
            subject: file.clone(),
            count: count as u64,
            message: format!("{count} rows of `{file}` set aside: {rule}{column}"),
            examples,
        });
    }
    Ok(findings)
}

/// A loaded table's empty columns, whether it is stale, and its gaps.
fn table_findings(
    conn: &Connection,
    table: &'static model::Table,
    as_of: NaiveDate,
    stale_after_days: u32,
) -> Result<Vec<Finding>> {
    // One scan per table: its rows, how many of each optional column are
    // filled, and its newest date.
    // Columns whose absence leaves no indicator n/a are not gaps.
    let optional: Vec<&model::Column> = table
        .columns
        .iter()
        .filter(|c| c.nullable && !model::NOT_A_GAP_WHEN_ABSENT.contains(&(table.name, c.name)))
        .collect();
    let mut select = vec!["count(*)".to_string()];
    select.extend(optional.iter().map(|c| format!("count({})", c.name)));
    select.push(match table.date_sql() {
        Some(day) => format!("max({day})"),
        None => "NULL::DATE".into(),
    });
    let (rows, filled, newest): (i64, Vec<i64>, Option<NaiveDate>) = conn
        .query_row(
            &format!("SELECT {} FROM {}", select.join(", "), table.name),
            [],
            |row| {
                let filled = (0..optional.len())
                    .map(|i| row.get::<_, i64>(i + 1))
                    .collect::<duckdb::Result<Vec<i64>>>()?;
                Ok((row.get(0)?, filled, row.get(optional.len() + 1)?))
            },
        )
        .map_err(query(table.name))?;
    let mut findings = Vec::new();
    if rows == 0 {
        return Ok(findings);
    }
    // Columns no loaded row has: indicators that need them are n/a.
    for (column, filled) in optional.iter().zip(filled) {
        if filled == 0 {
            findings.push(Finding {
                level: Level::Info,
                kind: "missing_column",
                table: table.name.into(),
                subject: column.name.into(),
                count: 0,
                message: format!("`{}.{}` is empty in all {rows} rows: no source provides it, so indicators that need it are n/a", table.name, column.name),
                examples: Vec::new(),
            });
        }
    }
    let Some(date) = table.date_column() else {
        return Ok(findings);
    };
    // Stale: the newest date is long before the as-of date.
    if let Some(newest) = newest {
        let age = (as_of - newest).num_days();
        if age > stale_after_days as i64 && table.not_future.contains(&date) {
            findings.push(Finding {
                level: Level::Error,
                kind: "stale",
                table: table.name.into(),
                subject: newest.to_string(),
                count: age as u64,
                message: format!("the newest `{date}` is {newest}, {age} days before {as_of} (more than {stale_after_days})"),
                examples: Vec::new(),
            });
        }
    }
    findings.extend(gap(conn, table, date)?);
    Ok(findings)
}

/// Gaps: months without snapshots or market data, days without sales.
fn gap(conn: &Connection, table: &model::Table, date: &str) -> Result<Option<Finding>> {
    let grain = match table.name {
        "sales" => "day",
        "inventory_snapshots" | "market_sizes" | "competitor_sales" => "month",
        _ => return Ok(None),
    };
    let sql = format!(
        "WITH present AS (SELECT DISTINCT date_trunc('{grain}', CAST({date} AS DATE))::DATE AS d FROM {t}), \
         span AS (SELECT generate_series(min(d), max(d), INTERVAL 1 {grain}) AS s FROM present), \
         missing AS (SELECT CAST(unnest(s) AS DATE) AS d FROM span EXCEPT SELECT d FROM present) \
         SELECT count(*), array_to_string(list(CAST(d AS VARCHAR) ORDER BY d)[1:10], chr(1)) FROM missing",
        t = table.name
    );
    let (count, examples): (i64, Vec<String>) = conn
        .query_row(&sql, params![], |row| {
            Ok((row.get(0)?, split(row.get::<_, Option<String>>(1)?)))
        })
        .map_err(query(table.name))?;
    if count == 0 {
        return Ok(None);
    }
    Ok(Some(Finding {
        level: Level::Warning,
        kind: "gap",
        table: table.name.into(),
        subject: grain.into(),
        count: count as u64,
        message: format!(
            "{count} {grain}s without `{}` rows between the first and the last",
            table.name
        ),
        examples,
    }))
}

/// A list DuckDB joined with `chr(1)`.
fn split(joined: Option<String>) -> Vec<String> {
    joined
        .map(|text| text.split('\u{1}').map(str::to_string).collect())
        .unwrap_or_default()
}

/// The findings as text, `examples` rows each.
pub fn render(findings: &[Finding], examples: usize) -> String {
    if findings.is_empty() {
        return "no findings\n".into();
    }
    let mut out = String::new();
    for finding in findings {
        out.push_str(&format!(
            "{:<7} {:<14} {:<20} {}\n",
            finding.level.name(),
            finding.kind,
            finding.table,
            finding.message
        ));
        for example in finding.examples.iter().take(examples) {
            out.push_str(&format!("        {example}\n"));
        }
    }
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    out.push_str(&format!(
        "{} errors, {} warnings, {} notes\n",
        count(Level::Error),
        count(Level::Warning),
        count(Level::Info)
    ));
    out
}
