//! `opskpi kpi --list` and `opskpi explain ID`: the catalogue in words —
//! each indicator's unit, direction and formula; for one, its definition,
//! dimensions, target, components and the exact SQL the engine runs.

use crate::error::Result;
use crate::indicators::{Catalogue, Compare, Indicator, Kind, TargetRule};

fn formula(indicator: &Indicator) -> String {
    match &indicator.kind {
        Kind::Formula { query, formula } => format!("{formula}   [{query}]"),
        Kind::Growth {
            base,
            compare,
            years,
        } => match compare {
            Compare::Previous => format!("growth of {base} against the previous period"),
            Compare::LastYear => format!("growth of {base} against the same period last year"),
            Compare::YearToDate => {
                format!("growth of {base}, year to date against the same days last year")
            }
            Compare::TrailingYear => format!(
                "growth of {base} over the twelve months to the period's end against the twelve months before"
            ),
            Compare::Cagr => format!("compound yearly growth of {base} over {years} years"),
        },
    }
}

fn target(rule: &TargetRule) -> String {
    match rule {
        TargetRule::Fixed { target, warning } => format!("{target} (warning from {warning})"),
        TargetRule::Query {
            query,
            warning_ratio,
        } => format!("from component query `{query}` (warning below {warning_ratio} of it)"),
        TargetRule::VsLastYear { target, warning } => {
            format!("last year's value × (1 + {target}) (warning at × (1 + {warning}))")
        }
        TargetRule::None => "none (no status)".into(),
    }
}

/// One line per indicator: id, label, unit, direction, formula, dimensions.
pub fn list(catalogue: &Catalogue) -> String {
    let mut text = String::new();
    for indicator in &catalogue.indicators {
        let dims = catalogue.dimensions(indicator).join(", ");
        text.push_str(&format!(
            "{:<30} {:<38} {:<8} {:<6}  {}\n{:<30} by: {}\n",
            indicator.id,
            indicator.label,
            indicator.unit.name(),
            indicator.direction.name(),
            formula(indicator),
            "",
            if dims.is_empty() { "-".into() } else { dims }
        ));
    }
    text
}

/// Everything about one indicator, down to the SQL of its component query
/// for the company total (`offset_seconds`: the company's UTC offset).
pub fn explain(catalogue: &Catalogue, id: &str, offset_seconds: i32) -> Result<String> {
    let indicator = catalogue.indicator(id)?;
    let query = catalogue.base_query(indicator);
    let mut text = format!(
        "{} — {}\n\n{}\n\nunit:        {} ({} is better; changes are {})\nformula:     {}\ndimensions:  {}\ntarget:      {}\n",
        indicator.id,
        indicator.label,
        indicator.definition,
        indicator.unit.name(),
        indicator.direction.name(),
        indicator.unit.change_kind().name(),
        formula(indicator),
        query.dimensions.join(", "),
        target(&indicator.target),
    );
    // A growth reads its base indicator's components.
    let mut base = indicator;
    while let Kind::Growth { base: id, .. } = &base.kind {
        base = catalogue.indicator(id)?;
    }
    let mut wanted: Vec<String> = Vec::new();
    if let Kind::Formula { formula, .. } = &base.kind {
        for name in formula.names() {
            if name != "days" && !wanted.iter().any(|w| w == name) {
                wanted.push(name.to_string());
            }
        }
    }
    text.push_str(&format!(
        "components:  {} of query `{}` ({})\n",
        wanted.join(", "),
        query.name,
        query.description
    ));
    let sql = query.render(&[], &wanted, offset_seconds)?;
    text.push_str(&format!(
        "\nThe SQL, for the company total (`_opskpi_spine(window_id, day)` holds the days of each\nwindow asked for: the period, its comparisons, year to date; `--by` adds the dimensions):\n\nSELECT window_id, {} FROM (\n{}\n) AS components\n",
        wanted.join(", "),
        sql.trim_end()
    ));
    Ok(text)
}
