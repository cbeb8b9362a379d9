//! PostgreSQL tables and queries through the `postgres` client. Every column
//! is read as PostgreSQL's own text form (`numeric` keeps all its digits,
//! dates are ISO, `timestamptz` carries its offset), so the value readers
//! treat a database exactly like a file. With a watermark column, only rows
//! past the last loaded value are read, in watermark order.
//!
//! The connection string comes from an environment variable or the config
//! and is never printed: errors name the table or query, never the URL.

use std::fmt::Write as _;

use duckdb::Connection;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use sha2::{Digest, Sha256};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::tls::{self, SslMode};
use super::{append_table, appended, Raw};
use crate::config::{PostgresSource, Source};
use crate::error::{Error, Result};

/// What a PostgreSQL read brought besides the rows.
pub struct Read {
    pub raw: Raw,
    /// Names the source in the load log: `postgres:crm.customers`.
    pub identity: String,
    /// Of the rows' text, to skip an unchanged table.
    pub sha256: String,
    /// The highest watermark value read, as text.
    pub watermark: Option<String>,
}

/// `name` as a quoted identifier, `schema.table` as two.
fn quote_path(name: &str) -> String {
    name.split('.')
        .map(|part| format!("\"{}\"", part.trim().replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The source's name for messages and the load log.
pub fn identity(pg: &PostgresSource) -> String {
    match (&pg.table, &pg.query) {
        (Some(table), _) => format!("postgres:{table}"),
        (None, Some(query)) => {
            let digest = Sha256::digest(query.as_bytes());
            format!("postgres:query:{:x}", digest)[..30].to_string()
        }
        (None, None) => "postgres".into(),
    }
}

fn url(pg: &PostgresSource, source: &Source) -> Result<String> {
    match (&pg.url_env, &pg.url) {
        (Some(variable), _) => std::env::var(variable).map_err(|_| {
            Error::config_hint(
                format!("`{}`: the environment variable `{variable}` is not set", source.describe()),
                format!("set `{variable}` to the connection string, e.g. `postgres://user:password@host/db`"),
            )
        }),
        (None, Some(url)) => Ok(url.clone()),
        (None, None) => Err(Error::config("a postgres source needs `url_env` or `url`")),
    }
}

/// Why a connection failed: the server's or the client's words, or ours.
enum Connect {
    Postgres(postgres::Error),
    Opskpi(Error),
}

/// A client connected with the source's TLS mode (`tls`).
fn connect(pg: &PostgresSource, source: &Source) -> std::result::Result<Client, Connect> {
    let (url, url_mode, url_ca) =
        tls::split_tls_options(&url(pg, source).map_err(Connect::Opskpi)?);
    let mode = match pg.sslmode.as_deref().or(url_mode.as_deref()) {
        Some(mode) => SslMode::parse(mode).map_err(Connect::Opskpi)?,
        None => SslMode::Prefer,
    };
    let ca_file = pg.ca_file.clone().or(url_ca);
    let mut config: postgres::Config = url.parse().map_err(Connect::Postgres)?;
    config.ssl_mode(match mode {
        SslMode::Disable => postgres::config::SslMode::Disable,
        SslMode::Prefer => postgres::config::SslMode::Prefer,
        _ => postgres::config::SslMode::Require,
    });
    match tls::client_config(mode, ca_file.as_deref()).map_err(Connect::Opskpi)? {
        None => config.connect(NoTls),
        Some(tls) => config.connect(MakeRustlsConnect::new(tls)),
    }
    .map_err(Connect::Postgres)
}

/// A PostgreSQL error as words that cannot contain the connection string.
fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            // Connection errors: the kind and its I/O cause, never the parameters.
            let cause = std::error::Error::source(error)
                .map(|cause| format!(": {cause}"))
                .unwrap_or_default();
            format!("{error}{cause}")
        }
    }
}

