//! The outbox: every delivery recorded in the warehouse, so that each
//! message goes out once. `_opskpi_deliveries` holds one row per run and
//! recipient (an address, or the environment variable naming a webhook —
//! never its address, which holds a secret): what was sent, its
//! `Message-ID` and content hash, its status and attempts.
//!
//! A row is written `sending` before the first attempt and `sent` only
//! once the server accepted the message (SMTP 250, HTTP 2xx); a later run
//! skips every key already `sent`. A process killed between the server's
//! acceptance and that write leaves `sending`, and the next run sends
//! again: the one case where a reader may get a message twice (the same
//! `Message-ID`, which many mail systems fold into one).
//!
//! Two runs that deliver at once (two schedulers, a person and cron) would
//! both find a key not yet sent: a step delivers only while it holds the
//! outbox's lease, an advisory lock on a file beside the warehouse that
//! the operating system drops when the process ends, however it ends.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDateTime;
use duckdb::{params, Connection};

use crate::error::{Error, Result};
use crate::warehouse;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS _opskpi_deliveries (
    run_id BIGINT NOT NULL,
    delivery_key VARCHAR NOT NULL,
    pipeline VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    what VARCHAR NOT NULL,
    edition VARCHAR NOT NULL,
    language VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    recipient VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    message_id VARCHAR NOT NULL,
    content_sha256 VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    error VARCHAR,
    file VARCHAR,
    updated_at TIMESTAMP NOT NULL
);
";

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Handed to the server; not yet accepted.
    Sending,
    /// The server accepted it.
    Sent,
    /// Refused, or not reached within the retries.
    Failed,
    /// Sent by an earlier run: not sent again.
    AlreadySent,
    /// Written as a file instead of sent (`--dry-run`).
    DryRun,
    /// Refused before sending: outside the allowed domains.
    Refused,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::AlreadySent => "already_sent",
            Status::DryRun => "dry_run",
            Status::Refused => "refused",
        }
    }
}

/// One message to one recipient, as recorded.
#[derive(Debug, Clone)]
pub struct Entry {
    pub run_id: i64,
    pub key: String,
    pub pipeline: String,
    pub period: String,
    /// `report` or `alerts`.
    pub what: &'static str,
    /// `company`, `region:北區`, …; empty for alerts.
    pub edition: String,
    pub language: String,
    /// `email` or `webhook`.
    pub channel: &'static str,
    pub recipient: String,
    pub subject: String,
    pub message_id: String,
    pub content_sha256: String,
}

/// A row to record: `entry` with its status.
pub struct Record<'a> {
    pub entry: &'a Entry,
    pub status: Status,
    pub attempts: u32,
    pub error: Option<&'a str>,
    pub file: Option<&'a str>,
}

/// The warehouse the outbox lives in.
pub struct Outbox {
    pub path: PathBuf,
    pub wait: Duration,
}

