//! How many statements a text holds, by DuckDB's own parser — not a split
//! on `;` of ours, which quotes, comments and dollar-quoted strings would
//! fool. The text is only parsed, on a private in-memory database of its
//! own: nothing is bound, run or read.

use std::ffi::CString;
use std::ptr;

use duckdb::ffi;

/// Whether DuckDB's parser reads more than one statement in `text`. A text
/// it cannot parse is one statement here: running it gives DuckDB's own
/// parse error.
pub fn more_than_one(text: &str) -> bool {
    count(text).is_some_and(|count| count > 1)
}

/// The statements of `text`; `None` when it does not parse (or holds a NUL).
pub fn count(text: &str) -> Option<usize> {
    let text = CString::new(text).ok()?;
    // SAFETY: the C API's open, connect, extract and their destroy calls in
    // pairs, on handles this function creates and owns; every pointer passed
    // is either one of those handles or `text`, which outlives the calls.
    unsafe {
        let mut database: ffi::duckdb_database = ptr::null_mut();
        if ffi::duckdb_open(ptr::null(), &mut database) != ffi::DuckDBSuccess {
            return None;
        }
        let mut connection: ffi::duckdb_connection = ptr::null_mut();
        let mut counted = None;
        if ffi::duckdb_connect(database, &mut connection) == ffi::DuckDBSuccess {
            let mut extracted: ffi::duckdb_extracted_statements = ptr::null_mut();
            let statements =
                ffi::duckdb_extract_statements(connection, text.as_ptr(), &mut extracted);
            if statements > 0 {
                counted = Some(statements as usize);
            }
            ffi::duckdb_destroy_extracted(&mut extracted);
            ffi::duckdb_disconnect(&mut connection);
        }
        ffi::duckdb_close(&mut database);
        counted
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
