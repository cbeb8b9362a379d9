//! The data-quality appendix: what was loaded (tables, rows, the dates they
//! cover, files, load time), what was refused or set aside, and the gaps
//! that make an indicator n/a — in the report's language. The pipeline
//! gathers the facts from the warehouse's load log and `opskpi check`; this
//! module only words them.

use serde::Serialize;

use super::language::Language;
use crate::check::Finding;
use crate::locale;
use crate::warehouse::{Coverage, LoadedFile, SetAside};

/// The facts the appendix words, gathered by the pipeline.
#[derive(Debug, Clone, Default)]
pub struct Quality {
    pub files: Vec<LoadedFile>,
    pub coverage: Vec<Coverage>,
    pub set_aside: Vec<SetAside>,
    /// `opskpi check`'s findings: gaps, stale tables, missing columns.
    pub findings: Vec<Finding>,
}

/// A plain table: header and rows of text.
#[derive(Debug, Serialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A sentence, with an identifier shown as code after it (a column name).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub code: String,
}

#[derive(Debug, Serialize)]
pub struct Appendix {
    pub loaded: Table,
    pub set_aside: Table,
    pub gaps: Vec<Note>,
    /// Tables never loaded, with what each would add.
    pub not_loaded: Vec<Note>,
    /// Every highlight, when the first page shows only the first ones.
    pub highlights: Vec<super::highlights::Highlight>,
}

/// A canonical table's name in the report's language.
fn table_name(lang: &Language, table: &str) -> String {
    let key = format!("table_{table}");
    if lang.messages.has(&key) {
        lang.messages.text(&key)
    } else {
        table.to_string()
    }
}

/// Words the facts; `period_gaps` are the gaps of the period the report
/// found in its own rows (a region without market data).
pub fn appendix(lang: &Language, quality: &Quality, period_gaps: Vec<Note>) -> Appendix {
    let words = |keys: &[&str]| keys.iter().map(|k| lang.messages.text(k)).collect();
    let na = lang.locale.not_available();
    let loaded = Table {
        columns: words(&[
            "col_table",
            "col_rows",
            "col_from",
            "col_to",
            "col_files",
            "col_loaded_at",
        ]),
        rows: quality
            .coverage
            .iter()
            .map(|coverage| {
                let files: Vec<&LoadedFile> = quality
                    .files
                    .iter()
                    .filter(|f| f.table == coverage.table)
                    .collect();
                let last_load = files
                    .iter()
                    .map(|f| f.loaded_at.as_str())
                    .max()
                    .unwrap_or(na);
                vec![
                    table_name(lang, coverage.table),
                    locale::grouped(rust_decimal::Decimal::from(coverage.rows), 0),
                    coverage
                        .first
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "—".into()),
                    coverage
                        .last
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "—".into()),
                    files.len().to_string(),
                    last_load.to_string(),
                ]
            })
            .collect(),
    };
    let set_aside = Table {
        columns: words(&["col_table", "col_file", "col_rule", "col_rows"]),
        rows: quality
            .set_aside
            .iter()
            .map(|row| {
                let rule = format!("rule_{}", row.rule);
                vec![
                    table_name(lang, &row.table),
                    row.file.clone(),
                    if lang.messages.has(&rule) {
                        lang.messages.text(&rule)
                    } else {
                        row.rule.clone()
                    },
                    locale::grouped(rust_decimal::Decimal::from(row.rows), 0),
                ]
            })
            .collect(),
    };
    let mut gaps = Vec::new();
    for finding in &quality.findings {
        let table = table_name(lang, &finding.table);
        let count = finding.count.to_string();
        let examples = finding
            .examples
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let (key, code) = match (finding.kind, finding.subject.as_str()) {
            ("gap", "day") => ("gap_day", ""),
            ("gap", _) => ("gap_month", ""),
            ("stale", _) => ("stale", ""),
            ("missing_column", column) => ("missing_column", column),
            _ => continue,
        };
        gaps.push(Note {
            text: lang.messages.fill(
                key,
                &[
                    ("table", &table),
                    ("count", &count),
                    ("examples", &examples),
                    ("newest", &finding.subject),
                    ("days", &count),
                ],
            ),
            code: code.to_string(),
        });
    }
    gaps.extend(period_gaps);
    Appendix {
        loaded,
        set_aside,
        gaps,
        not_loaded: Vec::new(),
        highlights: Vec::new(),
    }
}
