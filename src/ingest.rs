//! Loading source files into the canonical tables.
//!
//! A run stages every file, checks every value against the model (type,
//! required, allowed words, ranges, duplicate keys), and only then writes, in
//! one transaction: rows replace the rows with the same natural key, so
//! loading a file twice changes nothing, and a bad file leaves the warehouse
//! exactly as it was. A file whose content is unchanged since its last load
//! is skipped.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use duckdb::params;
use sha2::{Digest, Sha256};

use crate::config::{Format, Source};
use crate::error::{BadData, Error, Result};
use crate::model::{self, Column, ColumnType, Table};
use crate::warehouse::Warehouse;

/// What happened to one source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOutcome {
    pub table: String,
    pub file: PathBuf,
    pub rows: u64,
    /// Rows already in the warehouse that this file's rows replaced.
    pub replaced: u64,
    /// The file was loaded before with the same content and was skipped.
    pub unchanged: bool,
}

/// A source that passed every check and waits in a typed temporary table.
struct Staged {
    table: &'static Table,
    file: PathBuf,
    sha256: String,
    rows: u64,
    stage: String,
}

/// Loads `sources` (paths already resolved) in one transaction.
pub fn ingest(
    warehouse: &mut Warehouse,
    sources: &[Source],
    loaded_at: NaiveDateTime,
    progress: &dyn Fn(&str),
) -> Result<Vec<LoadOutcome>> {
    let mut staged = Vec::new();
    let mut outcomes = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        progress(&format!("checking {}", source.path.display()));
        let table = model::table(&source.table).ok_or_else(|| {
            Error::config_hint(
                format!("unknown table `{}`", source.table),
                format!("tables are: {}", model::table_names().join(", ")),
            )
        })?;
        let sha256 = file_sha256(&source.path)?;
        if last_sha256(warehouse, table, &source.path)?.as_deref() == Some(sha256.as_str()) {
            outcomes.push(LoadOutcome {
                table: table.name.into(),
                file: source.path.clone(),
                rows: 0,
                replaced: 0,
                unchanged: true,
            });
            continue;
        }
        let stage = format!("_opskpi_stage_{i}");
        let rows = stage_file(warehouse, source, table, &stage)?;
        staged.push(Staged {
            table,
            file: source.path.clone(),
            sha256,
            rows,
            stage,
        });
    }
    drop_temporaries(warehouse, &staged, "_raw");

    progress("writing");
    let conn = warehouse.connection();
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(Error::query("begin load"))?;
    let written = write_all(warehouse, &staged, loaded_at);
    let conn = warehouse.connection();
    match written {
        Ok(mut written) => {
            conn.execute_batch("COMMIT")
                .map_err(Error::query("commit load"))?;
            drop_temporaries(warehouse, &staged, "");
            outcomes.append(&mut written);
            Ok(outcomes)
        }
        Err(error) => {
            // Best effort: the original error is what the user needs to see.
            let _ = conn.execute_batch("ROLLBACK");
            drop_temporaries(warehouse, &staged, "");
            Err(error)
        }
    }
}

fn write_all(
    warehouse: &Warehouse,
    staged: &[Staged],
    loaded_at: NaiveDateTime,
) -> Result<Vec<LoadOutcome>> {
    let conn = warehouse.connection();
    let mut outcomes = Vec::new();
    for item in staged {
        let table = item.table;
        let matches: Vec<String> = table
            .key
            .iter()
            .map(|key| format!("t.{key} = s.{key}"))
            .collect();
        let replaced = conn
            .execute(
                &format!(
                    "DELETE FROM {} t USING {} s WHERE {}",
                    table.name,
                    item.stage,
                    matches.join(" AND ")
                ),
                [],
            )
            .map_err(Error::query(format!("replace rows of {}", table.name)))?;
        let columns = table.column_names().join(", ");
        conn.execute(
            &format!(
                "INSERT INTO {} ({columns}) SELECT {columns} FROM {}",
                table.name, item.stage
            ),
            [],
        )
        .map_err(Error::query(format!("insert into {}", table.name)))?;
        conn.execute(
            "INSERT INTO _opskpi_loads VALUES (?, ?, ?, ?, ?, ?)",
            params![
                loaded_at,
                table.name,
                item.file.display().to_string(),
                item.sha256,
                item.rows as i64,
                replaced as i64
            ],
        )
        .map_err(Error::query("log load"))?;
        outcomes.push(LoadOutcome {
            table: table.name.into(),
            file: item.file.clone(),
            rows: item.rows,
            replaced: replaced as u64,
            unchanged: false,
        });
    }
    Ok(outcomes)
}

fn drop_temporaries(warehouse: &Warehouse, staged: &[Staged], suffix: &str) {
    for item in staged {
        let _ = warehouse
            .connection()
            .execute_batch(&format!("DROP TABLE IF EXISTS {}{suffix}", item.stage));
    }
}

