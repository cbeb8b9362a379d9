//! What a company really loaded, and what the report therefore leaves out:
//! a section whose tables were never loaded (market share without market
//! sizes, satisfaction without surveys) is not a page of "no data" but one
//! line in the data-quality appendix naming the table and what it would add.
//! A section whose tables are loaded stays, even without data for the
//! period: that is news.

use super::language::Language;
use super::quality::Note;
use crate::warehouse::Coverage;

/// The tables a report section reads, beyond sales.
pub const MARKET: &[&str] = &["market_sizes"];
pub const SATISFACTION: &[&str] = &["surveys"];
pub const INVENTORY: &[&str] = &["inventory_snapshots"];
pub const SERVICE: &[&str] = &["service_tickets", "deliveries", "customers"];
pub const SUPPLY: &[&str] = &[
    "inventory_snapshots",
    "purchase_orders",
    "quality_inspections",
];
pub const PRODUCT: &[&str] = &["product_projects", "quality_inspections", "products"];

/// The tables the appendix names when they were never loaded, in the
/// model's order: each adds indicators to the report.
const ADDING: &[&str] = &[
    "products",
    "customers",
    "market_sizes",
    "competitor_sales",
    "sales_targets",
    "inventory_snapshots",
    "surveys",
    "service_tickets",
    "deliveries",
    "purchase_orders",
    "quality_inspections",
    "product_projects",
];

/// The tables with rows in the warehouse.
#[derive(Debug, Clone)]
pub struct Loaded {
    tables: Vec<&'static str>,
}

impl Loaded {
    pub fn from_coverage(coverage: &[Coverage]) -> Loaded {
        Loaded {
            tables: coverage
                .iter()
                .filter(|c| c.rows > 0)
                .map(|c| c.table)
                .collect(),
        }
    }

    /// Whether any of `tables` has rows.
    pub fn any(&self, tables: &[&str]) -> bool {
        tables.iter().any(|t| self.tables.contains(t))
    }

    /// Whether a section reading `tables` is shown: one of them is loaded,
    /// or the section has a value all the same (from sales).
    pub fn shows(&self, tables: &[&str], has_values: bool) -> bool {
        has_values || self.any(tables)
    }

    /// One note per table never loaded: its name and what it would add.
    pub fn not_loaded(&self, lang: &Language) -> Vec<Note> {
        ADDING
            .iter()
            .filter(|table| !self.tables.contains(table))
            .map(|table| Note {
                text: lang.messages.fill(
                    "not_loaded_table",
                    &[
                        ("table", &lang.messages.text(&format!("table_{table}"))),
                        ("adds", &lang.messages.text(&format!("adds_{table}"))),
                    ],
                ),
                code: table.to_string(),
            })
            .collect()
    }
}
