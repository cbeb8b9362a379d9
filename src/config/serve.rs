//! `[serve]`: where `opskpi serve` listens, its certificate, and its users —
//! each with a SCRAM verifier (never a password), a role and optionally a
//! scope.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[serve]`: the PostgreSQL-protocol server over the warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Address and port: `127.0.0.1:5433` (this machine only) by default.
    pub listen: String,
    /// The server's certificate chain and its private key (PEM).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Without TLS: allowed only when `listen` is a loopback address.
    pub plaintext_on_loopback: bool,
    /// How often the warehouse is looked at for a new load (seconds).
    pub refresh_seconds: u64,
    /// The most rows a viewer's query answers (the rest is cut, with a
    /// notice).
    pub viewer_row_limit: u64,
    /// How long SIGTERM waits for running queries before cancelling them.
    pub grace_seconds: u64,
    /// The most queries running at once, all users together; the next
    /// waits for one to finish (more than the machine's cores only adds
    /// memory: each running query holds its buffers).
    pub max_running: u32,
    /// The months `kpi_monthly` holds, ending with the last complete one.
    pub months: u32,
    /// The folder of the served copies (default: beside the warehouse,
    /// `<warehouse>.serve`).
    pub folder: Option<PathBuf>,
    pub users: BTreeMap<String, ServeUser>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: "127.0.0.1:5433".into(),
            tls_cert: None,
            tls_key: None,
            plaintext_on_loopback: false,
            refresh_seconds: 5,
            viewer_row_limit: 100_000,
            grace_seconds: 10,
            max_running: 8,
            months: 13,
            folder: None,
            users: BTreeMap::new(),
        }
    }
}

/// `[serve.users.NAME]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeUser {
    /// `SCRAM-SHA-256$<iterations>:<salt>$<stored key>:<server key>`, as
    /// `opskpi serve passwd NAME` prints it (PostgreSQL's own format).
    pub verifier: String,
    pub role: Role,
    /// Only these rows: `{ region = "北區" }`, `{ channel = "online" }` or
    /// `{ store = "S01" }`. None: the whole company.
    #[serde(default)]
    pub scope: Option<BTreeMap<String, String>>,
}

/// A part of the company a user sees alone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub kind: ScopeKind,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeKind {
    Region,
    Channel,
    Store,
}

impl ScopeKind {
    pub fn name(self) -> &'static str {
        match self {
            ScopeKind::Region => "region",
            ScopeKind::Channel => "channel",
            ScopeKind::Store => "store",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.name(), self.value)
    }
}

impl ServeUser {
    /// The user's scope, `None` for the whole company.
    pub fn scope(&self) -> Result<Option<Scope>> {
        let Some(scope) = &self.scope else {
            return Ok(None);
        };
        let mut entries = scope.iter();
        let (Some((key, value)), None) = (entries.next(), entries.next()) else {
            return Err(Error::config_hint(
                format!("a scope names {} keys", scope.len()),
                "a scope is one of region, channel or store: scope = { region = \"北區\" }",
            ));
        };
        let kind = match key.as_str() {
            "region" => ScopeKind::Region,
            "channel" => ScopeKind::Channel,
            "store" => ScopeKind::Store,
            other => {
                return Err(Error::config_hint(
                    format!("`{other}` is not a scope"),
                    "a scope is one of region, channel or store: scope = { region = \"北區\" }",
                ))
            }
        };
        Ok(Some(Scope {
            kind,
            value: value.clone(),
        }))
    }
}

/// What a user may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read-only SQL over everything served.
    Analyst,
    /// The indicator relations only: no raw rows.
    Viewer,
    /// An analyst who also reads the assessment's tables (`employees`,
    /// `evaluations`), served to no other role; never scoped.
    Hr,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
            Role::Hr => "hr",
        }
    }
}

impl ServeConfig {
    /// The host part of `listen` and whether it is this machine only.
    pub fn loopback(&self) -> bool {
        let host = match self.listen.rsplit_once(':') {
            Some((host, _)) => host,
            None => self.listen.as_str(),
        };
        super::is_loopback(host)
    }

    /// Refuses what cannot serve safely: no TLS off this machine, half a
    /// certificate pair, a user name a client could not send.
    pub fn check(&self) -> Result<()> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(Error::config_hint(
                    "`serve.tls_cert` and `serve.tls_key` go together",
                    "give both the certificate chain and its private key (PEM files)",
                ))
            }
            (None, None) if !(self.plaintext_on_loopback && self.loopback()) => {
                return Err(Error::config_hint(
                    format!("`opskpi serve` needs TLS to listen on `{}`", self.listen),
                    if self.loopback() {
                        "give `serve.tls_cert` and `serve.tls_key`, or, on this machine only, `plaintext_on_loopback = true`"
                    } else {
                        "give `serve.tls_cert` and `serve.tls_key` (PEM files): passwords and data never cross a network in the clear"
                    },
                ))
            }
            _ => {}
        }
        if !(1..=120).contains(&self.months) {
            return Err(Error::config_hint(
                format!("`serve.months` is {}", self.months),
                "give the months kpi_monthly holds, 1 to 120 (13: a year and its month a year back)",
            ));
        }
        if self.refresh_seconds == 0 {
            return Err(Error::config_hint(
                "`serve.refresh_seconds` is 0",
                "give how often the warehouse is looked at for a new load, e.g. 5",
            ));
        }
        for (name, user) in &self.users {
            if name.is_empty() || name.len() > 63 || name.chars().any(char::is_control) {
                return Err(Error::config_hint(
                    format!("`serve.users.{name}`: a user name of 1 to 63 printable characters"),
                    "e.g. [serve.users.ana]",
                ));
            }
            user.scope().map_err(|error| match error {
                Error::Config { message, hint } => Error::Config {
                    message: format!("`serve.users.{name}.scope`: {message}"),
                    hint,
                },
                other => other,
            })?;
            if user.role == Role::Hr && user.scope.is_some() {
                return Err(Error::config_hint(
                    format!("`serve.users.{name}`: the hr role reads the whole company's people and cannot have a scope"),
                    "remove the scope, or give the user the analyst role",
                ));
            }
        }
        Ok(())
    }
}
