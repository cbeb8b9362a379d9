//! What drivers say that is not a question: `SET` of a session setting,
//! `BEGIN`/`COMMIT`, `SHOW transaction_isolation`, `DISCARD ALL`. They are
//! answered here, as PostgreSQL would, and never reach DuckDB — whose
//! configuration is locked anyway: a `SET memory_limit` is acknowledged and
//! changes nothing.

/// A statement answered without DuckDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// Acknowledged with this command tag (`SET`, `DISCARD ALL`, `RESET`).
    Done(&'static str),
    Begin,
    /// `COMMIT` or `ROLLBACK`: the tag.
    End(&'static str),
    /// `SHOW name`: one row, one column `name`, this value.
    Show(String, String),
}

/// The setting values a PostgreSQL 16 server would report, for the names
/// drivers and BI tools ask for.
pub(super) const SETTINGS: &[(&str, &str)] = &[
    ("transaction_isolation", "read committed"),
    ("transaction isolation level", "read committed"),
    ("default_transaction_isolation", "read committed"),
    ("transaction_read_only", "on"),
    ("default_transaction_read_only", "on"),
    ("server_version", "16.0"),
    ("server_version_num", "160000"),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("datestyle", "ISO, MDY"),
    ("intervalstyle", "postgres"),
    ("timezone", "UTC"),
    ("standard_conforming_strings", "on"),
    ("integer_datetimes", "on"),
    ("search_path", "main"),
    ("max_identifier_length", "63"),
    ("lc_collate", "C"),
    ("lc_ctype", "C"),
    ("application_name", ""),
    ("statement_timeout", "0"),
    ("extra_float_digits", "1"),
    ("is_superuser", "off"),
];

/// `Some` when `sql` is one of the statements answered here.
pub fn said(sql: &str) -> Option<Said> {
    let text = sql.trim().trim_end_matches(';').trim();
    if text.contains(';') {
        // More than one statement, perhaps: the door refuses it.
        return None;
    }
    let words: Vec<String> = text
        .split_whitespace()
        .take(4)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let first = words.first()?.as_str();
    match first {
        "set" | "reset" => {
            // `SET x TO …` touches only the session: nothing to keep. A
            // `SET` inside a query (a CTE) is no statement and not here.
            Some(Said::Done(if first == "set" { "SET" } else { "RESET" }))
        }
        "discard" => Some(Said::Done("DISCARD ALL")),
        // psycopg forgets its prepared statements after a rollback. The
        // protocol's own prepared statements stay with the connection
        // (pgwire's store), and go with it.
        "deallocate" => Some(Said::Done(if words.get(1).is_some_and(|w| w == "all") {
            "DEALLOCATE ALL"
        } else {
            "DEALLOCATE"
        })),
        "begin" | "start" => Some(Said::Begin),
        "commit" | "end" => Some(Said::End("COMMIT")),
        "rollback" | "abort" => Some(Said::End("ROLLBACK")),
        "show" => {
            let name = text[4..].trim().trim_matches('"').to_ascii_lowercase();
            let name = if name == "time zone" {
                "timezone".into()
            } else {
                name
            };
            let (key, value) = SETTINGS.iter().find(|(key, _)| *key == name)?;
            let column = if *key == "transaction isolation level" {
                "transaction_isolation"
            } else {
                key
            };
            Some(Said::Show(column.to_string(), value.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_statements_are_answered_here() {
        assert_eq!(said("SET extra_float_digits = 3"), Some(Said::Done("SET")));
        assert_eq!(said("set application_name = 'x';"), Some(Said::Done("SET")));
        assert_eq!(
            said("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED"),
            Some(Said::Done("SET"))
        );
        assert_eq!(said("BEGIN READ ONLY"), Some(Said::Begin));
        assert_eq!(said("DEALLOCATE ALL"), Some(Said::Done("DEALLOCATE ALL")));
        assert_eq!(said("commit"), Some(Said::End("COMMIT")));
        assert_eq!(
            said("SHOW TRANSACTION ISOLATION LEVEL"),
            Some(Said::Show(
                "transaction_isolation".into(),
                "read committed".into()
            ))
        );
        assert_eq!(
            said("show search_path"),
            Some(Said::Show("search_path".into(), "main".into()))
        );
        // DuckDB's own SHOW (tables) and every query go to the door.
        assert_eq!(said("SHOW TABLES"), None);
        assert_eq!(said("select 1"), None);
        assert_eq!(said("  "), None);
        assert_eq!(said("set x = 1; select * from sales"), None);
    }
}
