//! The DuckDB warehouse: one database file holding the canonical tables and
//! the load log; `engine/duckdb.rs` computes indicator components over it.
//!
//! The file is a plain DuckDB database that any DuckDB client can open. Its
//! schema (`schema.rs`) comes from [`crate::model`]. Results cross into Rust
//! as Arrow batches. The warehouse holds no feature's state: a load
//! registers ingest's functions on its own connection, the Polars engine
//! its own (`functions.rs` has what they share).

pub mod functions;
mod schema;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use duckdb::arrow::record_batch::RecordBatch;
use duckdb::Connection;

use crate::error::{Error, Result};
use crate::{magic, model};

pub struct Warehouse {
    conn: Connection,
    /// A writer's gate, held until the connection above has closed
    /// (declared after it, so dropped after it).
    _gate: Option<Gate>,
    path: Option<PathBuf>,
    /// The company's UTC offset: the day a timestamp falls on.
    offset_seconds: i32,
    /// A folder of this warehouse's own for what does not fit in memory,
    /// removed when it drops (declared after the connection, so dropped
    /// after it).
    spill: Option<tempfile::TempDir>,
}

/// What a command does with the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Loads: one writer at a time, alone.
    ReadWrite,
    /// Everything else: shares the file with other readers.
    ReadOnly,
}

/// Opens a DuckDB connection to the warehouse file at `path` with `access`
/// and the further DuckDB `settings`, waiting up to `wait` while another
/// program holds a lock that excludes it.
pub fn connect(
    path: &Path,
    access: Access,
    wait: Duration,
    settings: &[(&str, &str)],
) -> Result<Connection> {
    connect_gated(path, access, wait, settings).map(|(conn, _gate)| conn)
}

/// One short write of its own (the run history, the outbox): a read-write
/// connection that creates `schema` if missing, runs `f`, and closes
/// inside the gate, so readers of the warehouse wait at most that long.
/// Errors name `what`.
pub fn short_write<T>(
    path: &Path,
    wait: Duration,
    schema: &str,
    what: &str,
    f: impl FnOnce(&Connection) -> duckdb::Result<T>,
) -> Result<T> {
    let (conn, gate) = connect_gated(path, Access::ReadWrite, wait, &[])?;
    let done = conn
        .execute_batch(schema)
        .and_then(|()| f(&conn))
        .map_err(Error::query(what.to_string()));
    // The connection first, inside the gate (see `connect_gated`).
    drop(conn);
    drop(gate);
    done
}