fn file_sha256(path: &Path) -> Result<String> {
    let mut file = fs_err::File::open(path).map_err(|error| Error::Config {
        message: error.to_string(),
        hint: Some(
            "check the source's `path` in opskpi.toml (relative paths start at the file's folder)"
                .into(),
        ),
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

fn last_sha256(warehouse: &Warehouse, table: &Table, file: &Path) -> Result<Option<String>> {
    let mut statement = warehouse
        .connection()
        .prepare("SELECT sha256 FROM _opskpi_loads WHERE table_name = ? AND file = ? ORDER BY loaded_at DESC LIMIT 1")
        .map_err(Error::query("last load"))?;
    let mut rows = statement
        .query(params![table.name, file.display().to_string()])
        .map_err(Error::query("last load"))?;
    match rows.next().map_err(Error::query("last load"))? {
        Some(row) => Ok(Some(row.get(0).map_err(Error::query("last load"))?)),
        None => Ok(None),
    }
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the file into `{stage}_raw`, checks it, and leaves the typed rows in `stage`.
fn stage_file(
    warehouse: &Warehouse,
    source: &Source,
    table: &'static Table,
    stage: &str,
) -> Result<u64> {
    let conn = warehouse.connection();
    let path = source.path.display().to_string();
    let raw = format!("{stage}_raw");
    let data_error = |message: String, hint: Option<String>| {
        Error::data(BadData {
            file: source.path.clone(),
            row: None,
            column: None,
            value: None,
            message,
            hint,
        })
    };
    let format = source.format()?;
    let delimiter = match format {
        Format::Csv => source
            .delimiter
            .map(Ok)
            .unwrap_or_else(|| guess_delimiter(&source.path))?,
        Format::Parquet => ',',
    };
    let read = match format {
        // The dialect is given, not sniffed: a sniffer faced with one bad row
        // may skip lines or take a data row for the header.
        Format::Csv => conn.execute(
            &format!(
                "CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM read_csv(?, header = true, skip = 0, \
                 all_varchar = true, delim = ?, quote = '\"', escape = '\"')"
            ),
            params![path, delimiter.to_string()],
        ),
        Format::Parquet => conn.execute(
            &format!("CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM read_parquet(?)"),
            params![path],
        ),
    };
    if let Err(error) = read {
        if format == Format::Csv {
            if let Some(bad) = diagnose_csv(&source.path, delimiter)? {
                return Err(Error::data(bad));
            }
        }
        let text = error.to_string();
        let reason: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|line| {
                !line.is_empty() && !line.starts_with("Possible") && !line.starts_with('*')
            })
            .take(2)
            .collect();
        return Err(data_error(
            format!("cannot read the file: {}", reason.join(" ")),
            Some("check that it is a CSV file with a header line, or Parquet, and the source's `format`".into()),
        ));
    }

    // The file's columns and their DuckDB types (all VARCHAR for CSV).
    let found: Vec<(String, String)> = {
        let mut statement = conn
            .prepare(
                "SELECT column_name, data_type FROM duckdb_columns()
                 WHERE table_name = ? AND database_name = 'temp' ORDER BY column_index",
            )
            .map_err(Error::query("describe stage"))?;
        let names = statement
            .query_map(params![raw], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(Error::query("describe stage"))?;
        names
            .collect::<duckdb::Result<_>>()
            .map_err(Error::query("describe stage"))?
    };
    let rows: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {raw}"), [], |row| row.get(0))
        .map_err(Error::query("count stage"))?;

    // Which file column feeds each canonical column, and the rules its values must meet.
    let mut selects = vec!["rowid AS _opskpi_row".to_string()];
    let mut rules = Vec::new();
    for column in table.columns {
        let wanted = source
            .columns
            .get(column.name)
            .map(String::as_str)
            .unwrap_or(column.name);
        let present = found
            .iter()
            .find(|(name, _)| name.as_str() == wanted)
            .or_else(|| {
                found
                    .iter()
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case(wanted))
            });
        match present {
            Some((name, data_type)) => {
                let quoted = quote_identifier(name);
                // Text is trimmed and empty means missing; typed Parquet columns are used as they are.
                let value = if data_type == "VARCHAR" {
                    format!("nullif(trim({quoted}), '')")
                } else {
                    quoted.clone()
                };
                rules.extend(column_rules(column, &value).into_iter().map(
                    |(condition, message)| Rule {
                        column,
                        file_column: wanted.to_string(),
                        shown: format!("CAST({quoted} AS VARCHAR)"),
                        condition,
                        message,
                    },
                ));
                selects.push(format!("{} AS {}", convert(column, &value), column.name));
            }
            None if column.nullable => {
                selects.push(format!("NULL::{} AS {}", column.ty.sql_type(), column.name))
            }
            None => {
                let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
                return Err(Error::data(BadData {
                    file: source.path.clone(),
                    row: None,
                    column: Some(wanted.to_string()),
                    value: None,
                    message: format!("the file has no column `{wanted}` for `{}.{}`", table.name, column.name),
                    hint: Some(format!(
                        "its columns are: {}; map one with `[sources.columns] {} = \"…\"` in opskpi.toml",
                        names.join(", "),
                        column.name
                    )),
                }));
            }
        }
    }
    check_rules(warehouse, source, table, &raw, &rules)?;
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {} FROM {raw}",
        selects.join(", ")
    ))
    .map_err(Error::query(format!("stage {}", table.name)))?;
    check_duplicate_keys(warehouse, source, table, stage)?;
    Ok(rows as u64)
}

/// The SQL turning a checked source value into the canonical type.
fn convert(column: &Column, value: &str) -> String {
    match column.ty {
        ColumnType::Text | ColumnType::OneOf(_) => format!("CAST({value} AS VARCHAR)"),
        ColumnType::Decimal(scale) | ColumnType::DecimalRange(scale, ..) => {
            format!("CAST(CAST({value} AS DECIMAL(38,10)) AS DECIMAL(18,{scale}))")
        }
        other => format!("CAST({value} AS {})", other.sql_type()),
    }
}

/// One condition a value must not meet, for one column.
struct Rule<'a> {
    column: &'a Column,
    /// The column's name in the file.
    file_column: String,
    /// SQL showing the offending value as the file has it.
    shown: String,
    condition: String,
    message: String,
}

