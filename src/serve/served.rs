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
//! A scoped user's copy holds only their scope's rows (`scopes.rs`): one
//! copy per scope in use, made at the same time as the company's.
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

use std::collections::{BTreeMap, BTreeSet};

use super::catalogue::{self, rewrite};
use super::{scopes, views};
use crate::config::{Role, Scope, ServeUser, SqlConfig};
use crate::error::{Error, Result};
use crate::sql::{self, Door, Functions, KpiCache};
use crate::{model, warehouse};

/// The tables of the assessment, served only to the hr role: in every
/// other copy they are empty, so that indicators over them say n/a.
const PEOPLE: [&str; 2] = ["employees", "evaluations"];

/// Whose copy: a scope's (`None` the whole company), and whether it holds
/// the assessment's tables (the hr role's, never scoped).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Audience {
    pub scope: Option<Scope>,
    pub people: bool,
}

impl Audience {
    pub fn of(user: &ServeUser) -> Result<Audience> {
        Ok(Audience {
            scope: user.scope()?,
            people: user.role == Role::Hr,
        })
    }
}

/// The copies served at one time: the company's and each scope's in use,
/// all of one load of the warehouse.
pub struct Copies {
    pub version: String,
    pub as_of: NaiveDate,
    pub scopes: BTreeSet<Audience>,
    by_scope: BTreeMap<Audience, Served>,
}

impl Copies {
    /// Nothing served yet (no user).
    pub fn none(as_of: NaiveDate) -> Copies {
        Copies {
            version: String::new(),
            as_of,
            scopes: BTreeSet::new(),
            by_scope: BTreeMap::new(),
        }
    }

    /// A door of its own for one query `sql` of `user` with `role` in
    /// `scope`, and the query as it runs there.
    pub fn door(
        &self,
        scope: &Audience,
        role: Role,
        user: &str,
        sql: &str,
    ) -> Result<(Door, String)> {
        self.by_scope
            .get(scope)
            .ok_or_else(|| {
                Error::config_hint("this user's copy is being made", "try again in a moment")
            })?
            .door(role, user, sql)
    }
}

/// What copies are made from and opened with.
pub struct Making<'a> {
    pub warehouse: &'a Path,
    pub folder: &'a Path,
    pub wait: Duration,
    pub functions: &'a Functions,
    pub as_of: NaiveDate,
    pub limits: &'a SqlConfig,
    /// `kpi_monthly`'s months.
    pub months: u32,
    /// The saved queries served as views (`views::saved`).
    pub saved: &'a [(String, String)],
}

/// Copies the warehouse for each of `scopes` (`None` the whole company) —
/// unless its load log still says `current`, then `None`.
pub fn copy_all(
    making: &Making,
    current: Option<&str>,
    scopes: &BTreeSet<Audience>,
) -> Result<Option<Copies>> {
    let as_of = making.as_of;
    let mut by_scope = BTreeMap::new();
    let mut version: Option<String> = None;
    for scope in scopes {
        let unless = if version.is_none() { current } else { None };
        let made = copy(making, unless, scope)?;
        let Some(served) = made else {
            return Ok(None);
        };
        version.get_or_insert_with(|| served.version.clone());
        by_scope.insert(scope.clone(), served);
    }
    Ok(Some(Copies {
        version: version.unwrap_or_default(),
        as_of,
        scopes: scopes.clone(),
        by_scope,
    }))
}

/// A copy being served, with the doors onto it.
pub struct Served {
    /// What the warehouse's load log said when it was copied.
    pub version: String,
    /// Doors are one connection each (not shared between threads): each
    /// query forks its own from these.
    analyst: Mutex<Door>,
    viewer: Mutex<Door>,
    /// The views a door can have (`kpi_monthly`, saved queries): name and
    /// the statement that makes it.
    views: Vec<(String, String)>,
    path: PathBuf,
}

