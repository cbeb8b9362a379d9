//! Reports: the operations report — monthly, quarterly or yearly, for the
//! company or one edition per region, channel, category or store — as one
//! self-contained HTML page and as a PDF.
//!
//! Building a report is two steps: `build` asks the indicator layer for every
//! number the report shows (`rows`) and turns them into a plain,
//! pre-formatted context in the report's language (`language`, `sections`,
//! `highlights`); `templates` renders that context with the minijinja
//! templates of `report-templates/` (or a user's copies), `pdf` with the
//! Typst one. The report never runs SQL and never reads the clock: the as-of
//! date comes in with the context.

pub mod assessment;
mod build;
pub mod charts;
pub mod duties;
pub mod highlights;
pub mod language;
mod loaded;
pub mod messages;
pub mod pdf;
pub mod quality;
pub mod rows;
pub mod sections;
pub mod summary;
pub mod templates;

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::{Grain, Period};
use crate::locale::Locale;
use rows::Edition;

pub use build::{build, editions};

/// Which report: its period's grain and how far back it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Monthly,
    Quarterly,
    Yearly,
}

impl ReportKind {
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Monthly => "monthly",
            ReportKind::Quarterly => "quarterly",
            ReportKind::Yearly => "yearly",
        }
    }

    /// Periods in a tile's sparkline and the satisfaction trend.
    fn history(self) -> usize {
        match self {
            ReportKind::Monthly => 13,
            ReportKind::Quarterly => 8,
            ReportKind::Yearly => 5,
        }
    }

    /// Whether `period` is one this report is about.
    pub fn fits(self, period: Period) -> bool {
        matches!(
            (self, period.grain()),
            (ReportKind::Monthly, Grain::Month | Grain::RetailMonth)
                | (ReportKind::Quarterly, Grain::Quarter | Grain::RetailQuarter)
                | (
                    ReportKind::Yearly,
                    Grain::Year | Grain::FiscalYear | Grain::RetailYear
                )
        )
    }

    fn period_hint(self) -> &'static str {
        match self {
            ReportKind::Monthly => "give `--period YYYY-MM`, e.g. 2026-10",
            ReportKind::Quarterly => "give `--period YYYY-Qn`, e.g. 2026-Q3",
            ReportKind::Yearly => "give `--period YYYY` (or FYYYYY for the fiscal year), e.g. 2025",
        }
    }
}

/// What the report is about and for whom; everything the data does not say.
#[derive(Debug, Clone)]
pub struct ReportSpec {
    pub kind: ReportKind,
    pub company: String,
    pub currency: String,
    pub locale: Locale,
    pub period: Period,
    /// One edition's figures only (`--each`); the whole company when `None`.
    pub edition: Option<Edition>,
    /// The last day with sales data, shown as the data's freshness.
    pub data_through: Option<NaiveDate>,
    /// A folder of templates and message catalogues overriding the built-in ones.
    pub templates: Option<std::path::PathBuf>,
    /// The facts of the data-quality appendix.
    pub quality: quality::Quality,
    /// The most highlights shown on the first page.
    pub highlights: usize,
}

#[derive(Debug, Serialize)]
pub struct ReportContext {
    pub lang: &'static str,
    /// Typst's language and region for the text (hyphenation, quotes).
    pub text_lang: &'static str,
    pub text_region: &'static str,
    /// Every plain word of the language's catalogue, for the templates.
    pub words: std::collections::BTreeMap<String, String>,
    /// `monthly`, `quarterly` or `yearly`.
    pub kind: &'static str,
    /// The edition's dimension and value (`--each`), in the report's words.
    pub edition: Option<EditionLabel>,
    /// Whether tiles show the previous period (not in a yearly report, where
    /// it is last year).
    pub show_previous: bool,
    pub sales_trend_title: String,
    pub satisfaction_title: String,
    /// The first column of a table by period: month, quarter or year.
    pub period_column: String,
    pub company: String,
    pub currency: String,
    pub title: String,
    pub period: String,
    pub period_label: String,
    pub as_of: String,
    pub data_through: String,
    pub partial: bool,
    pub version: &'static str,
    /// The first page's highlights, the most telling first.
    pub highlights: Vec<highlights::Highlight>,
    /// "and N more in the appendix", or empty.
    pub more_highlights: String,
    pub tiles: Vec<Tile>,
    pub sales_trend_chart: String,
    pub this_year: i32,
    pub last_year: i32,
    /// Breakdowns; `None`: the tables they read were never loaded (said in
    /// the appendix).
    pub market: Option<Section>,
    pub channels: Section,
    pub categories: Section,
    pub satisfaction: Option<Section>,
    pub inventory: Option<Section>,
    /// The yearly report's five years of headline indicators.
    pub years: Option<Section>,
    /// Customers and service, supply chain, product.
    pub duties: Vec<duties::DutySection>,
    /// The monthly report's sales forecast.
    pub forecast: Option<duties::ForecastSection>,
    pub definitions: Vec<Definition>,
    pub appendix: quality::Appendix,
}

#[derive(Debug, Serialize)]
pub struct EditionLabel {
    pub dimension: String,
    pub value: String,
}

/// A headline number with its comparisons.
#[derive(Debug, Serialize)]
pub struct Tile {
    pub id: String,
    pub label: String,
    pub value: String,
    pub value_full: String,
    pub previous: String,
    pub change_vs_previous: String,
    pub last_year: String,
    pub change_vs_last_year: String,
    pub target: String,
    pub status: &'static str,
    /// Why there is no status: no data or no target (empty with a status).
    pub no_status: String,
    pub sparkline: String,
    pub note: String,
}

/// A breakdown: a chart and a table.
#[derive(Debug, Serialize)]
pub struct Section {
    pub chart: String,
    pub columns: Vec<String>,
    pub rows: Vec<TableRow>,
    pub note: String,
}

#[derive(Debug, Serialize)]
pub struct TableRow {
    pub label: String,
    pub cells: Vec<String>,
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Definition {
    pub id: String,
    pub label: String,
    pub definition: String,
    pub unit: String,
    pub direction: String,
    pub target: String,
    /// Unit, direction and status rule in one sentence of the language.
    pub details: String,
}
