//! A report's first page in a few lines, for a message about it: its title,
//! the highlights and every indicator whose status is red, in the report's
//! own words. Written into the report's manifest, so a delivery reads the
//! very edition it sends and never computes a number itself.

use serde::{Deserialize, Serialize};

use super::ReportContext;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub company: String,
    /// The report's title, edition included: `營運報告 2026年10月：北區`.
    pub title: String,
    pub period_label: String,
    pub as_of: String,
    pub data_through: String,
    /// The period is not over on the as-of date.
    pub partial: bool,
    pub highlights: Vec<String>,
    /// "and N more in the appendix", or empty.
    pub more_highlights: String,
    /// The indicators whose status is red, headline tiles first.
    pub red: Vec<Red>,
}

/// An indicator whose status is red, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Red {
    pub indicator: String,
    pub value: String,
    /// The target or the rule it missed; empty when the report shows none.
    pub target: String,
}

/// The summary of a built report.
pub fn summary(context: &ReportContext) -> Summary {
    let mut red: Vec<Red> = context
        .tiles
        .iter()
        .filter(|tile| tile.status == "bad")
        .map(|tile| Red {
            indicator: tile.label.clone(),
            value: tile.value_full.clone(),
            target: tile.target.clone(),
        })
        .collect();
    for duty in &context.duties {
        for row in duty
            .indicators
            .rows
            .iter()
            .filter(|row| row.status == "bad")
        {
            if red.iter().any(|r| r.indicator == row.label) {
                continue;
            }
            red.push(Red {
                indicator: row.label.clone(),
                value: row.cells.first().cloned().unwrap_or_default(),
                target: row
                    .cells
                    .last()
                    .filter(|_| row.cells.len() > 1)
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }
    Summary {
        company: context.company.clone(),
        title: context.title.clone(),
        period_label: context.period_label.clone(),
        as_of: context.as_of.clone(),
        data_through: context.data_through.clone(),
        partial: context.partial,
        highlights: context.highlights.iter().map(|h| h.text.clone()).collect(),
        more_highlights: context.more_highlights.clone(),
        red,
    }
}

/// The parts of a report's manifest (`<report>.manifest.json`, written by
/// `jobs::report`) that a delivery reads.
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestView {
    pub report: String,
    pub period: String,
    pub as_of: String,
    pub lang: String,
    pub edition: Option<ManifestEdition>,
    pub summary: Option<Summary>,
    pub outputs: Vec<ManifestFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ManifestEdition {
    pub dimension: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestFile {
    pub file: String,
    pub sha256: String,
}
