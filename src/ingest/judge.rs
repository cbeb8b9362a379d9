//! Judging a staged file: counting its bad rows, refusing it above its
//! threshold with the first bad row named (file, row, place, column, value,
//! hint), and describing what loading it does — for the load report and the
//! dry run.

use std::path::Path;

use super::stage::{Problem, RuleKind, Stage};
use super::{LoadOutcome, ProblemSummary};
use crate::config::Source;
use crate::error::{BadData, Error, Result};

/// Counts the file's bad rows, refuses it above its threshold, and
/// describes what loading it does.
pub(super) fn judge(
    conn: &duckdb::Connection,
    stage: &Stage,
    source: &Source,
    file: &Path,
    duplicates: u64,
    pair: Option<(u64, u64)>,
    dry_run: bool,
) -> Result<LoadOutcome> {
    let problems = stage.problems(conn)?;
    let rejects = stage.raw.rejects.len() as u64;
    let rows = stage.rows + rejects;
    let superseded: u64 = problems
        .iter()
        .filter(|p| stage.rules[p.rule - 1].kind == RuleKind::Superseded)
        .map(|p| p.count)
        .sum();
    let bad = problems.iter().map(|p| p.count).sum::<u64>() - superseded + rejects;
    let summaries = summaries(conn, stage, &problems)?;
    if source.max_bad_rows.exceeded(bad, rows) {
        let mut error = first_bad_row(conn, stage, file, &problems, pair)?;
        let limit = source.max_bad_rows;
        error.message = format!(
            "{}; {bad} of {rows} rows are bad, more than the source allows ({limit}), so the file is refused",
            error.message
        );
        if error.hint.is_none() {
            error.hint = Some("fix the file, or raise `max_bad_rows` for the source to load the good rows and quarantine the rest".into());
        }
        return Err(Error::data(error));
    }
    let preview = if dry_run {
        preview(conn, stage)?
    } else {
        Vec::new()
    };
    Ok(LoadOutcome {
        rows,
        loaded: rows - bad - superseded - stage.left_out,
        quarantined: bad,
        superseded,
        left_out: stage.left_out,
        rounded: stage.rounded,
        duplicates,
        problems: summaries,
        preview,
        ..described(stage, file)
    })
}

/// Each kind of bad row with the first of its kind: unreadable rows, then
/// each rule's.
fn summaries(
    conn: &duckdb::Connection,
    stage: &Stage,
    problems: &[Problem],
) -> Result<Vec<ProblemSummary>> {
    let mut summaries = Vec::new();
    for reject in &stage.raw.rejects {
        summaries.push(ProblemSummary {
            rule: RuleKind::Unreadable.name(),
            column: String::new(),
            count: 1,
            line: reject.line,
            value: reject.value.clone(),
            message: reject.message.clone(),
        });
    }
    for problem in problems {
        let rule = &stage.rules[problem.rule - 1];
        let (line, value) = stage.row_detail(conn, problem.first_row)?;
        let (message, _) = stage.reason(rule, value.as_deref());
        summaries.push(ProblemSummary {
            rule: rule.kind.name(),
            column: rule.file_column.clone(),
            count: problem.count,
            line,
            value,
            message,
        });
    }
    Ok(summaries)
}

/// The earliest bad row of a refused file — an unreadable one, or one that
/// broke a rule — as the error: file, row, place, column, value.
fn first_bad_row(
    conn: &duckdb::Connection,
    stage: &Stage,
    file: &Path,
    problems: &[Problem],
    pair: Option<(u64, u64)>,
) -> Result<BadData> {
    let first = problems
        .iter()
        .filter(|p| stage.rules[p.rule - 1].kind != RuleKind::Superseded)
        .min_by_key(|p| p.first_row);
    let first_line = match first {
        Some(problem) => Some(stage.row_detail(conn, problem.first_row)?.0),
        None => None,
    };
    let reject = stage
        .raw
        .rejects
        .first()
        .filter(|reject| first_line.is_none_or(|line| reject.line < line));
    Ok(match (reject, first) {
        (Some(reject), _) => {
            let mut bad = BadData::file(file, reject.message.clone(), Some("check that row's separators and quotes: a value containing the separator must be in double quotes".into()));
            bad.line = Some(reject.line);
            bad.place = stage.raw.line_word;
            bad
        }
        (None, Some(problem)) => broken_rule(conn, stage, file, problem, pair)?,
        (None, None) => BadData::file(file, "the file has bad rows".into(), None),
    })
}

/// A row that broke a rule, as an error; a repeated key is shown at its
/// second row, naming the first.
fn broken_rule(
    conn: &duckdb::Connection,
    stage: &Stage,
    file: &Path,
    problem: &Problem,
    pair: Option<(u64, u64)>,
) -> Result<BadData> {
    let rule = &stage.rules[problem.rule - 1];
    let shown_row = match (rule.kind, pair) {
        (RuleKind::DuplicateKey, Some((_, second))) => second,
        _ => problem.first_row,
    };
    let (line, value) = stage.row_detail(conn, shown_row)?;
    let (reason, hint) = stage.reason(rule, value.as_deref());
    let more = if problem.count > 1 {
        format!(" ({} more rows like it)", problem.count - 1)
    } else {
        String::new()
    };
    let message = match rule.kind {
        RuleKind::DuplicateKey => {
            let keys = stage.table.key.join(", ");
            let (first_row, _) = pair.unwrap_or((0, 0));
            format!("repeats the key ({keys}) of row {}{more}", first_row + 1)
        }
        _ => format!("{reason} for `{}.{}`{more}", stage.table.name, rule.column),
    };
    Ok(BadData {
        file: file.to_path_buf(),
        row: Some(shown_row + 1),
        line: Some(line),
        place: stage.raw.line_word,
        column: Some(rule.file_column.clone()),
        value: value.or(Some(String::new())),
        message,
        hint,
    })
}

/// What loading the file is, before any count: its table, what the reader
/// detected, and where each canonical column comes from.
pub(super) fn described(stage: &Stage, file: &Path) -> LoadOutcome {
    let headers = stage.raw.headers();
    LoadOutcome {
        unchanged: false,
        notes: stage
            .raw
            .notes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        mapping: stage
            .mapped
            .iter()
            .map(|m| (m.column.name.to_string(), m.origin.describe(&headers)))
            .collect(),
        place: stage.raw.line_word,
        ..LoadOutcome::unchanged(stage.table.name, file)
    }
}

/// The first rows that would load, as text.
fn preview(conn: &duckdb::Connection, stage: &Stage) -> Result<Vec<Vec<String>>> {
    let columns: Vec<String> = stage
        .table
        .columns
        .iter()
        .map(|c| format!("coalesce(CAST({} AS VARCHAR), '')", c.name))
        .collect();
    let mut statement = conn
        .prepare(&format!(
            "SELECT {} FROM {} WHERE _problem IS NULL ORDER BY rowid LIMIT 5",
            columns.join(", "),
            stage.name
        ))
        .map_err(Error::query("preview"))?;
    let width = columns.len();
    let rows = statement
        .query_map([], |row| {
            (0..width)
                .map(|i| row.get::<_, String>(i))
                .collect::<duckdb::Result<Vec<_>>>()
        })
        .map_err(Error::query("preview"))?;
    rows.collect::<duckdb::Result<_>>()
        .map_err(Error::query("preview"))
}
