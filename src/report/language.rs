//! The language of a report: its words (the message catalogue) and how it
//! writes numbers, periods and the canonical words of the data.

use chrono::Datelike;

use super::messages::Messages;
use crate::calendar::{Part, Period};
use crate::indicators::{Catalogue, KpiRow};
use crate::locale::Locale;

/// The language of a report: how numbers are written and the words around them.
pub struct Language {
    pub locale: Locale,
    pub messages: Messages,
}

impl Language {
    /// The row's (first) dimension value as a table shows it: data as it
    /// is, the canonical channel words in the report's language.
    pub fn group(&self, row: &KpiRow) -> String {
        match row.dims.first() {
            Some((dim, Some(value))) => self.word(dim, value),
            _ => self.messages.text("empty_value"),
        }
    }

    /// An indicator's name in this language (the catalogue's by default).
    pub fn label(&self, catalogue: &Catalogue, id: &str) -> String {
        match self.messages.indicator(id) {
            Some((label, _)) => label,
            None => catalogue
                .indicator(id)
                .map(|i| i.label.clone())
                .unwrap_or_else(|_| id.to_string()),
        }
    }

    /// A retail period: `retail_month_label`, `retail_week_axis`…
    fn retail(&self, form: &str, year: i32, part: Part) -> String {
        let (kind, number) = match part {
            Part::Week(n) => ("week", n),
            Part::Month(n) => ("month", n),
            Part::Quarter(n) => ("quarter", n),
            Part::Year => ("year", 0),
        };
        self.messages.fill(
            &format!("retail_{kind}_{form}"),
            &[("year", &year.to_string()), ("number", &number.to_string())],
        )
    }

    pub fn month(&self, key: &str, period: Period) -> String {
        let start = period.start();
        let index = start.month0() as usize;
        self.messages.fill(
            key,
            &[
                ("month_name", &self.messages.item("month_names", index)),
                ("month_abbr", &self.messages.item("month_abbrs", index)),
                ("month", &start.month().to_string()),
                ("year", &start.year().to_string()),
                ("yy", &format!("{:02}", start.year() % 100)),
            ],
        )
    }

    /// A period as a title says it: `October 2026`, `Q3 2026`, `2025`, `FY2026`.
    pub fn period(&self, period: Period) -> String {
        match period {
            Period::Month { .. } => self.month("month_label", period),
            Period::Quarter { year, quarter } => self.messages.fill(
                "quarter_label",
                &[
                    ("year", &year.to_string()),
                    ("quarter", &quarter.to_string()),
                ],
            ),
            Period::Year(year) => self
                .messages
                .fill("year_label", &[("year", &year.to_string())]),
            Period::FiscalYear { year, .. } => self
                .messages
                .fill("fiscal_year_label", &[("year", &year.to_string())]),
            Period::Retail { year, part, .. } => self.retail("label", year, part),
            _ => period.to_string(),
        }
    }

    /// A period on a chart's axis or a table's column: `Oct`, `Q3`, `2025`.
    pub fn axis(&self, period: Period) -> String {
        match period {
            Period::Month { .. } => self.month("month_axis", period),
            Period::Quarter { quarter, .. } => self
                .messages
                .fill("quarter_axis", &[("quarter", &quarter.to_string())]),
            Period::Year(year) => year.to_string(),
            Period::Retail {
                year,
                part: part @ (Part::Week(_) | Part::Month(_) | Part::Quarter(_)),
                ..
            } => self.retail("axis", year, part),
            _ => self.period(period),
        }
    }

    /// A period in a series that spans years: `Oct 26`, `Q3 2026`, `2025`.
    pub fn short(&self, period: Period) -> String {
        match period {
            Period::Month { .. } => self.month("month_short", period),
            _ => self.period(period),
        }
    }

    /// A value of a dimension as the report shows it: data as it is, the
    /// canonical channel words in the report's language.
    pub fn word(&self, dimension: &str, value: &str) -> String {
        let key = format!("{dimension}_{value}");
        if dimension == "channel" && self.messages.has(&key) {
            self.messages.text(&key)
        } else {
            value.to_string()
        }
    }
}