pub fn read(
    conn: &Connection,
    source: &Source,
    name: &str,
    last_watermark: Option<&str>,
) -> Result<Read> {
    let pg = source.postgres.as_ref().expect("a postgres source");
    let shown = source.describe();
    let fail = |what: &str, error: postgres::Error| {
        Error::config_hint(
            format!("`{shown}`: {what}: {}", describe(&error)),
            "check the table or query, and that the server named by the connection string is reachable",
        )
    };
    let mut client = connect(pg, source).map_err(|error| match error {
        Connect::Postgres(error) => {
            let text = describe(&error);
            let hint = if text.contains("certificate") {
                "the server's certificate is not trusted for this name: give the authority that signed it with `ca_file`, and connect by a name the certificate holds (`sslmode = \"require\"` encrypts without checking)"
            } else if text.contains("TLS") || text.contains("tls") {
                "the server does not offer TLS: enable `ssl` on the server, or say `sslmode = \"disable\"` where clear text is acceptable"
            } else {
                "check that the server named by the connection string is reachable and the user and password are right"
            };
            Error::config_hint(format!("`{shown}`: cannot connect: {text}"), hint)
        }
        Connect::Opskpi(error) => error,
    })?;
    let inner = match (&pg.table, &pg.query) {
        (Some(table), _) => format!("SELECT * FROM {}", quote_path(table)),
        (None, Some(query)) => query.trim().trim_end_matches(';').to_string(),
        (None, None) => unreachable!("checked with the config"),
    };
    let described = client
        .prepare(&format!("SELECT * FROM ({inner}) AS q LIMIT 0"))
        .map_err(|e| fail("cannot read", e))?;
    let columns: Vec<(String, String)> = described
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_().name().to_string()))
        .collect();
    let headers: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
    let mut select = String::from("SELECT ");
    for (i, (column, _)) in columns.iter().enumerate() {
        if i > 0 {
            select.push_str(", ");
        }
        let _ = write!(select, "q.{}::text", quote(column));
    }
    let _ = write!(select, " FROM ({inner}) AS q");
    let mut params: Vec<String> = Vec::new();
    let watermark_index = match &pg.watermark {
        Some(column) => {
            let index = headers.iter().position(|h| h == column).ok_or_else(|| {
                Error::config_hint(
                    format!("`{shown}` has no watermark column `{column}`"),
                    format!("its columns are: {}", headers.join(", ")),
                )
            })?;
            let ty = &columns[index].1;
            if let Some(last) = last_watermark {
                // The type name is PostgreSQL's own; the value is a parameter.
                let _ = write!(
                    select,
                    " WHERE q.{} > $1::text::{}",
                    quote(column),
                    quote(ty)
                );
                params.push(last.to_string());
            }
            let _ = write!(select, " ORDER BY q.{}", quote(column));
            Some(index)
        }
        None => None,
    };
    let mut rows = client
        .query_raw(select.as_str(), params.iter())
        .map_err(|e| fail("cannot read", e))?;
    let mut hasher = Sha256::new();
    let mut values: Vec<(u64, Vec<Option<String>>)> = Vec::new();
    let mut watermark = last_watermark.map(str::to_string);
    while let Some(row) = rows.next().map_err(|e| fail("cannot read", e))? {
        let record: Vec<Option<String>> = (0..columns.len()).map(|i| row.get(i)).collect();
        for value in &record {
            hasher.update(value.as_deref().unwrap_or("\u{0}").as_bytes());
            hasher.update([0x1f]);
        }
        hasher.update([0x1e]);
        if let Some(index) = watermark_index {
            if let Some(value) = &record[index] {
                watermark = Some(value.clone());
            }
        }
        values.push((values.len() as u64 + 1, record));
    }
    let table = format!("{name}_raw");
    append_table(conn, &table, headers.len(), values.into_iter())?;
    let mut notes = vec![("source", shown.clone())];
    if let Some(column) = &pg.watermark {
        notes.push((
            "watermark",
            match last_watermark {
                Some(last) => format!("`{column}` after `{last}`"),
                None => format!("`{column}`, first load"),
            },
        ));
    }
    Ok(Read {
        raw: appended(&table, headers, "row", notes),
        identity: identity(pg),
        sha256: format!("{:x}", hasher.finalize()),
        watermark,
    })
}
