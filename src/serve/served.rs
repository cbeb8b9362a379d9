//! What the server answers from: a copy of the warehouse made after each
//! load, never the warehouse itself.
//!
//! Why a copy rather than opening the warehouse for each query: a load
//! needs the file alone, and a server with clients connected all day would
//! hold it shared for ever (or make every load wait for the slowest
//! query); and DuckDB's file lock is `fcntl`'s, which a process loses as
//! soon as any of its connections closes — many connections to the
//! warehouse in one process could let a load in under a running query. So
//! the server copies the canonical tables into a database file of its own
//! (one read of the warehouse, a few seconds at 10M order lines), serves
//! every query from it, and, when a load has committed, makes the next copy
//! and switches: a query running on the old copy finishes there, the next
//! one reads the new; a load waits at most for one copy. Readers never see
//! half a load: the copy is one read transaction of the warehouse.
//!
//! Every copy is opened like `opskpi sql`'s door (read-only, external
//! access off, configuration locked, the query limits). A viewer's door is
//! an empty database with only the indicator functions, which compute on
//! the copy: no table of the copy can be named from it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;
use duckdb::Connection;

use crate::config::{Role, SqlConfig};
use crate::error::{Error, Result};
use crate::sql::{self, Door, Functions};
use crate::{model, warehouse};

/// The tables of the assessment, served to no one yet (no role grants
/// them): their copies are empty, so that indicators over them say n/a.
const PEOPLE: [&str; 2] = ["employees", "evaluations"];

/// A copy being served, with the doors onto it.
pub struct Served {
    /// What the warehouse's load log said when it was copied.
    pub version: String,
    pub as_of: NaiveDate,
    /// Doors are one connection each (not shared between threads): each
    /// query forks its own from these.
    analyst: Mutex<Door>,
    viewer: Mutex<Door>,
    path: PathBuf,
}

impl Served {
    /// A door of its own for one query of a user with `role`.
    pub fn door(&self, role: Role) -> Result<Door> {
        let door = match role {
            Role::Analyst => &self.analyst,
            Role::Viewer => &self.viewer,
        };
        door.lock()
            .map_err(|_| Error::Internal("a served door was poisoned".into()))?
            .fork()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Unlinked while still open is fine: the last query on it finishes.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What the warehouse file looked like: a load changes it.
pub type Stamp = Option<(SystemTime, u64)>;

pub fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

static COPIES: AtomicU64 = AtomicU64::new(0);

/// Copies the warehouse at `warehouse` into `folder` and opens the copy for
/// serving — unless its load log still says `current`, then `None`.
pub fn copy(
    warehouse: &Path,
    folder: &Path,
    wait: Duration,
    current: Option<&str>,
    functions: Functions,
    as_of: NaiveDate,
    limits: &SqlConfig,
) -> Result<Option<Served>> {
    fs_err::create_dir_all(folder)?;
    let path = folder.join(format!(
        "served-{}-{}.duckdb",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    let made = make_copy(warehouse, &path, wait, current, &limits.memory_limit);
    let version = match made {
        Ok(Some(version)) => version,
        Ok(None) => {
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        Err(error) => {
            let _ = std::fs::remove_file(&path);
            return Err(error);
        }
    };
    open(path, version, functions, as_of, limits, wait).map(Some)
}

/// Opens a copy made by [`copy`] for serving.
fn open(
    path: PathBuf,
    version: String,
    functions: Functions,
    as_of: NaiveDate,
    limits: &SqlConfig,
    wait: Duration,
) -> Result<Served> {
    let analyst = sql::open(&path, wait, Some(functions.clone()), limits)?;
    let viewer = sql::open_functions_only(&analyst, functions, limits)?;
    Ok(Served {
        version,
        as_of,
        analyst: Mutex::new(analyst),
        viewer: Mutex::new(viewer),
        path,
    })
}

/// The copy itself: the warehouse attached read-only, its load log read,
/// and, when it differs from `current`, every canonical table copied (the
/// people's tables empty). The version it copied, or `None`.
fn make_copy(
    warehouse: &Path,
    path: &Path,
    wait: Duration,
    current: Option<&str>,
    memory_limit: &str,
) -> Result<Option<String>> {
    let conn = Connection::open(path).map_err(Error::query("create the served copy"))?;
    conn.execute_batch(&format!("SET memory_limit = '{memory_limit}'"))
        .map_err(Error::query("create the served copy"))?;
    warehouse::attach_read_only(&conn, warehouse, "wh", wait)?;
    let version = load_version(&conn)?;
    if current == Some(version.as_str()) {
        return Ok(None);
    }
    let mut script = String::from("BEGIN;\n");
    for table in model::TABLES {
        let name = table.name;
        let rows = if PEOPLE.contains(&name) {
            " LIMIT 0"
        } else {
            ""
        };
        script.push_str(&format!(
            "CREATE TABLE main.\"{name}\" AS SELECT * FROM wh.\"{name}\"{rows};\n"
        ));
    }
    script.push_str("COMMIT;\nDETACH wh;\nCHECKPOINT;\n");
    conn.execute_batch(&script)
        .map_err(Error::query("copy the warehouse for serving"))?;
    Ok(Some(version))
}

/// The load log's count and last time: a new load changes it.
fn load_version(conn: &Connection) -> Result<String> {
    conn.query_row(
        "SELECT count(*)::VARCHAR || ' loads, last ' || coalesce(max(loaded_at)::VARCHAR, 'never') FROM wh._opskpi_loads",
        [],
        |row| row.get::<_, String>(0),
    )
    .map_err(Error::query("read the warehouse's load log"))
}