/// The conditions that make a value of `column` wrong, with what to say.
fn column_rules(column: &Column, value: &str) -> Vec<(String, String)> {
    let mut rules = Vec::new();
    if !column.nullable {
        rules.push((
            format!("{value} IS NULL"),
            "a value is required here".to_string(),
        ));
    }
    let ty = column.ty;
    let exact = format!("TRY_CAST({value} AS DECIMAL(38,10))");
    let whole = format!("TRY_CAST({value} AS BIGINT)");
    let broken = match ty {
        ColumnType::Text => None,
        ColumnType::Date | ColumnType::Timestamp => Some(format!("TRY_CAST({value} AS {}) IS NULL", ty.sql_type())),
        ColumnType::Month => Some(format!(
            "TRY_CAST({value} AS DATE) IS NULL OR day(TRY_CAST({value} AS DATE)) <> 1"
        )),
        // DuckDB casts '2.5' to BIGINT by rounding; a whole number must be whole.
        ColumnType::Integer => Some(format!("{whole} IS NULL OR {exact} <> {whole}")),
        ColumnType::IntRange(lo, hi) => {
            Some(format!("{whole} IS NULL OR {exact} <> {whole} OR {whole} NOT BETWEEN {lo} AND {hi}"))
        }
        ColumnType::Decimal(scale) => Some(format!(
            "{exact} IS NULL OR {exact} <> round({exact}, {scale}) OR abs({exact}) >= 1e{}",
            18 - scale as u32
        )),
        ColumnType::DecimalRange(scale, lo, hi) => Some(format!(
            "{exact} IS NULL OR {exact} <> round({exact}, {scale}) OR {exact} NOT BETWEEN {lo} AND {hi}"
        )),
        ColumnType::OneOf(words) => {
            let quoted: Vec<String> = words.iter().map(|word| format!("'{word}'")).collect();
            Some(format!("CAST({value} AS VARCHAR) NOT IN ({})", quoted.join(", ")))
        }
    };
    if let Some(broken) = broken {
        rules.push((
            format!("{value} IS NOT NULL AND ({broken})"),
            format!("expected {}", ty.describe()),
        ));
    }
    rules
}

