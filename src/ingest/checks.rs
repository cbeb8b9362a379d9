//! The checks that need a whole staged file rather than one row: values
//! naming unknown rows of other tables, and keys repeated within the file
//! under the source's policy; then the counts of rows set aside, where each
//! one is in the source, and why, in words precise enough to act on.

use duckdb::Connection;

use super::filter::LEFT_OUT;
use super::mapping::Origin;
use super::read::Lines;
use super::stage::{Problem, Rule, RuleKind, Stage};
use super::values;
use crate::config::DuplicatePolicy;
use crate::error::{Error, Result};
use crate::model::ColumnType;

impl Stage {
    /// Adds a rule for a whole-file check, returning its code.
    fn add_rule(&mut self, kind: RuleKind, column: &'static str, message: String) -> usize {
        self.rules.push(Rule {
            kind,
            column,
            file_column: column.to_string(),
            ty: None,
            message,
        });
        self.rules.len()
    }

    /// Marks rows naming an unknown row of another table, where that table
    /// holds rows (in the warehouse or staged in this run).
    pub fn check_references(
        &mut self,
        conn: &Connection,
        staged: &[(&'static str, String)],
    ) -> Result<()> {
        for reference in self.table.references {
            let mut sources = vec![format!(
                "SELECT {} AS k FROM {}",
                reference.key, reference.table
            )];
            for (table, stage) in staged {
                if *table == reference.table {
                    sources.push(format!(
                        "SELECT {} FROM {stage} WHERE _problem IS NULL",
                        reference.key
                    ));
                }
            }
            let union = sources.join(" UNION ALL ");
            let known: i64 = conn
                .query_row(&format!("SELECT count(*) FROM ({union})"), [], |row| {
                    row.get(0)
                })
                .map_err(Error::query("check references"))?;
            if known == 0 {
                continue;
            }
            let code = self.add_rule(
                RuleKind::Reference,
                reference.column,
                format!(
                    "names no known row of `{}` (`{}`)",
                    reference.table, reference.key
                ),
            );
            conn.execute(
                &format!(
                    "UPDATE {stage} SET _problem = {code}, _bad = {column} WHERE _problem IS NULL \
                     AND {column} IS NOT NULL AND {column} NOT IN (SELECT k FROM ({union}))",
                    stage = self.name,
                    column = reference.column
                ),
                [],
            )
            .map_err(Error::query("check references"))?;
        }
        Ok(())
    }

    /// Applies the source's policy to rows repeating a natural key; returns
    /// how many rows repeat one, and the first repeated pair (as row indexes).
    pub fn check_duplicates(
        &mut self,
        conn: &Connection,
        policy: DuplicatePolicy,
    ) -> Result<(u64, Option<(u64, u64)>)> {
        // Keys seen in order while staged: no repeat to look for (rows set
        // aside since are fewer, not more).
        if self.keys_unique {
            return Ok((0, None));
        }
        let keys = self.table.key.join(", ");
        let stage = self.name.clone();
        let repeated = format!(
            "SELECT s.rowid AS r, count(*) OVER w AS n, row_number() OVER (w ORDER BY s.rowid DESC) AS k, \
             min(s.rowid) OVER w AS first_r \
             FROM {stage} s SEMI JOIN (SELECT {keys} FROM {stage} WHERE _problem IS NULL GROUP BY ALL HAVING count(*) > 1) d USING ({keys}) \
             WHERE s._problem IS NULL WINDOW w AS (PARTITION BY {})",
            self.table.key.iter().map(|k| format!("s.{k}")).collect::<Vec<_>>().join(", ")
        );
        let (count, first): (i64, Option<i64>) = conn
            .query_row(
                &format!("SELECT count(*), min(r) FILTER (WHERE r <> first_r) FROM ({repeated})"),
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(Error::query("check keys"))?;
        if count == 0 {
            return Ok((0, None));
        }
        let pair = match first {
            Some(second) => {
                let first: i64 = conn
                    .query_row(
                        &format!("SELECT first_r FROM ({repeated}) WHERE r = ?"),
                        [second],
                        |row| row.get(0),
                    )
                    .map_err(Error::query("check keys"))?;
                Some((first as u64, second as u64))
            }
            None => None,
        };
        let (kind, which, message) = match policy {
            DuplicatePolicy::KeepLast => (
                RuleKind::Superseded,
                "k > 1",
                format!("repeats the key ({keys}) of a later row, which was kept"),
            ),
            _ => (
                RuleKind::DuplicateKey,
                "true",
                format!("repeats the key ({keys}) of another row"),
            ),
        };
        let code = self.add_rule(kind, self.table.key[0], message);
        let key_text = self
            .table
            .key
            .iter()
            .map(|k| format!("CAST({k} AS VARCHAR)"))
            .collect::<Vec<_>>()
            .join(" || ', ' || ");
        conn.execute(
                &format!(
                    "UPDATE {stage} SET _problem = {code}, _bad = {key_text} WHERE rowid IN (SELECT r FROM ({repeated}) WHERE {which})"
                ),
                [],
            )
            .map_err(Error::query("check keys"))?;
        Ok((count as u64, pair))
    }

    /// Rows set aside, by rule, with the first row of each.
    pub fn problems(&self, conn: &Connection) -> Result<Vec<Problem>> {
        let mut statement = conn
            .prepare(&format!(
                "SELECT _problem, count(*), min(rowid) FROM {} WHERE _problem > 0 GROUP BY 1 ORDER BY 3",
                self.name
            ))
            .map_err(Error::query("count problems"))?;
        let rows = statement
            .query_map([], |row| {
                Ok(Problem {
                    rule: row.get::<_, i64>(0)? as usize,
                    count: row.get::<_, i64>(1)? as u64,
                    first_row: row.get::<_, i64>(2)? as u64,
                })
            })
            .map_err(Error::query("count problems"))?;
        rows.collect::<duckdb::Result<_>>()
            .map_err(Error::query("count problems"))
    }

    /// Numbers `sales.line_no` when the source generates it (`generate =
    /// "per_order"`): each line's position within its order among the rows
    /// kept, in file order (the stage's rows are in file order). Whether it
    /// did.
    pub fn generate_line_numbers(&self, conn: &Connection) -> Result<bool> {
        let Some(line_no) = self
            .mapped
            .iter()
            .find(|m| m.origin == Origin::Generated)
            .map(|m| m.column.name)
        else {
            return Ok(false);
        };
        conn.execute_batch(&format!(
            "UPDATE {stage} SET {line_no} = g.n FROM (SELECT rowid AS r, \
             row_number() OVER (PARTITION BY order_id ORDER BY rowid) AS n \
             FROM {stage} WHERE _problem IS DISTINCT FROM {LEFT_OUT}) g WHERE {stage}.rowid = g.r",
            stage = self.name
        ))
        .map_err(Error::query("number the lines of each order"))?;
        Ok(true)
    }

    /// Says in the load log and the dry run what the source's filter left
    /// out, what was rounded, and that line numbers were generated.
    pub fn note_reading(&mut self) {
        let (left_out, rounded) = (self.left_out, self.rounded);
        if !self.filters.is_empty() {
            self.raw.notes.push((
                "filter",
                format!(
                    "{left_out} rows left out by the source's filter ({})",
                    self.filters.join(" and ")
                ),
            ));
        }
        if self.rounding {
            self.raw.notes.push((
                "decimals",
                format!("{rounded} values rounded from float artifacts (within 1e-9 of the column's decimals)"),
            ));
        }
        if self.mapped.iter().any(|m| m.origin == Origin::Generated) {
            self.raw.notes.push((
                "line_no",
                "generated: each line's position within its order, in file order".into(),
            ));
        }
    }

    /// SQL giving a stage row's place in the source, from the row's index
    /// `row` and its `_line` column `line` (where the reader gives one).
    pub fn line_sql(&self, row: &str, line: &str) -> String {
        match self.raw.lines {
            Lines::Column => line.into(),
            Lines::Offset(offset) => {
                // Rows the reader refused shift the lines of the rows after them.
                let mut shifts: Vec<u64> = Vec::new();
                for (j, reject) in self.raw.rejects.iter().enumerate() {
                    shifts.push(reject.line.saturating_sub(offset).saturating_sub(j as u64));
                }
                let shift = shifts
                    .iter()
                    .map(|t| format!("(CASE WHEN {row} >= {t} THEN 1 ELSE 0 END)"))
                    .collect::<Vec<_>>();
                if shift.is_empty() {
                    format!("({row} + {offset})")
                } else {
                    format!("({row} + {offset} + {})", shift.join(" + "))
                }
            }
        }
    }

    /// The place and shown value of stage row `row`.
    pub fn row_detail(&self, conn: &Connection, row: u64) -> Result<(u64, Option<String>)> {
        conn.query_row(
            &format!(
                "SELECT {}, _bad FROM {} WHERE rowid = ?",
                self.line_sql("rowid", "_line"),
                self.name
            ),
            [row as i64],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
        )
        .map_err(Error::query("problem detail"))
    }

    /// The reason a value broke `rule`, as precisely as the value readers
    /// can say it, with a hint where there is an obvious fix.
    pub fn reason(&self, rule: &Rule, value: Option<&str>) -> (String, Option<String>) {
        let Some(value) = value else {
            return (rule.message.clone(), None);
        };
        let order_hint = || {
            Some("state the order in the source: `dates = \"mdy\"`, `\"dmy\"` or `\"roc\"` (Republic of China years)".to_string())
        };
        match (rule.kind, rule.ty) {
            (RuleKind::Type, Some(ColumnType::Date)) => match values::parse_date(value, self.dates)
            {
                Err(problem) if problem.contains("could be") || problem.contains("two-digit") => {
                    (problem, order_hint())
                }
                _ => (
                    rule.message.clone(),
                    Some("write dates as YYYY-MM-DD, YYYY/M/D or ROC 115/10/03".into()),
                ),
            },
            (RuleKind::Type, Some(ColumnType::Month)) => {
                match values::parse_month(value, self.dates) {
                    Err(problem) => (format!("{}; {problem}", rule.message), order_hint()),
                    Ok(_) => (rule.message.clone(), None),
                }
            }
            (
                RuleKind::Type,
                Some(
                    ColumnType::Decimal(_)
                    | ColumnType::DecimalRange(..)
                    | ColumnType::Integer
                    | ColumnType::IntRange(..),
                ),
            ) => match values::parse_number(value) {
                Err(problem) => (
                    format!("{}; {problem}", rule.message),
                    Some(
                        "write numbers with `.` for decimals; `,` may only separate thousands"
                            .into(),
                    ),
                ),
                Ok(_) => (rule.message.clone(), None),
            },
            _ => (rule.message.clone(), None),
        }
    }
}
