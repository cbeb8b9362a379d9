//! Every pipeline run recorded in the warehouse: `_opskpi_runs` (one row
//! per run: pipeline, period, start, end, status, exit code, error, the
//! process) and `_opskpi_run_steps` (one row per step: timings, status,
//! the files it wrote as a JSON array, its message). Each write is a short
//! read-write connection of its own, so readers wait at most that long.
//! A run killed before it finished stays `running` until the next run
//! finds its process gone and marks it `abandoned`.

use std::path::Path;
use std::time::Duration;

use chrono::NaiveDateTime;
use duckdb::{params, Connection};

use crate::config::Config;
use crate::delivery;
use crate::error::{Error, Result};
use crate::export::Written;
use crate::jobs::{self, AnswerOptions};
use crate::sql;
use crate::warehouse;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS _opskpi_runs (
    run_id BIGINT NOT NULL,
    pipeline VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,
    exit_code INTEGER,
    error VARCHAR,
    pid BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS _opskpi_run_steps (
    run_id BIGINT NOT NULL,
    step INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    seconds DOUBLE NOT NULL,
    status VARCHAR NOT NULL,
    outputs VARCHAR NOT NULL,
    message VARCHAR
);
";

/// The warehouse a pipeline records its runs in.
pub struct History<'a> {
    pub path: &'a Path,
    pub wait: Duration,
}

/// A step as recorded.
pub struct StepRecord<'a> {
    pub step: usize,
    pub kind: &'a str,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    pub seconds: f64,
    pub status: &'a str,
    pub outputs: &'a [String],
    pub message: Option<&'a str>,
}

impl History<'_> {
    fn write<T>(&self, what: &str, f: impl FnOnce(&Connection) -> duckdb::Result<T>) -> Result<T> {
        warehouse::short_write(
            self.path,
            self.wait,
            SCHEMA,
            &format!("run history: {what}"),
            f,
        )
    }

    /// Records a run as started; returns its id. Runs an earlier process
    /// left `running` and that process is gone are marked `abandoned`.
    pub fn start(
        &self,
        pipeline: &str,
        file: &str,
        period: &str,
        as_of: chrono::NaiveDate,
        started_at: NaiveDateTime,
    ) -> Result<i64> {
        let pid = std::process::id() as i64;
        self.write("start", |conn| {
            let running: Vec<(i64, i64)> = conn
                .prepare("SELECT run_id, pid FROM _opskpi_runs WHERE status = 'running'")?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<duckdb::Result<_>>()?;
            for (run, owner) in running {
                if owner != pid && !process_alive(owner) {
                    conn.execute(
                        "UPDATE _opskpi_runs SET status = 'abandoned', error = 'the process ended before the run finished' WHERE run_id = ?",
                        [run],
                    )?;
                }
            }
            let id: i64 = conn.query_row(
                "SELECT coalesce(max(run_id), 0) + 1 FROM _opskpi_runs",
                [],
                |row| row.get(0),
            )?;
            conn.execute(
                "INSERT INTO _opskpi_runs (run_id, pipeline, file, period, as_of, started_at, status, pid) VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",
                params![id, pipeline, file, period, as_of, started_at, pid],
            )?;
            Ok(id)
        })
    }

    pub fn step(&self, run: i64, record: &StepRecord) -> Result<()> {
        let outputs = serde_json::to_string(record.outputs).expect("strings serialise");
        self.write("step", |conn| {
            conn.execute(
                "INSERT INTO _opskpi_run_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![
                    run,
                    record.step as i64,
                    record.kind,
                    record.started_at,
                    record.finished_at,
                    record.seconds,
                    record.status,
                    outputs,
                    record.message
                ],
            )?;
            Ok(())
        })
    }

    pub fn finish(
        &self,
        run: i64,
        finished_at: NaiveDateTime,
        status: &str,
        exit_code: u8,
        error: Option<&str>,
    ) -> Result<()> {
        self.write("finish", |conn| {
            conn.execute(
                "UPDATE _opskpi_runs SET finished_at = ?, status = ?, exit_code = ?, error = ? WHERE run_id = ?",
                params![finished_at, status, exit_code as i32, error, run],
            )?;
            Ok(())
        })
    }
}