/// Checks every rule in one scan of the file, and reports the earliest
/// offending row (the first rule, where several break on it).
fn check_rules(
    warehouse: &Warehouse,
    source: &Source,
    table: &Table,
    raw: &str,
    rules: &[Rule],
) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    let aggregates: Vec<String> = rules
        .iter()
        .map(|rule| {
            format!(
                "min(rowid) FILTER (WHERE {0}), count(*) FILTER (WHERE {0})",
                rule.condition
            )
        })
        .collect();
    let sql = format!("SELECT {} FROM {raw}", aggregates.join(", "));
    let found: Vec<(Option<i64>, i64)> = warehouse
        .connection()
        .query_row(&sql, [], |row| {
            (0..rules.len())
                .map(|i| Ok((row.get(2 * i)?, row.get(2 * i + 1)?)))
                .collect()
        })
        .map_err(Error::query(format!("check {}", table.name)))?;
    let worst = found
        .iter()
        .enumerate()
        .filter_map(|(i, (first, count))| first.map(|first| (first, i, *count)))
        .min();
    let Some((rowid, i, count)) = worst else {
        return Ok(());
    };
    let rule = &rules[i];
    let value: Option<String> = warehouse
        .connection()
        .query_row(
            &format!("SELECT {} FROM {raw} WHERE rowid = ?", rule.shown),
            params![rowid],
            |row| row.get(0),
        )
        .map_err(Error::query(format!("check {}", table.name)))?;
    let more = if count > 1 {
        format!(" ({} more rows like it)", count - 1)
    } else {
        String::new()
    };
    let hint = match rule.column.ty {
        ColumnType::Decimal(_) if value.as_deref().is_some_and(|v| v.contains(',')) => {
            Some("write numbers without thousands separators and with `.` for decimals".to_string())
        }
        ColumnType::Date | ColumnType::Month => Some("write dates as YYYY-MM-DD".to_string()),
        _ => None,
    };
    Err(Error::data(BadData {
        file: source.path.clone(),
        row: Some(rowid as u64 + 1),
        column: Some(rule.file_column.clone()),
        value: Some(value.unwrap_or_default()),
        message: format!(
            "{} for `{}.{}`{more}",
            rule.message, table.name, rule.column.name
        ),
        hint,
    }))
}

fn check_duplicate_keys(
    warehouse: &Warehouse,
    source: &Source,
    table: &Table,
    stage: &str,
) -> Result<()> {
    let keys = table.key.join(", ");
    let sql = format!(
        "SELECT min(_opskpi_row), max(_opskpi_row) FROM {stage} GROUP BY {keys} HAVING count(*) > 1 ORDER BY 1 LIMIT 1"
    );
    let mut statement = warehouse
        .connection()
        .prepare(&sql)
        .map_err(Error::query("check keys"))?;
    let mut found = statement.query([]).map_err(Error::query("check keys"))?;
    if let Some(row) = found.next().map_err(Error::query("check keys"))? {
        let first: i64 = row.get(0).map_err(Error::query("check keys"))?;
        let second: i64 = row.get(1).map_err(Error::query("check keys"))?;
        return Err(Error::data(BadData {
            file: source.path.clone(),
            row: Some(second as u64 + 1),
            column: Some(keys.clone()),
            value: None,
            message: format!("repeats the key ({keys}) of row {}", first + 1),
            hint: Some(format!(
                "each row of `{}` needs its own ({keys})",
                table.name
            )),
        }));
    }
    Ok(())
}

/// The most frequent of `,` `;` tab `|` in the header line; `,` when none.
fn guess_delimiter(path: &Path) -> Result<char> {
    use std::io::BufRead;
    let mut header = Vec::new();
    std::io::BufReader::new(fs_err::File::open(path)?).read_until(b'\n', &mut header)?;
    let count = |c: u8| header.iter().filter(|b| **b == c).count();
    let best = [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|c| (count(*c), *c == b','))
        .unwrap_or(b',');
    Ok(if count(best) == 0 { ',' } else { best as char })
}

/// Why a CSV file cannot be read, found row by row: the first row that is
/// not UTF-8 or whose field count differs from the header's.
fn diagnose_csv(path: &Path, delimiter: char) -> Result<Option<BadData>> {
    let bad = |row: Option<u64>, message: String, hint: &str| BadData {
        file: path.to_path_buf(),
        row,
        column: None,
        value: None,
        message,
        hint: Some(hint.to_string()),
    };
    let not_utf8 = "save the file as UTF-8 (files in GBK, GB18030 or Big5 need converting first)";
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter as u8)
        .flexible(true)
        .from_reader(fs_err::File::open(path)?);
    let fields = match reader.headers() {
        Ok(header) => header.len(),
        Err(error) if matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) => {
            return Ok(Some(bad(
                None,
                "the header line is not UTF-8 text".into(),
                not_utf8,
            )));
        }
        Err(_) => return Ok(None),
    };
    for (index, record) in reader.records().enumerate() {
        let row = index as u64 + 1;
        match record {
            Ok(record) if record.len() != fields => {
                let message = format!(
                    "the row has {} fields where the header has {fields}",
                    record.len()
                );
                let hint = format!(
                    "check that row's separators (`{}`) and quotes: a value containing the separator must be in double quotes",
                    if delimiter == '\t' { "\\t".to_string() } else { delimiter.to_string() }
                );
                return Ok(Some(bad(Some(row), message, &hint)));
            }
            Ok(_) => {}
            Err(error) if matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) => {
                return Ok(Some(bad(
                    Some(row),
                    "the row is not UTF-8 text".into(),
                    not_utf8,
                )));
            }
            Err(_) => return Ok(None),
        }
    }
    Ok(None)
}