/// The outbox held by this process: while alive, no other opskpi run
/// delivers through the same warehouse.
pub struct Lease(#[allow(dead_code)] std::fs::File);

impl Outbox {
    /// `warehouse.duckdb.deliveries.lock`.
    pub fn lease_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".deliveries.lock");
        self.path.with_file_name(name)
    }

    /// Takes the lease, waiting up to the warehouse's wait for a run that
    /// is delivering.
    pub fn lease(&self) -> Result<Lease> {
        let path = self.lease_path();
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        let file = file.into_parts().0;
        let started = std::time::Instant::now();
        while !try_lock(&file) {
            if started.elapsed() >= self.wait {
                return Err(Error::Delivery {
                    message: format!(
                        "another opskpi run is delivering through this warehouse (`{}` is held); waited {} s",
                        path.display(),
                        self.wait.as_secs()
                    ),
                    hint: Some("run again when it has finished: it records what it sent, and this run sends only the rest (or raise warehouse.wait_seconds)".into()),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Lease(file))
    }

    /// A short write of its own (`warehouse::short_write`).
    fn write<T>(&self, what: &str, f: impl FnOnce(&Connection) -> duckdb::Result<T>) -> Result<T> {
        warehouse::short_write(&self.path, self.wait, SCHEMA, &format!("outbox: {what}"), f)
    }

    /// The runs that already sent each of `keys`, by key, in one look-up.
    pub fn sent_by(&self, keys: &[&str]) -> Result<BTreeMap<String, i64>> {
        if keys.is_empty() {
            return Ok(BTreeMap::new());
        }
        self.write("look-up", |conn| {
            let list = vec!["?"; keys.len()].join(", ");
            let mut statement = conn.prepare(&format!(
                "SELECT delivery_key, max(run_id) FROM _opskpi_deliveries \
                 WHERE status = 'sent' AND delivery_key IN ({list}) GROUP BY delivery_key"
            ))?;
            let rows = statement.query_map(duckdb::params_from_iter(keys), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
            rows.collect()
        })
    }

    /// Records `entry` with `status` (a new row of this run).
    pub fn record(
        &self,
        entry: &Entry,
        status: Status,
        attempts: u32,
        error: Option<&str>,
        file: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<()> {
        self.record_all(
            &[Record {
                entry,
                status,
                attempts,
                error,
                file,
            }],
            at,
        )
    }

    /// Records each of `records` (new rows of this run), in one write.
    pub fn record_all(&self, records: &[Record], at: NaiveDateTime) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.write("record", |conn| {
            let tx = conn.unchecked_transaction()?;
            for Record {
                entry,
                status,
                attempts,
                error,
                file,
            } in records
            {
                tx.execute(
                    "DELETE FROM _opskpi_deliveries WHERE run_id = ? AND delivery_key = ?",
                    params![entry.run_id, entry.key],
                )?;
                tx.execute(
                    "INSERT INTO _opskpi_deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        entry.run_id,
                        entry.key,
                        entry.pipeline,
                        entry.period,
                        entry.what,
                        entry.edition,
                        entry.language,
                        entry.channel,
                        entry.recipient,
                        entry.subject,
                        entry.message_id,
                        entry.content_sha256,
                        status.name(),
                        *attempts as i32,
                        error,
                        file,
                        at
                    ],
                )?;
            }
            tx.commit()
        })
    }

    /// Updates the attempts of `entry`'s row of this run.
    pub fn attempted(&self, entry: &Entry, attempts: u32) -> Result<()> {
        self.write("attempt", |conn| {
            conn.execute(
                "UPDATE _opskpi_deliveries SET attempts = ? WHERE run_id = ? AND delivery_key = ?",
                params![attempts as i32, entry.run_id, entry.key],
            )?;
            Ok(())
        })
    }
}

/// Takes the file's advisory lock, exclusively, without waiting.
#[cfg(unix)]
fn try_lock(file: &std::fs::File) -> bool {
    // SAFETY: flock on an open descriptor the caller owns; the lock goes
    // with the descriptor when it closes or the process ends.
    unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(file),
            libc::LOCK_EX | libc::LOCK_NB,
        ) == 0
    }
}

/// Off Unix there is no lease: concurrent runs are the scheduler's to avoid.
#[cfg(not(unix))]
fn try_lock(_file: &std::fs::File) -> bool {
    true
}

/// The deliveries of run `run`, for `opskpi runs --run N`.
pub fn query(run: i64) -> String {
    format!(
        "SELECT what, edition, language, channel, recipient, status, attempts, message_id, \
         left(content_sha256, 12) AS content, error, file \
         FROM _opskpi_deliveries WHERE run_id = {run} ORDER BY what DESC, edition, language, channel, recipient"
    )
}

/// Whether the warehouse has recorded any delivery (the table exists).
pub fn has_deliveries(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = '_opskpi_deliveries'",
        [],
        |row| row.get(0),
    )
    .map_err(Error::query("outbox"))
}