/// Whether process `pid` still runs: on Unix, whether a signal could be
/// sent to it (`kill(pid, 0)`, which sends none); elsewhere assumed gone, so
/// a killed run is never left `running` for good (on Windows a run still
/// going is marked abandoned when another starts: docs/guide.md says so).
fn process_alive(pid: i64) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: kill(2) with signal 0 checks the process only.
        let result = unsafe { libc::kill(pid, 0) };
        result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

/// What `opskpi runs` says when no pipeline has run: not an error.
pub const NO_RUNS: &str = "no pipeline has run on this warehouse yet; `opskpi run PIPELINE.toml` runs one (docs/guide.md: Pipelines and alerts)";

/// What `opskpi runs` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The latest runs.
    Runs { last: usize },
    /// One run's steps; on a terminal its deliveries below them.
    Steps { run: i64 },
    /// One run's deliveries (`--deliveries`).
    Deliveries { run: i64 },
}

/// The pipeline runs recorded in the configured warehouse (latest first),
/// or one run's steps or deliveries, written as `answer` says; `None` when
/// no pipeline has run yet (an empty history, which `--run N` cannot be
/// found in).
pub fn runs(config: &Config, listing: Listing, answer: &AnswerOptions) -> Result<Option<Written>> {
    let path = jobs::existing_path(config)?;
    let door = sql::open(&path, jobs::wait(config), None, &config.sql)?;
    let run = match listing {
        Listing::Runs { .. } => None,
        Listing::Steps { run } | Listing::Deliveries { run } => Some(run),
    };
    if !has_runs(door.connection())? {
        return match run {
            None => Ok(None),
            Some(id) => Err(Error::config_hint(
                format!("there is no run {id}: no pipeline has run on this warehouse yet"),
                "`opskpi run PIPELINE.toml` runs one (docs/guide.md: Pipelines and alerts)",
            )),
        };
    }
    let export = |query: &str| {
        door.export(
            query,
            &[],
            answer.format,
            answer.out.as_deref(),
            answer.limit,
        )
    };
    let has_deliveries = delivery::has_deliveries(door.connection())?;
    match listing {
        Listing::Runs { last } => export(&runs_query(None, last)).map(Some),
        Listing::Deliveries { run } if has_deliveries => export(&delivery::deliveries_query(run)).map(Some),
        Listing::Deliveries { run } => Err(Error::config_hint(
            format!("run {run} delivered nothing: no pipeline of this warehouse has a deliver or notify step that ran"),
            "`opskpi runs --run N` lists the run's steps",
        )),
        Listing::Steps { run } => {
            let written = export(&runs_query(Some(run), 0))?;
            let on_terminal = answer.format == crate::export::ExportFormat::Table && answer.out.is_none();
            if on_terminal && has_deliveries && delivered(door.connection(), run)? {
                println!("\ndeliveries of run {run}:");
                export(&delivery::deliveries_query(run))?;
            }
            Ok(Some(written))
        }
    }
}

/// Whether run `run` recorded a delivery.
fn delivered(conn: &Connection, run: i64) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM _opskpi_deliveries WHERE run_id = ?",
        [run],
        |row| row.get(0),
    )
    .map_err(Error::query("run history"))
}

pub fn runs_query(run: Option<i64>, last: usize) -> String {
    match run {
        Some(id) => format!(
            "SELECT step, kind, strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started_at, round(seconds, 3) AS seconds, status, \
             replace(replace(replace(replace(outputs, '[\"', ''), '\"]', ''), '\",\"', chr(10)), '[]', '') AS outputs, message \
             FROM _opskpi_run_steps WHERE run_id = {id} ORDER BY step"
        ),
        None => format!(
            "SELECT r.run_id, r.pipeline, r.period, r.as_of, strftime(r.started_at, '%Y-%m-%d %H:%M:%S') AS started_at, \
             round(epoch(r.finished_at - r.started_at), 3) AS seconds, r.status, r.exit_code, \
             (SELECT count(*) FROM _opskpi_run_steps s WHERE s.run_id = r.run_id) AS steps, r.error \
             FROM _opskpi_runs r ORDER BY r.run_id DESC LIMIT {last}"
        ),
    }
}

/// Whether the warehouse has recorded any run (the tables exist).
pub fn has_runs(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = '_opskpi_runs'",
        [],
        |row| row.get(0),
    )
    .map_err(Error::query("run history"))
}
