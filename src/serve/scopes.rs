//! Which rows of each canonical table belong to a scope — a region, a
//! channel or a store — for the scoped copy a scoped user is served from.
//!
//! The copy holds only these rows, so no SQL a scoped user writes can reach
//! another part of the company: there is no filter to get around, the rows
//! are not in their database. What is not tied to the scope is left out
//! (deny by default): purchasing, quality, suppliers and projects are the
//! company's; market data is a region's; the people's tables are served to
//! no one. Products stay whole: they are the catalogue the sales lines name,
//! not anyone's numbers.
//!
//! The scope's value is always a bound parameter (`$1`); the copy of `sales`
//! is made first, and the tables tied to orders or customers follow it.

use crate::config::{Scope, ScopeKind};

/// The tables in the order their scoped copies are made.
pub const ORDER: [&str; 17] = [
    "sales",
    "stores",
    "customers",
    "products",
    "inventory_snapshots",
    "market_sizes",
    "competitor_sales",
    "surveys",
    "service_tickets",
    "deliveries",
    "sales_targets",
    "suppliers",
    "purchase_orders",
    "quality_inspections",
    "product_projects",
    "employees",
    "evaluations",
];

/// The SELECT over the warehouse (`wh`) and the copy made so far (`main`)
/// that gives `table`'s rows for `scope`, with `$1` its value; `None` when
/// none of the table belongs to the scope.
pub fn select(table: &str, scope: &Scope) -> Option<String> {
    use ScopeKind::*;
    let all = format!("SELECT * FROM wh.\"{table}\"");
    let of_orders = "order_id IN (SELECT order_id FROM main.sales)";
    let filter = match (table, scope.kind) {
        ("sales", Region) => "region = $1".to_string(),
        ("sales", Channel) => "channel = $1".to_string(),
        ("sales", Store) => "store_id = $1".to_string(),
        ("stores", Region) => "region = $1".to_string(),
        ("stores", Channel) => "channel = $1".to_string(),
        ("stores", Store) => "store_id = $1".to_string(),
        ("customers", Region) => {
            "region = $1 OR customer_id IN (SELECT customer_id FROM main.sales)".to_string()
        }
        ("customers", _) => "customer_id IN (SELECT customer_id FROM main.sales)".to_string(),
        ("products", _) => return Some(all),
        ("inventory_snapshots", _) => {
            "location_id IN (SELECT store_id FROM main.stores)".to_string()
        }
        ("market_sizes" | "competitor_sales", Region) => "region = $1".to_string(),
        ("surveys" | "service_tickets", Region) => format!(
            "{of_orders} OR (order_id IS NULL AND customer_id IN (SELECT customer_id FROM main.customers WHERE region = $1))"
        ),
        ("surveys" | "service_tickets", Channel) => {
            format!("{of_orders} OR (order_id IS NULL AND channel = $1)")
        }
        ("surveys" | "service_tickets", Store) => of_orders.to_string(),
        ("deliveries", _) => of_orders.to_string(),
        ("sales_targets", kind) => format!(
            "(scope = '{}' AND scope_value = $1) OR (scope = 'store' AND scope_value IN (SELECT store_id FROM main.stores))",
            kind.name()
        ),
        _ => return None,
    };
    Some(format!("{all} WHERE {filter}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    #[test]
    fn every_canonical_table_is_decided_for_every_scope() {
        let mut tables: Vec<&str> = model::TABLES.iter().map(|t| t.name).collect();
        tables.sort();
        let mut ordered = ORDER.to_vec();
        ordered.sort();
        assert_eq!(tables, ordered, "a table without a scope rule");
        for kind in [ScopeKind::Region, ScopeKind::Channel, ScopeKind::Store] {
            let scope = Scope {
                kind,
                value: "x".into(),
            };
            // The people's tables and the company's purchasing never.
            for table in ["employees", "evaluations", "purchase_orders", "suppliers"] {
                assert_eq!(select(table, &scope), None);
            }
            // Every filter takes the value as a parameter, never as text.
            let sales = select("sales", &scope).unwrap();
            assert!(sales.contains("$1") && !sales.contains("'x'"), "{sales}");
        }
    }
}