impl Served {
    /// A door of its own for one query `sql` of `user` with `role`, with
    /// the views the query names (all of them, and the catalogue, when it
    /// reads the catalogue), and the query as it runs there.
    pub fn door(&self, role: Role, user: &str, sql: &str) -> Result<(Door, String)> {
        let door = match role {
            Role::Analyst | Role::Hr => &self.analyst,
            Role::Viewer => &self.viewer,
        };
        let mut door = door
            .lock()
            .map_err(|_| Error::Internal("a served door was poisoned".into()))?
            .fork()?;
        let names = rewrite::names(sql);
        let reads_catalogue = catalogue::named(&names);
        let mut setup: Vec<String> = self
            .views
            .iter()
            .filter(|(name, _)| role != Role::Viewer || name == "kpi_monthly")
            .filter(|(name, _)| {
                reads_catalogue || names.iter().any(|n| n.eq_ignore_ascii_case(name))
            })
            .map(|(_, statement)| statement.clone())
            .collect();
        if reads_catalogue {
            setup.push(catalogue::setup(user));
        }
        if !setup.is_empty() {
            door.set_up(setup.join(";\n"))?;
        }
        let sql = if reads_catalogue {
            rewrite::rewrite(sql)
        } else {
            sql.to_string()
        };
        Ok((door, sql))
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

/// Copies the warehouse (its `scope`'s rows) into the folder and opens the
/// copy for serving — unless its load log still says `current`, then
/// `None`.
fn copy(making: &Making, current: Option<&str>, audience: &Audience) -> Result<Option<Served>> {
    fs_err::create_dir_all(making.folder)?;
    let path = making.folder.join(format!(
        "served-{}-{}.duckdb",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    let made = make_copy(
        making.warehouse,
        &path,
        making.wait,
        current,
        audience,
        &making.limits.memory_limit,
    );
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
    open(path, version, making).map(Some)
}

/// Opens a copy made by [`copy`] for serving, with `kpi_monthly` on its
/// doors (computed now, once: the copy's kept answers serve it after).
fn open(path: PathBuf, version: String, making: &Making) -> Result<Served> {
    // The copy never changes: kpi()'s answers are kept for its life.
    let functions = Functions {
        cache: Some(KpiCache::default()),
        ..making.functions.clone()
    };
    let (limits, wait) = (making.limits, making.wait);
    let analyst = sql::open(&path, wait, Some(functions.clone()), limits)?;
    let viewer = sql::open_functions_only(&analyst, functions.clone(), limits)?;
    // The views are made on a query's own door when the query names them
    // (kpi_monthly's binds every indicator: not for every query); each is
    // tried once here so that a failure is logged (and kpi_monthly's
    // answers kept).
    let mut views = Vec::new();
    let wanted = std::iter::once((
        "kpi_monthly".to_string(),
        views::kpi_monthly(&functions, making.months),
    ))
    .chain(making.saved.iter().cloned());
    for (name, statement) in wanted {
        match analyst
            .fork()
            .and_then(|mut door| door.set_up(statement.clone()))
        {
            Ok(()) => views.push((name, statement)),
            Err(error) => super::wire::log(&format!("{name} is not served: {error}")),
        }
    }
    Ok(Served {
        version,
        analyst: Mutex::new(analyst),
        viewer: Mutex::new(viewer),
        views,
        path,
    })
}

/// The copy itself: the warehouse attached read-only, its load log read,
/// and, when it differs from `current`, every canonical table copied — for
/// a scope only its rows (`scopes.rs`), the people's tables empty. The
/// version it copied, or `None`.
fn make_copy(
    warehouse: &Path,
    path: &Path,
    wait: Duration,
    current: Option<&str>,
    audience: &Audience,
    memory_limit: &str,
) -> Result<Option<String>> {
    let scope = audience.scope.as_ref();
    let conn = Connection::open(path).map_err(Error::query("create the served copy"))?;
    conn.execute_batch(&format!("SET memory_limit = '{memory_limit}'"))
        .map_err(Error::query("create the served copy"))?;
    warehouse::attach_read_only(&conn, warehouse, "wh", wait)?;
    let version = load_version(&conn)?;
    if current == Some(version.as_str()) {
        return Ok(None);
    }
    let failed = Error::query("copy the warehouse for serving");
    conn.execute_batch("BEGIN")
        .map_err(Error::query("copy the warehouse for serving"))?;
    for name in scopes::ORDER {
        debug_assert!(model::table(name).is_some());
        let empty = format!("SELECT * FROM wh.\"{name}\" LIMIT 0");
        let select = match scope {
            None if PEOPLE.contains(&name) && !audience.people => empty,
            None => format!("SELECT * FROM wh.\"{name}\""),
            Some(scope) => scopes::select(name, scope).unwrap_or(empty),
        };
        let create = format!("CREATE TABLE main.\"{name}\" AS {select}");
        let done = match scope {
            Some(scope) if select.contains("$1") => conn.execute(&create, [scope.value.as_str()]),
            _ => conn.execute(&create, []),
        };
        if let Err(error) = done {
            return Err(Error::query(format!("copy `{name}` for serving"))(error));
        }
    }
    conn.execute_batch("COMMIT; DETACH wh; CHECKPOINT;")
        .map_err(failed)?;
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
