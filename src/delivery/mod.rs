//! Delivery: a run's reports to their readers' mailboxes and its fired
//! alerts to a chat channel or a mailbox — exactly once, as far as SMTP and
//! webhooks allow (neither takes an idempotency key, so an outbox in the
//! warehouse does it: `outbox.rs`).
//!
//! A deliver step reads the manifests the run's report step wrote (the
//! first page's highlights and red indicators in the report's words,
//! `report::summary`), picks each edition's recipients (`recipients.rs`),
//! writes one message per edition (`reports.rs` and `email.rs`, with the
//! templates `email.html.j2` and `email.txt.j2`) and hands it to the mail
//! server once per recipient (`smtp.rs`); a notify step posts the fired
//! alerts to a webhook (`webhook.rs`) and/or mails them (`alerts.rs`). Temporary failures are
//! retried (`retry.rs`); a recipient refused or a server not reached fails
//! the step, after every other recipient had their turn.

mod alerts;
pub mod email;
mod outbox;
pub mod recipients;
mod reports;
mod retry;
mod smtp;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{NaiveDateTime, TimeZone};
use lettre::message::Mailbox;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::export;
use crate::faults::Faults;
pub use alerts::{Alert, AlertRequest, Notice, NoticeAlert};
use email::{Addressing, Letter};
pub use outbox::{has_deliveries, query as deliveries_query};
use outbox::{Entry, Outbox, Record, Status};
pub use recipients::Recipients;
pub use reports::ReportRequest;
use retry::{Failure, Policy};

/// How a run delivers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mode {
    /// Write each message as a file beside the run's outputs; send nothing.
    pub dry_run: bool,
    /// Send again what an earlier run already sent.
    pub resend: bool,
}

/// One run's deliveries: the project, the run, where its files are.
pub struct Deliveries<'a> {
    pub config: &'a Config,
    pub pipeline: &'a str,
    pub run_id: i64,
    pub period: &'a str,
    pub as_of: chrono::NaiveDate,
    /// The run's output folder: the reports, and the messages of a dry run.
    pub out: &'a Path,
    pub mode: Mode,
    pub clock: &'a dyn Fn() -> NaiveDateTime,
    /// `after_delivery`: reached after each message a server accepted.
    pub faults: &'a Faults,
    /// Waits between retries (the tests' waits are short).
    pub sleep: &'a dyn Fn(Duration),
}

/// What a step delivered.
#[derive(Debug, Default)]
pub struct Tally {
    pub sent: usize,
    pub already_sent: usize,
    pub dry_run: usize,
    /// The messages written by a dry run.
    pub files: Vec<PathBuf>,
    /// Each recipient not served, with why.
    pub failed: Vec<String>,
}

impl Tally {
    pub fn message(&self) -> String {
        let mut parts = vec![format!("{} sent", self.sent)];
        if self.already_sent > 0 {
            parts.push(format!(
                "{} already sent by an earlier run (--resend sends again)",
                self.already_sent
            ));
        }
        if self.dry_run > 0 {
            parts.push(format!(
                "{} written as files, not sent (--dry-run)",
                self.dry_run
            ));
        }
        if !self.failed.is_empty() {
            parts.push(format!("{} failed", self.failed.len()));
        }
        parts.join(", ")
    }

    /// The tally, or the step's error naming every recipient not served.
    pub fn result(self) -> Result<Tally> {
        if self.failed.is_empty() {
            return Ok(self);
        }
        Err(Error::Delivery {
            message: format!("{}:\n  {}", self.message(), self.failed.join("\n  ")),
            hint: Some("fix the address or the server and run again: what was sent is not sent twice (`opskpi runs --run N` lists each delivery)".into()),
        })
    }
}

/// What a delivery is, whoever receives it: its outbox key before the
/// recipient.
struct Identity<'a> {
    what: &'static str,
    edition: String,
    language: &'a str,
    channel: &'static str,
    /// Anything else that makes it another message (the alerts fired).
    extra: String,
}

