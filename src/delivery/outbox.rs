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

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDateTime;
use duckdb::{params, Connection};

use crate::error::{Error, Result};
use crate::warehouse::{self, Access};

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

/// The warehouse the outbox lives in.
pub struct Outbox {
    pub path: PathBuf,
    pub wait: Duration,
}

impl Outbox {
    /// A short read-write connection of its own per write, so readers of
    /// the warehouse wait at most that long.
    fn write<T>(&self, what: &str, f: impl FnOnce(&Connection) -> duckdb::Result<T>) -> Result<T> {
        let conn = warehouse::connect(&self.path, Access::ReadWrite, self.wait, &[])?;
        conn.execute_batch(SCHEMA).map_err(Error::query("outbox"))?;
        f(&conn).map_err(Error::query(format!("outbox: {what}")))
    }

    /// The run that already sent `key`, if one did.
    pub fn sent_by(&self, key: &str) -> Result<Option<i64>> {
        self.write("look-up", |conn| {
            conn.query_row(
                "SELECT max(run_id) FROM _opskpi_deliveries WHERE delivery_key = ? AND status = 'sent'",
                [key],
                |row| row.get(0),
            )
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
        self.write("record", |conn| {
            conn.execute(
                "DELETE FROM _opskpi_deliveries WHERE run_id = ? AND delivery_key = ?",
                params![entry.run_id, entry.key],
            )?;
            conn.execute(
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
                    attempts as i32,
                    error,
                    file,
                    at
                ],
            )?;
            Ok(())
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
