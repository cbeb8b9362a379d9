//! How many statements a text holds, by DuckDB's own parser — not a split
//! on `;` of ours, which quotes, comments and dollar-quoted strings would
//! fool. The text is only parsed, on a private in-memory database of its
//! own (one for the process): nothing is bound, run or read.

use std::ffi::CString;
use std::ptr;
use std::sync::Mutex;

use duckdb::ffi;

/// Whether DuckDB's parser reads more than one statement in `text`. A text
/// it cannot parse is one statement here: running it gives DuckDB's own
/// parse error.
pub fn more_than_one(text: &str) -> bool {
    count(text).is_some_and(|count| count > 1)
}

/// A private in-memory database and a connection to it, opened once for
/// the process (opening one is milliseconds; a parse is microseconds).
struct Parser {
    database: ffi::duckdb_database,
    connection: ffi::duckdb_connection,
}

// SAFETY: the handles are only used under `PARSER`'s lock, one call at a
// time, and DuckDB's handles may move between threads.
unsafe impl Send for Parser {}

static PARSER: Mutex<Option<Parser>> = Mutex::new(None);

impl Parser {
    fn open() -> Option<Parser> {
        // SAFETY: the C API's open and connect on handles created here; on
        // failure what was opened is closed again.
        unsafe {
            let mut database: ffi::duckdb_database = ptr::null_mut();
            if ffi::duckdb_open(ptr::null(), &mut database) != ffi::DuckDBSuccess {
                return None;
            }
            let mut connection: ffi::duckdb_connection = ptr::null_mut();
            if ffi::duckdb_connect(database, &mut connection) != ffi::DuckDBSuccess {
                ffi::duckdb_close(&mut database);
                return None;
            }
            Some(Parser {
                database,
                connection,
            })
        }
    }
}

impl Drop for Parser {
    fn drop(&mut self) {
        // SAFETY: the handles `open` made, closed once.
        unsafe {
            ffi::duckdb_disconnect(&mut self.connection);
            ffi::duckdb_close(&mut self.database);
        }
    }
}

/// The statements of `text`; `None` when it does not parse (or holds a NUL).
pub fn count(text: &str) -> Option<usize> {
    let text = CString::new(text).ok()?;
    let mut parser = PARSER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if parser.is_none() {
        *parser = Parser::open();
    }
    let parser = parser.as_ref()?;
    // SAFETY: extract and its destroy in a pair, on the parser's connection
    // (held under the lock) and `text`, which outlives the calls.
    unsafe {
        let mut extracted: ffi::duckdb_extracted_statements = ptr::null_mut();
        let statements =
            ffi::duckdb_extract_statements(parser.connection, text.as_ptr(), &mut extracted);
        ffi::duckdb_destroy_extracted(&mut extracted);
        (statements > 0).then_some(statements as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_counted_by_duckdb_s_parser() {
        assert_eq!(count("select 1"), Some(1));
        assert_eq!(count("select 1;"), Some(1));
        assert_eq!(count("select 1; select 2"), Some(2));
        // A `;` inside a string, a quoted name or a comment splits nothing.
        assert_eq!(count("select ';' as \"a;b\" -- ; select 2"), Some(1));
        assert_eq!(count("select $$;$$"), Some(1));
        // The subquery trick: one text, three statements once wrapped.
        let trick = "select 1); create temp table t as select 42; select * from (select 1";
        assert_eq!(count(&format!("SELECT * FROM (\n{trick}\n)")), Some(3));
        assert!(more_than_one(&format!("SELECT * FROM (\n{trick}\n)")));
        // What does not parse is left to DuckDB's own error.
        assert_eq!(count("selec 1"), None);
        assert!(!more_than_one("selec 1"));
    }
}
