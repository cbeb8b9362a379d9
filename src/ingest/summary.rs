//! What `opskpi ingest` prints about a load: a line per file, and with
//! `--dry-run` what was detected, where each column comes from, the first
//! rows as they would load and every problem.

use comfy_table::{presets, Table};

use super::LoadOutcome;

/// What `opskpi ingest` prints: a line per file, and with `--dry-run` the
/// mapping, what was detected, the first rows as read, and every problem.
pub fn summary(outcomes: &[LoadOutcome], dry_run: bool) -> String {
    let mut out = String::new();
    for outcome in outcomes {
        let file = outcome.file.display();
        if outcome.unchanged {
            out.push_str(&format!(
                "{:<20} {file}  unchanged, skipped\n",
                outcome.table
            ));
            continue;
        }
        let verb = if dry_run { "would load" } else { "loaded" };
        out.push_str(&format!(
            "{:<20} {file}  {} rows: {verb} {}",
            outcome.table, outcome.rows, outcome.loaded
        ));
        if !dry_run {
            out.push_str(&format!(" ({} replaced)", outcome.replaced));
        }
        if outcome.quarantined > 0 {
            out.push_str(&format!(", quarantined {}", outcome.quarantined));
        }
        if outcome.left_out > 0 {
            out.push_str(&format!(
                ", {} rows left out by the source's filter",
                outcome.left_out
            ));
        }
        if outcome.rounded > 0 {
            out.push_str(&format!(
                ", {} values rounded from float artifacts",
                outcome.rounded
            ));
        }
        if outcome.superseded > 0 {
            out.push_str(&format!(
                ", {} superseded by a later row with the same key",
                outcome.superseded
            ));
        } else if outcome.duplicates > 0 {
            out.push_str(&format!(", {} repeat a key", outcome.duplicates));
        }
        out.push('\n');
        let missing: Vec<&str> = outcome
            .mapping
            .iter()
            .filter(|(_, origin)| origin == "not in the source")
            .map(|(column, _)| column.as_str())
            .collect();
        if !dry_run && !missing.is_empty() {
            // Indicators that need these columns will say n/a.
            out.push_str(&format!("  not in the source: {}\n", missing.join(", ")));
        }
        if dry_run {
            for (what, value) in &outcome.notes {
                out.push_str(&format!("  {what}: {value}\n"));
            }
            out.push_str("  columns:\n");
            for (column, origin) in &outcome.mapping {
                out.push_str(&format!("    {column:<20} ← {origin}\n"));
            }
            if !outcome.preview.is_empty() {
                out.push_str("  first rows as they would load:\n");
                let mut table = Table::new();
                table.load_preset(presets::ASCII_MARKDOWN);
                table.set_header(outcome.mapping.iter().map(|(c, _)| c.as_str()));
                for row in &outcome.preview {
                    table.add_row(row);
                }
                for line in table.to_string().lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
        for problem in outcome
            .problems
            .iter()
            .filter(|p| p.rule != "superseded_duplicate")
        {
            let column = if problem.column.is_empty() {
                String::new()
            } else {
                format!(", column `{}`", problem.column)
            };
            let value = problem
                .value
                .as_deref()
                .map(|v| format!(", value `{v}`"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {} row(s) set aside ({}): first at {} {}{column}{value}: {}\n",
                problem.count, problem.rule, outcome.place, problem.line, problem.message
            ));
        }
    }
    out
}