/// [`connect`], and for a writer the gate, to hold until the connection
/// has closed: DuckDB's closing checkpoint rewrites the file, and a
/// reader's open reads the file's header before it takes DuckDB's lock, so
/// no reader may be opening until the writer is gone. Drop the connection
/// first.
fn connect_gated(
    path: &Path,
    access: Access,
    wait: Duration,
    settings: &[(&str, &str)],
) -> Result<(Connection, Option<Gate>)> {
    check_database_file(path)?;
    let started = Instant::now();
    // A writer holds the gate across its tries; a reader for one try each.
    let writer = (access == Access::ReadWrite).then(|| Gate::pass(path, access, wait));
    loop {
        let remaining = wait.saturating_sub(started.elapsed());
        let _reader = (access == Access::ReadOnly).then(|| Gate::pass(path, access, remaining));
        let mut config = duckdb::Config::default()
            .access_mode(match access {
                Access::ReadWrite => duckdb::AccessMode::ReadWrite,
                Access::ReadOnly => duckdb::AccessMode::ReadOnly,
            })
            .map_err(Error::query("open the warehouse"))?;
        for (key, value) in settings {
            config = config
                .with(*key, *value)
                .map_err(Error::query("open the warehouse"))?;
        }
        match Connection::open_with_flags(path, config) {
            Ok(conn) => return Ok((conn, writer)),
            Err(error) => {
                let text = error.to_string();
                let locked = held_by_another(&text);
                if locked && started.elapsed() < wait {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                return Err(open_error(path, access, &text, locked, started.elapsed()));
            }
        }
    }
}

/// Attaches the warehouse at `path`, read-only, to `conn` (another
/// database, such as a copy being made) as `alias`, passing the gate as a
/// reader's open does and waiting up to `wait` for a writer to finish.
pub fn attach_read_only(conn: &Connection, path: &Path, alias: &str, wait: Duration) -> Result<()> {
    check_database_file(path)?;
    let started = Instant::now();
    let quoted = path.display().to_string().replace('\'', "''");
    loop {
        let remaining = wait.saturating_sub(started.elapsed());
        let _reader = Gate::pass(path, Access::ReadOnly, remaining);
        match conn.execute_batch(&format!("ATTACH '{quoted}' AS \"{alias}\" (READ_ONLY)")) {
            Ok(()) => return Ok(()),
            Err(error) => {
                let text = error.to_string();
                let locked = held_by_another(&text);
                if locked && started.elapsed() < wait {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                return Err(open_error(
                    path,
                    Access::ReadOnly,
                    &text,
                    locked,
                    started.elapsed(),
                ));
            }
        }
    }
}

/// Whether DuckDB's open failed on another program's lock on the file.
fn held_by_another(text: &str) -> bool {
    text.contains("Could not set lock") || text.contains("Conflicting lock")
}

/// Writers first. DuckDB lets readers share the file and gives a writer
/// the file alone, but a writer that finds it shared can only try again —
/// and readers that open it one after another keep it shared for ever. So
/// opskpi's opens pass a gate first: an advisory lock (`flock`) on the
/// warehouse's folder, which a writer holds exclusively from its first try
/// until its connection has closed (a `Warehouse`, or a `short_write`),
/// and a reader holds shared only while it opens. A waiting writer then
/// waits only for the readers already in, and no reader's open — whose
/// unlocked first reads of the header DuckDB makes before it takes its
/// lock — overlaps a writer's closing checkpoint.
/// (The folder, not the file: DuckDB locks the file with `fcntl`, whose
/// locks a process loses when it closes any descriptor of that file. The
/// gate is advisory: other DuckDB clients do not pass it.)
struct Gate(#[allow(dead_code)] Option<std::fs::File>);

impl Gate {
    /// Passes the gate for `access`, waiting up to `wait`; an open without
    /// the gate when the folder cannot be opened or the wait ran out
    /// (DuckDB's own lock still decides).
    fn pass(path: &Path, access: Access, wait: Duration) -> Gate {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let Ok(file) = std::fs::File::open(folder) else {
            return Gate(None);
        };
        let started = Instant::now();
        loop {
            if try_lock(&file, access) {
                return Gate(Some(file));
            }
            if started.elapsed() >= wait {
                return Gate(None);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Takes the folder's advisory lock without waiting: exclusive for a writer.
#[cfg(unix)]
fn try_lock(folder: &std::fs::File, access: Access) -> bool {
    let operation = match access {
        Access::ReadWrite => libc::LOCK_EX,
        Access::ReadOnly => libc::LOCK_SH,
    };
    // SAFETY: flock on an open descriptor the caller owns; the lock goes
    // with the descriptor when it closes.
    unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(folder),
            operation | libc::LOCK_NB,
        ) == 0
    }
}

/// Off Unix there is no gate: DuckDB's own lock decides (and a writer may
/// wait behind a stream of readers).
#[cfg(not(unix))]
fn try_lock(_folder: &std::fs::File, _access: Access) -> bool {
    true
}

/// A warehouse path is either absent (a load creates it) or a DuckDB
/// database file; anything else is refused before DuckDB opens it, naming
/// what the file looks like (DuckDB would read some files as an empty
/// in-memory database, and a load would report rows it never kept).
fn check_database_file(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(not_a_database(path, "a folder"));
    }
    let Ok(file) = std::fs::File::open(path) else {
        // Absent: a load creates it; unreadable: DuckDB says why.
        return Ok(());
    };
    let mut head = Vec::with_capacity(64);
    std::io::Read::take(file, 64)
        .read_to_end(&mut head)
        .map_err(|error| Error::config(format!("cannot read `{}`: {error}", path.display())))?;
    // A DuckDB file: a checksum, then the magic bytes at offset 8.
    if head.get(8..12) == Some(b"DUCK".as_slice()) {
        return Ok(());
    }
    Err(not_a_database(path, &looks_like(&head)))
}

fn not_a_database(path: &Path, what: &str) -> Error {
    Error::config_hint(
        format!(
            "the warehouse `{}` is not a DuckDB database: it is {what}",
            path.display()
        ),
        "point `[warehouse] path` in opskpi.toml at the warehouse file, or at a new name that a load creates",
    )
}

/// What a file's first bytes say it is, in words.
fn looks_like(head: &[u8]) -> String {
    if head.is_empty() {
        return "an empty file".into();
    }
    if let Some(what) = magic::describe(head) {
        return what.to_string();
    }
    // Text, perhaps cut in the middle of a character at the 64th byte.
    let text = match std::str::from_utf8(head) {
        Ok(text) => Some(text),
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&head[..error.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    match text {
        Some(text) => {
            let line: String = text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(40)
                .collect();
            format!("a text file beginning `{}`", line.escape_debug())
        }
        None => "not a DuckDB file (its first bytes are no DuckDB header)".into(),
    }
}

/// Why the warehouse did not open, and who holds it when that is the reason.
fn open_error(path: &Path, access: Access, text: &str, locked: bool, waited: Duration) -> Error {
    if !locked {
        return Error::Config {
            message: format!("cannot open the warehouse `{}`: {text}", path.display()),
            hint: None,
        };
    }
    // DuckDB names the holder: "Conflicting lock is held in /usr/bin/opskpi (PID 42)".
    let holder = text
        .split("Conflicting lock is held in ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .map(|holder| format!("{holder})"))
        .unwrap_or_else(|| "another program".into());
    let what = match access {
        Access::ReadWrite => "write to",
        Access::ReadOnly => "read",
    };
    Error::Config {
        message: format!(
            "cannot {what} the warehouse `{}`: it is held by {holder}; waited {:.0} s",
            path.display(),
            waited.as_secs_f64()
        ),
        hint: Some(match access {
            Access::ReadWrite => "a load or a reader (a report, the DuckDB CLI) has it open; try again when it is done, or wait longer with `warehouse.wait_seconds`".into(),
            Access::ReadOnly => "a load is writing it; try again when it is done, or wait longer with `warehouse.wait_seconds`".into(),
        }),
    }
}

/// A file of the load log: what produced the warehouse's rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoadedFile {
    pub table: String,
    pub file: String,
    pub sha256: String,
    pub loaded_at: String,
    pub rows_in_file: i64,
    pub rows_loaded: i64,
    pub rows_quarantined: i64,
}

/// Rows of one file set aside at load by one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub table: String,
    pub file: String,
    pub rule: String,
    pub rows: i64,
}

/// A loaded table's rows and the dates they cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub table: &'static str,
    pub rows: u64,
    pub first: Option<chrono::NaiveDate>,
    pub last: Option<chrono::NaiveDate>,
}

impl Warehouse {
    /// Opens (creating if needed) the warehouse file at `path` for writing,
    /// failing at once if another program holds it.
    pub fn open(path: &Path) -> Result<Warehouse> {
        Warehouse::open_with(path, Access::ReadWrite, Duration::ZERO)
    }

    /// Opens the warehouse at `path`, waiting up to `wait` while another
    /// program holds a lock that excludes `access`: DuckDB lets any number
    /// of readers share a file, or one writer have it alone. A reader never
    /// sees half a load: a load is one transaction, and a reader cannot open
    /// the file while a writer has it.
    pub fn open_with(path: &Path, access: Access, wait: Duration) -> Result<Warehouse> {
        if access == Access::ReadWrite {
            if let Some(parent) = path
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                fs_err::create_dir_all(parent)?;
            }
        }
        let (conn, gate) = connect_gated(path, access, wait, &[])?;
        let warehouse = Warehouse {
            conn,
            _gate: gate,
            path: Some(path.to_path_buf()),
            offset_seconds: 0,
            spill: None,
        };
        match access {
            Access::ReadWrite => warehouse.create_schema()?,
            Access::ReadOnly => warehouse.check_schema(path)?,
        }
        warehouse
            .conn
            .set_query_progress_tracking(true)
            .map_err(Error::query("progress tracking"))?;
        Ok(warehouse)
    }

    /// The engine over a connection already open (sql's `kpi()` function).
    pub fn over(conn: Connection) -> Warehouse {
        Warehouse {
            conn,
            _gate: None,
            path: None,
            offset_seconds: 0,
            spill: None,
        }
    }

    /// An in-memory warehouse that spills beyond `memory_limit` to a temp
    /// folder of its own, removed when the warehouse drops.
    pub fn in_memory_within(memory_limit: &str) -> Result<Warehouse> {
        let mut warehouse = Warehouse::in_memory()?;
        let spill = tempfile::Builder::new().prefix("opskpi-").tempdir()?;
        warehouse.limit_memory(memory_limit, spill.path())?;
        warehouse.spill = Some(spill);
        Ok(warehouse)
    }

    /// This warehouse within `memory_limit`, spilling past it to a folder of
    /// its own in `parent` (else the system's temp folder), removed when the
    /// warehouse drops: one process's spill files never meet another's.
    /// Without it DuckDB keeps up to 80 % of the machine's memory for its
    /// buffers, and a report's scans of a large warehouse keep them.
    pub fn within(mut self, memory_limit: &str, parent: Option<&Path>) -> Result<Warehouse> {
        let builder = {
            let mut builder = tempfile::Builder::new();
            builder.prefix("opskpi-spill-");
            builder
        };
        let spill = match parent {
            Some(parent) => {
                fs_err::create_dir_all(parent)?;
                builder.tempdir_in(parent)?
            }
            None => builder.tempdir()?,
        };
        self.limit_memory(memory_limit, spill.path())?;
        self.spill = Some(spill);
        Ok(self)
    }

    /// The folder a warehouse from `in_memory_within` spills to.
    pub fn spill_folder(&self) -> Option<&Path> {
        self.spill.as_ref().map(|s| s.path())
    }

    /// Days of timestamps in the company's time: `offset_seconds` east of UTC.
    pub fn in_timezone(mut self, offset_seconds: i32) -> Warehouse {
        self.offset_seconds = offset_seconds;
        self
    }

    /// A warehouse that lives in memory only (tests, benchmarks).
    pub fn in_memory() -> Result<Warehouse> {
        let conn = Connection::open_in_memory().map_err(Error::query("open in memory"))?;
        let warehouse = Warehouse {
            conn,
            _gate: None,
            path: None,
            offset_seconds: 0,
            spill: None,
        };
        warehouse.create_schema()?;
        Ok(warehouse)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The company's UTC offset in seconds (east positive), as set by
    /// [`Warehouse::in_timezone`].
    pub fn offset_seconds(&self) -> i32 {
        self.offset_seconds
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Creates the tables the warehouse lacks and brings an older
    /// warehouse's tables up to the model — all of it in one transaction:
    /// a migration that fails leaves the file as it was.
    fn create_schema(&self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN TRANSACTION")
            .map_err(Error::query("schema"))?;
        let created = (|| {
            let mut ddl: String = model::TABLES.iter().map(model::create_table_sql).collect();
            ddl.push_str(schema::LOAD_LOG);
            self.conn
                .execute_batch(&ddl)
                .map_err(Error::query("schema"))?;
            // A warehouse written by an older opskpi: bring its tables up to the model.
            let migrations = schema::migrations(&self.conn)?;
            self.conn
                .execute_batch(&migrations)
                .map_err(Error::query("migrate schema"))
        })();
        match created {
            Ok(()) => self
                .conn
                .execute_batch("COMMIT")
                .map_err(Error::query("schema")),
            Err(error) => {
                // Best effort: the migration's own error is what to show.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }

    /// A reader cannot bring an older warehouse up to date: it says so.
    fn check_schema(&self, path: &Path) -> Result<()> {
        let expected: Vec<&str> = model::TABLES
            .iter()
            .map(|t| t.name)
            .chain(["_opskpi_files", "_opskpi_loads", "_opskpi_quarantine"])
            .collect();
        let mut statement = self
            .conn
            .prepare("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
            .map_err(Error::query("list tables"))?;
        let present: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .and_then(|rows| rows.collect::<duckdb::Result<Vec<String>>>())
            .map_err(Error::query("list tables"))?;
        let mut missing: Vec<String> = expected
            .into_iter()
            .filter(|name| !present.iter().any(|p| p == name))
            .map(str::to_string)
            .collect();
        // Columns the model gained since (a table of an older opskpi).
        let mut statement = self
            .conn
            .prepare(
                "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'",
            )
            .map_err(Error::query("list columns"))?;
        let columns: Vec<(String, String)> = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(|rows| rows.collect::<duckdb::Result<Vec<_>>>())
            .map_err(Error::query("list columns"))?;
        for table in model::TABLES
            .iter()
            .filter(|t| present.iter().any(|p| p == t.name))
        {
            for column in table.columns {
                if !columns
                    .iter()
                    .any(|(t, c)| t == table.name && c == column.name)
                {
                    missing.push(format!("{}.{}", table.name, column.name));
                }
            }
        }
        for column in ["rows_left_out", "values_rounded", "settings"] {
            if present.iter().any(|p| p == "_opskpi_files")
                && !columns
                    .iter()
                    .any(|(t, c)| t == "_opskpi_files" && c == column)
            {
                missing.push(format!("_opskpi_files.{column}"));
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::config_hint(
            format!(
                "the warehouse `{}` lacks the tables or columns {} of this opskpi",
                path.display(),
                missing.join(", ")
            ),
            "an older opskpi (or another program) wrote it: run `opskpi ingest` once to bring it up to date",
        ))
    }

    /// DuckDB's memory limit and where it spills past it.
    pub fn limit_memory(&self, limit: &str, temp_directory: &Path) -> Result<()> {
        let valid = limit
            .trim()
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .trim()
            .parse::<f64>()
            .is_ok()
            && limit
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == ' ');
        if !valid {
            return Err(Error::config_hint(
                format!("`warehouse.memory_limit` is `{limit}`"),
                "write it like `1GB` or `512MB`",
            ));
        }
        self.conn
            .execute_batch(&format!(
                "SET memory_limit = '{}'; SET temp_directory = '{}'; SET preserve_insertion_order = true;",
                limit.replace('\'', ""),
                temp_directory.display().to_string().replace('\'', "''")
            ))
            .map_err(|error| Error::config_hint(format!("cannot set the warehouse's memory limit `{limit}`: {error}"), "write it like `1GB` or `512MB`"))
    }

    /// Rows in each canonical table, in model order.
    pub fn row_counts(&self) -> Result<Vec<(&'static str, u64)>> {
        model::TABLES
            .iter()
            .map(|table| {
                let count: i64 = self
                    .conn
                    .query_row(&format!("SELECT count(*) FROM {}", table.name), [], |row| {
                        row.get(0)
                    })
                    .map_err(Error::query(format!("count {}", table.name)))?;
                Ok((table.name, count as u64))
            })
            .collect()
    }

    /// Every file the warehouse holds rows of, as its last load recorded it,
    /// in the model's table order then by file name.
    pub fn loaded_files(&self) -> Result<Vec<LoadedFile>> {
        let query = Error::query("load log");
        let mut statement = self
            .conn
            .prepare(
                "SELECT table_name, file, sha256, strftime(loaded_at, '%Y-%m-%d %H:%M:%S'), rows_in_file, rows_loaded, rows_quarantined \
                 FROM _opskpi_files f WHERE file_id = (SELECT max(file_id) FROM _opskpi_files g \
                 WHERE g.table_name = f.table_name AND g.file = f.file) ORDER BY file",
            )
            .map_err(Error::query("load log"))?;
        let mut files: Vec<LoadedFile> = statement
            .query_map([], |row| {
                Ok(LoadedFile {
                    table: row.get(0)?,
                    file: row.get(1)?,
                    sha256: row.get(2)?,
                    loaded_at: row.get(3)?,
                    rows_in_file: row.get(4)?,
                    rows_loaded: row.get(5)?,
                    rows_quarantined: row.get(6)?,
                })
            })
            .and_then(|rows| rows.collect::<duckdb::Result<Vec<_>>>())
            .map_err(query)?;
        let order = |table: &str| model::TABLES.iter().position(|t| t.name == table);
        files.sort_by(|a, b| (order(&a.table), &a.file).cmp(&(order(&b.table), &b.file)));
        Ok(files)
    }

    /// Rows set aside at load, by table, file and rule, and the rows a
    /// source's filter left out (rule `left_out`).
    pub fn set_aside(&self) -> Result<Vec<SetAside>> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT table_name, file, rule, count(*) FROM _opskpi_quarantine GROUP BY ALL \
                 UNION ALL SELECT table_name, file, 'left_out', rows_left_out FROM _opskpi_files f \
                 WHERE rows_left_out > 0 AND file_id = (SELECT max(file_id) FROM _opskpi_files g \
                 WHERE g.table_name = f.table_name AND g.file = f.file) ORDER BY 1, 2, 3",
            )
            .map_err(Error::query("quarantine"))?;
        let rows = statement
            .query_map([], |row| {
                Ok(SetAside {
                    table: row.get(0)?,
                    file: row.get(1)?,
                    rule: row.get(2)?,
                    rows: row.get(3)?,
                })
            })
            .and_then(|rows| rows.collect::<duckdb::Result<Vec<_>>>())
            .map_err(Error::query("quarantine"))?;
        Ok(rows)
    }

    /// Each loaded table's rows and the dates its rows cover (by its first
    /// required date column), in model order.
    pub fn coverage(&self) -> Result<Vec<Coverage>> {
        let mut out = Vec::new();
        for table in model::TABLES {
            let dates = table
                .date_sql()
                .map(|day| format!("min({day}), max({day})"))
                .unwrap_or_else(|| "NULL::DATE, NULL::DATE".into());
            let (rows, first, last): (i64, Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) =
                self.conn
                    .query_row(
                        &format!("SELECT count(*), {dates} FROM {}", table.name),
                        [],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )
                    .map_err(Error::query(format!("coverage of {}", table.name)))?;
            if rows > 0 {
                out.push(Coverage {
                    table: table.name,
                    rows: rows as u64,
                    first,
                    last,
                });
            }
        }
        Ok(out)
    }

    /// The first and last date with sales, if any: the data's freshness.
    pub fn sales_date_range(&self) -> Result<Option<(chrono::NaiveDate, chrono::NaiveDate)>> {
        self.conn
            .query_row(
                "SELECT min(order_date), max(order_date) FROM sales",
                [],
                |row| {
                    Ok(match (row.get(0)?, row.get(1)?) {
                        (Some(first), Some(last)) => Some((first, last)),
                        _ => None,
                    })
                },
            )
            .map_err(Error::query("sales date range"))
    }

    /// Runs a query and collects its Arrow batches.
    pub fn arrow(&self, name: &str, sql: &str) -> Result<Vec<RecordBatch>> {
        Ok(arrow_batches(&self.conn, sql)
            .map_err(Error::query(name))?
            .1)
    }
}

/// The answer of `sql` as Arrow batches, with its schema (also when it has
/// no rows). Streamed: DuckDB does not first copy the whole answer into a
/// result of its own (for a table scan about three times faster, and half
/// the memory), and an error while fetching is an error, not a panic.
pub fn arrow_batches(
    conn: &Connection,
    sql: &str,
) -> duckdb::Result<(duckdb::arrow::datatypes::SchemaRef, Vec<RecordBatch>)> {
    let mut statement = conn.prepare(sql)?;
    let stream = statement.stream_arrow([])?;
    let schema = stream.get_schema();
    let batches = stream.collect::<duckdb::Result<Vec<_>>>()?;
    Ok((schema, batches))
}