impl Deliveries<'_> {
    fn outbox(&self) -> Outbox {
        Outbox {
            path: self.config.warehouse_path(),
            wait: Duration::from_secs(self.config.warehouse.wait_seconds),
        }
    }

    fn policy(&self) -> Policy {
        Policy {
            retries: self.config.delivery.retries,
            first_wait: Duration::from_secs_f64(self.config.delivery.retry_wait_seconds),
        }
    }

    fn key(&self, identity: &Identity, recipient: &str) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.pipeline,
            self.period,
            identity.what,
            &identity.edition,
            identity.language,
            identity.channel,
            &identity.extra,
            recipient,
        ] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
        email::hex(&hash.finalize())
    }

    fn entry(
        &self,
        identity: &Identity,
        recipient: &str,
        subject: &str,
        message_id: &str,
        content: &str,
    ) -> Entry {
        Entry {
            run_id: self.run_id,
            key: self.key(identity, recipient),
            pipeline: self.pipeline.to_string(),
            period: self.period.to_string(),
            what: identity.what,
            edition: identity.edition.clone(),
            language: identity.language.to_string(),
            channel: identity.channel,
            recipient: recipient.to_string(),
            subject: subject.to_string(),
            message_id: message_id.to_string(),
            content_sha256: content.to_string(),
        }
    }

    /// The sender and reply-to of `[smtp]`.
    fn sender(&self) -> Result<(&crate::config::SmtpConfig, Mailbox, Option<Mailbox>)> {
        let smtp = self.config.smtp.as_ref().ok_or_else(|| {
            Error::config_hint(
                "email needs the project's mail server: `opskpi.toml` has no `[smtp]`",
                "add [smtp] with host, from and the login (docs/delivery.md)",
            )
        })?;
        let mailbox = |key: &str, text: &str| -> Result<Mailbox> {
            text.parse().map_err(|e| {
                Error::config_hint(
                    format!("`smtp.{key}` = `{text}` is not an address ({e})"),
                    "e.g. from = \"opskpi <reports@example.com.tw>\"",
                )
            })
        };
        let from = mailbox("from", &smtp.from)?;
        let reply_to = smtp
            .reply_to
            .as_deref()
            .map(|r| mailbox("reply_to", r))
            .transpose()?;
        Ok((smtp, from, reply_to))
    }

    fn date(&self) -> SystemTime {
        chrono::Local
            .from_local_datetime(&(self.clock)())
            .earliest()
            .map(SystemTime::from)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// Sends `letter` to `recipients` by email, each once.
    fn mail(
        &self,
        letter: &Letter,
        identity: &Identity,
        recipients: &[String],
        file: &str,
        tally: &mut Tally,
    ) -> Result<()> {
        let (smtp, from, reply_to) = self.sender()?;
        let rules = &self.config.delivery;
        let outbox = self.outbox();
        let content = letter.content_sha256();
        let message_id = email::message_id(&self.key(identity, ""), &content, &from);
        let entry = |recipient: &str| {
            self.entry(identity, recipient, &letter.subject, &message_id, &content)
        };
        // By address: "林經理 <gm@…>" and "gm@…" are one reader, with the
        // name; the outbox knows the address alone.
        let mut addresses: Vec<(Entry, Mailbox)> = Vec::new();
        let mut refused = Vec::new();
        for recipient in recipients {
            match recipients::check_address(recipient, rules) {
                Ok(mailbox) => {
                    let address = mailbox.email.to_string();
                    match addresses
                        .iter_mut()
                        .find(|(entry, _)| entry.recipient == address)
                    {
                        Some((_, known)) if known.name.is_none() => *known = mailbox,
                        Some(_) => {}
                        None => addresses.push((entry(&address), mailbox)),
                    }
                }
                Err(error) => {
                    tally.failed.push(format!("{recipient}: {error}"));
                    refused.push((entry(recipient), error.to_string()));
                }
            }
        }
        let records: Vec<Record> = refused
            .iter()
            .map(|(entry, error)| Record {
                entry,
                status: Status::Refused,
                attempts: 0,
                error: Some(error),
                file: None,
            })
            .collect();
        outbox.record_all(&records, (self.clock)())?;
        let to: Vec<Mailbox> = addresses
            .iter()
            .map(|(_, mailbox)| mailbox.clone())
            .collect();
        if to.is_empty() {
            return Ok(());
        }
        let bytes = letter.message(
            &Addressing {
                from: &from,
                reply_to: reply_to.as_ref(),
                to: &to,
            },
            &message_id,
            self.date(),
        )?;
        if self.mode.dry_run {
            let path = self.out.join(format!("{file}.eml"));
            export::write_file(&path, &bytes)?;
            let shown = path.display().to_string();
            let records: Vec<Record> = addresses
                .iter()
                .map(|(entry, _)| Record {
                    entry,
                    status: Status::DryRun,
                    attempts: 0,
                    error: None,
                    file: Some(&shown),
                })
                .collect();
            outbox.record_all(&records, (self.clock)())?;
            tally.dry_run += addresses.len();
            tally.files.push(path);
            return Ok(());
        }
        let addresses = self.unsent(&outbox, addresses, tally)?;
        if addresses.is_empty() {
            return Ok(());
        }
        let mailer = smtp::Mailer::new(self.config, smtp, from.email.clone())?;
        for (entry, mailbox) in &addresses {
            self.once(&outbox, entry, tally, || {
                mailer.send(&mailbox.email, &bytes)
            })?;
        }
        Ok(())
    }

    /// Those of `items` no earlier run sent (all with `--resend`); the
    /// others are recorded `already_sent`, in one look-up and one write.
    fn unsent<T>(
        &self,
        outbox: &Outbox,
        items: Vec<(Entry, T)>,
        tally: &mut Tally,
    ) -> Result<Vec<(Entry, T)>> {
        if self.mode.resend {
            return Ok(items);
        }
        let keys: Vec<&str> = items.iter().map(|(entry, _)| entry.key.as_str()).collect();
        let sent = outbox.sent_by(&keys)?;
        let (done, todo): (Vec<_>, Vec<_>) = items
            .into_iter()
            .partition(|(entry, _)| sent.contains_key(&entry.key));
        let notes: Vec<String> = done
            .iter()
            .map(|(entry, _)| format!("sent by run {}", sent[&entry.key]))
            .collect();
        let records: Vec<Record> = done
            .iter()
            .zip(&notes)
            .map(|((entry, _), note)| Record {
                entry,
                status: Status::AlreadySent,
                attempts: 0,
                error: Some(note),
                file: None,
            })
            .collect();
        outbox.record_all(&records, (self.clock)())?;
        tally.already_sent += done.len();
        Ok(todo)
    }

    /// Delivers `entry`: recorded `sending`, tried with retries, then
    /// `sent` or `failed`.
    fn once(
        &self,
        outbox: &Outbox,
        entry: &Entry,
        tally: &mut Tally,
        mut send: impl FnMut() -> std::result::Result<(), Failure>,
    ) -> Result<()> {
        let now = || (self.clock)();
        outbox.record(entry, Status::Sending, 0, None, None, now())?;
        let mut recorded = Ok(());
        let (attempts, failure) = self.policy().run(
            &mut send,
            |n| {
                if n > 1 && recorded.is_ok() {
                    recorded = outbox.attempted(entry, n);
                }
            },
            self.sleep,
        );
        recorded?;
        match failure {
            None => {
                outbox.record(entry, Status::Sent, attempts, None, None, now())?;
                tally.sent += 1;
                self.faults.at("after_delivery")?;
            }
            Some(failure) => {
                let reason = match &failure {
                    Failure::Temporary { reason, .. } => {
                        format!("{reason} (still failing after {attempts} attempts)")
                    }
                    Failure::Permanent(reason) => reason.clone(),
                };
                outbox.record(entry, Status::Failed, attempts, Some(&reason), None, now())?;
                tally.failed.push(format!("{}: {reason}", entry.recipient));
            }
        }
        Ok(())
    }
}
