//! The canonical data model: the tables of `DOMAIN.md`, their columns, types,
//! natural keys and the rules a value must satisfy.
//!
//! This is the one place the contract is written down. The warehouse derives
//! its DDL from it, ingest validates against it, and every identifier that
//! reaches SQL (table, column, dimension) is checked against it first. It does
//! no I/O and knows nothing about DuckDB beyond the type names it maps to.

/// The type of a canonical column, with the rule a value must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Free text.
    Text,
    /// A calendar date (`2026-10-31`).
    Date,
    /// A date in a month-grained table; the value must be the first of a month.
    Month,
    /// An instant with a time zone.
    Timestamp,
    /// A whole number.
    Integer,
    /// An exact decimal with the given scale (money: 2, unit costs: 4).
    Decimal(u8),
    /// A whole number within an inclusive range (survey scores).
    IntRange(i64, i64),
    /// A decimal within an inclusive range (evaluation scores).
    DecimalRange(u8, i64, i64),
    /// One of a fixed set of words.
    OneOf(&'static [&'static str]),
}

impl ColumnType {
    /// The DuckDB type the column is stored as.
    pub fn sql_type(self) -> String {
        match self {
            ColumnType::Text | ColumnType::OneOf(_) => "VARCHAR".into(),
            ColumnType::Date | ColumnType::Month => "DATE".into(),
            ColumnType::Timestamp => "TIMESTAMPTZ".into(),
            ColumnType::Integer | ColumnType::IntRange(..) => "BIGINT".into(),
            ColumnType::Decimal(scale) | ColumnType::DecimalRange(scale, ..) => {
                format!("DECIMAL(18,{scale})")
            }
        }
    }

    /// Whether values are numbers (whole or decimal).
    pub fn is_number(self) -> bool {
        matches!(
            self,
            ColumnType::Integer
                | ColumnType::Decimal(_)
                | ColumnType::IntRange(..)
                | ColumnType::DecimalRange(..)
        )
    }

    /// Words a user reads in an error: what a valid value looks like.
    pub fn describe(self) -> String {
        match self {
            ColumnType::Text => "text".into(),
            ColumnType::Date => "a date like `2026-10-31`".into(),
            ColumnType::Month => "the first day of a month, like `2026-10-01`".into(),
            ColumnType::Timestamp => "a timestamp like `2026-10-31 14:05:00+08`".into(),
            ColumnType::Integer => "a whole number".into(),
            ColumnType::Decimal(scale) => {
                format!("a decimal number with at most {scale} decimals, like `1234.50`")
            }
            ColumnType::IntRange(lo, hi) => format!("a whole number from {lo} to {hi}"),
            ColumnType::DecimalRange(_, lo, hi) => format!("a number from {lo} to {hi}"),
            ColumnType::OneOf(words) => {
                let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                format!("one of {}", quoted.join(", "))
            }
        }
    }
}

/// Optional columns whose absence is a fact, not a gap: no status means
/// no delivery was cancelled.
pub const NOT_A_GAP_WHEN_ABSENT: &[(&str, &str)] = &[("deliveries", "status")];

/// The words of `deliveries.status`.
pub const DELIVERY_STATUSES: &[&str] = &["delivered", "open", "cancelled"];

/// One column of a canonical table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    /// Whether a value may be missing.
    pub nullable: bool,
}

/// One canonical table.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// What one row is.
    pub grain: &'static str,
    pub columns: &'static [Column],
    /// The natural key: loading a row with the same key replaces the old one.
    pub key: &'static [&'static str],
    /// Columns whose values must name a row of another table, when that
    /// table holds any rows.
    pub references: &'static [Reference],
    /// Dates of events that cannot lie after the day they are loaded.
    pub not_future: &'static [&'static str],
}

/// `column` names a row of `table` by its key column `key`.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    pub column: &'static str,
    pub table: &'static str,
    pub key: &'static str,
}

const fn refers(column: &'static str, table: &'static str, key: &'static str) -> Reference {
    Reference { column, table, key }
}

impl Table {
    /// The date column that dates the table's rows (its first required
    /// date, month or timestamp), where it has one.
    pub fn date_column(&self) -> Option<&'static str> {
        self.columns
            .iter()
            .find(|c| {
                !c.nullable
                    && matches!(
                        c.ty,
                        ColumnType::Date | ColumnType::Month | ColumnType::Timestamp
                    )
            })
            .map(|c| c.name)
    }

    /// SQL for the day of each row by its date column (a timestamp's UTC
    /// day: DuckDB casts a zoned timestamp to a date only through ICU, which
    /// is not built in).
    pub fn date_sql(&self) -> Option<String> {
        let name = self.date_column()?;
        Some(match self.column(name).map(|c| c.ty) {
            Some(ColumnType::Timestamp) => format!("CAST({name}::TIMESTAMP AS DATE)"),
            _ => format!("CAST({name} AS DATE)"),
        })
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    pub fn column_names(&self) -> Vec<&'static str> {
        self.columns.iter().map(|column| column.name).collect()
    }
}

const fn req(name: &'static str, ty: ColumnType) -> Column {
    Column {
        name,
        ty,
        nullable: false,
    }
}

const fn opt(name: &'static str, ty: ColumnType) -> Column {
    Column {
        name,
        ty,
        nullable: true,
    }
}

use ColumnType::{Date, Decimal, Integer, Month, Text, Timestamp};

pub const SEGMENTS: &[&str] = &["retail", "trade", "dealer"];
pub const CHANNELS: &[&str] = &["store", "online", "dealer"];
pub const SERVICE_CHANNELS: &[&str] = &["hotline", "online", "email"];
pub const TARGET_SCOPES: &[&str] = &["company", "region", "channel", "store", "salesperson"];

/// Money keeps four decimals (amounts after discounts often have them);
/// unit costs six. Only output rounds.
pub const MONEY_SCALE: u8 = 4;
const MONEY: ColumnType = Decimal(MONEY_SCALE);
const UNIT_COST: ColumnType = Decimal(6);

/// Every canonical table, in load order (dimensions before facts).
///
/// Required (`req`) are the natural key, the date and the amount a row is
/// about (DOMAIN.md); any other column may be missing from a source, and an
/// indicator that needs it is then n/a.
pub static TABLES: &[Table] = &[
    Table {
        name: "products",
        grain: "one SKU",
        columns: &[
            req("sku", Text),
            opt("name", Text),
            opt("category", Text),
            opt("subcategory", Text),
            opt("list_price", MONEY),
            opt("unit_cost", UNIT_COST),
            opt("launch_date", Date),
        ],
        key: &["sku"],
        references: &[],
        not_future: &[],
    },
    Table {
        name: "customers",
        grain: "one customer",
        columns: &[
            req("customer_id", Text),
            opt("segment", ColumnType::OneOf(SEGMENTS)),
            opt("region", Text),
            opt("created_on", Date),
        ],
        key: &["customer_id"],
        references: &[],
        not_future: &["created_on"],
    },
    Table {
        name: "stores",
        grain: "one store or online shop",
        columns: &[
            req("store_id", Text),
            opt("name", Text),
            opt("channel", ColumnType::OneOf(CHANNELS)),
            opt("region", Text),
        ],
        key: &["store_id"],
        references: &[],
        not_future: &[],
    },
    Table {
        name: "sales",
        grain: "one order line",
        columns: &[
            req("order_id", Text),
            req("line_no", Integer),
            req("order_date", Date),
            opt("customer_id", Text),
            opt("sku", Text),
            opt("store_id", Text),
            opt("channel", ColumnType::OneOf(CHANNELS)),
            opt("region", Text),
            opt("salesperson_id", Text),
            opt("quantity", Integer),
            req("net_amount", MONEY),
            opt("cost_amount", MONEY),
        ],
        key: &["order_id", "line_no"],
        references: &[
            refers("sku", "products", "sku"),
            refers("customer_id", "customers", "customer_id"),
            refers("store_id", "stores", "store_id"),
            refers("salesperson_id", "employees", "employee_id"),
        ],
        not_future: &["order_date"],
    },
    Table {
        name: "inventory_snapshots",
        grain: "one SKU at one location on one date",
        columns: &[
            req("snapshot_date", Date),
            req("sku", Text),
            req("location_id", Text),
            req("on_hand_qty", Integer),
            opt("unit_cost", UNIT_COST),
        ],
        key: &["snapshot_date", "sku", "location_id"],
        references: &[refers("sku", "products", "sku")],
        not_future: &["snapshot_date"],
    },
    Table {
        name: "market_sizes",
        grain: "one month, region and category",
        columns: &[
            req("period", Month),
            req("region", Text),
            req("category", Text),
            req("market_amount", MONEY),
            opt("market_units", Integer),
        ],
        key: &["period", "region", "category"],
        references: &[],
        not_future: &[],
    },
    Table {
        name: "competitor_sales",
        grain: "one month, region, category and competitor",
        columns: &[
            req("period", Month),
            req("region", Text),
            req("category", Text),
            req("competitor", Text),
            req("sales_amount", MONEY),
        ],
        key: &["period", "region", "category", "competitor"],
        references: &[],
        not_future: &[],
    },
    Table {
        name: "surveys",
        grain: "one answer",
        columns: &[
            req("response_id", Text),
            req("answered_on", Date),
            opt("customer_id", Text),
            opt("order_id", Text),
            opt("channel", ColumnType::OneOf(CHANNELS)),
            opt("csat_score", ColumnType::IntRange(1, 5)),
            opt("nps_score", ColumnType::IntRange(0, 10)),
        ],
        key: &["response_id"],
        references: &[refers("customer_id", "customers", "customer_id")],
        not_future: &["answered_on"],
    },
    Table {
        name: "service_tickets",
        grain: "one enquiry, complaint or suggestion",
        columns: &[
            req("ticket_id", Text),
            opt(
                "kind",
                ColumnType::OneOf(&["enquiry", "complaint", "suggestion"]),
            ),
            opt("channel", ColumnType::OneOf(SERVICE_CHANNELS)),
            req("opened_at", Timestamp),
            opt("first_response_at", Timestamp),
            opt("resolved_at", Timestamp),
            opt("customer_id", Text),
            opt("order_id", Text),
        ],
        key: &["ticket_id"],
        references: &[refers("customer_id", "customers", "customer_id")],
        not_future: &["opened_at"],
    },
    Table {
        name: "deliveries",
        grain: "one order's delivery",
        columns: &[
            req("order_id", Text),
            req("promised_on", Date),
            opt("shipped_at", Timestamp),
            opt("delivered_at", Timestamp),
            opt("carrier", Text),
            opt("freight_cost", MONEY),
            // Absent: delivered or still open, as `delivered_at` says. A
            // cancelled delivery is not due.
            opt("status", ColumnType::OneOf(DELIVERY_STATUSES)),
        ],
        key: &["order_id"],
        references: &[],
        not_future: &["shipped_at", "delivered_at"],
    },
    Table {
        name: "suppliers",
        grain: "one supplier",
        columns: &[
            req("supplier_id", Text),
            opt("name", Text),
            opt("category", Text),
        ],
        key: &["supplier_id"],
        references: &[],
        not_future: &[],
    },
    Table {
        name: "purchase_orders",
        grain: "one PO line",
        columns: &[
            req("po_id", Text),
            req("line_no", Integer),
            opt("supplier_id", Text),
            opt("sku", Text),
            req("ordered_on", Date),
            opt("promised_on", Date),
            opt("received_on", Date),
            req("qty_ordered", Integer),
            opt("qty_received", Integer),
            opt("qty_rejected", Integer),
            opt("unit_cost", UNIT_COST),
        ],
        key: &["po_id", "line_no"],
        references: &[
            refers("supplier_id", "suppliers", "supplier_id"),
            refers("sku", "products", "sku"),
        ],
        not_future: &["ordered_on", "received_on"],
    },
    Table {
        name: "quality_inspections",
        grain: "one inspection",
        columns: &[
            req("inspection_id", Text),
            req("inspected_on", Date),
            opt("sku", Text),
            opt("supplier_id", Text),
            opt(
                "stage",
                ColumnType::OneOf(&["incoming", "in_process", "final"]),
            ),
            req("qty_inspected", Integer),
            req("qty_defective", Integer),
        ],
        key: &["inspection_id"],
        references: &[
            refers("sku", "products", "sku"),
            refers("supplier_id", "suppliers", "supplier_id"),
        ],
        not_future: &["inspected_on"],
    },
    Table {
        name: "product_projects",
        grain: "one development project",
        columns: &[
            req("project_id", Text),
            opt("name", Text),
            opt("category", Text),
            opt("stage", Text),
            opt("stage_due_on", Date),
            opt("stage_done_on", Date),
            opt("planned_launch_on", Date),
            opt("launched_on", Date),
        ],
        key: &["project_id"],
        references: &[],
        not_future: &["stage_done_on", "launched_on"],
    },
    Table {
        name: "sales_targets",
        grain: "one period and scope",
        columns: &[
            req("period", Month),
            req("scope", ColumnType::OneOf(TARGET_SCOPES)),
            req("scope_value", Text),
            req("target_amount", MONEY),
        ],
        key: &["period", "scope", "scope_value"],
        references: &[],
        not_future: &[],
    },
    Table {
        name: "employees",
        grain: "one employee",
        columns: &[
            req("employee_id", Text),
            opt("name", Text),
            opt("team", Text),
            opt("role", Text),
            opt("region", Text),
            // A store manager's store; with `email`, whom a store's or a
            // region's edition of a report goes to (`deliver`'s
            // `employees_with_role`).
            opt("store_id", Text),
            opt("email", Text),
        ],
        key: &["employee_id"],
        references: &[],
        not_future: &[],
    },
    Table {
        name: "evaluations",
        grain: "one rating",
        columns: &[
            req("employee_id", Text),
            req("period", Month),
            req(
                "rater",
                ColumnType::OneOf(&["supervisor", "peer", "self", "customer"]),
            ),
            req(
                "dimension",
                ColumnType::OneOf(&["results", "ability", "attitude"]),
            ),
            req("score", ColumnType::DecimalRange(2, 0, 100)),
        ],
        key: &["employee_id", "period", "rater", "dimension"],
        references: &[refers("employee_id", "employees", "employee_id")],
        not_future: &[],
    },
];

/// The canonical table called `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|table| table.name == name)
}

pub fn table_names() -> Vec<&'static str> {
    TABLES.iter().map(|table| table.name).collect()
}

/// The column every canonical table carries beside its own: the id of the
/// file (in `_opskpi_files`) that brought the row, so that a changed file
/// replaces exactly the rows it brought before.
pub const LINEAGE_COLUMN: &str = "_file_id";

/// `CREATE TABLE IF NOT EXISTS` for one canonical table.
pub fn create_table_sql(table: &Table) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|column| {
            let null = if column.nullable { "" } else { " NOT NULL" };
            format!("    {} {}{}", column.name, column.ty.sql_type(), null)
        })
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{},\n    {LINEAGE_COLUMN} BIGINT\n);\n",
        table.name,
        columns.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_column_exists_and_is_required() {
        for table in TABLES {
            for key in table.key {
                let column = table
                    .column(key)
                    .unwrap_or_else(|| panic!("{}.{key}", table.name));
                assert!(
                    !column.nullable,
                    "{}.{key} is a key and must be required",
                    table.name
                );
            }
        }
    }

    #[test]
    fn references_and_event_dates_name_real_columns() {
        for table in TABLES {
            for reference in table.references {
                assert!(table.column(reference.column).is_some(), "{}", table.name);
                let target = super::table(reference.table).expect("referenced table");
                assert_eq!(target.key, &[reference.key], "{}", table.name);
            }
            for column in table.not_future {
                let ty = table.column(column).expect("event date").ty;
                assert!(matches!(ty, Date | Timestamp), "{}.{column}", table.name);
            }
        }
    }

    #[test]
    fn ddl_names_every_column() {
        let sql = create_table_sql(table("sales").unwrap());
        assert!(sql.contains("net_amount DECIMAL(18,4) NOT NULL"));
        assert!(sql.contains("salesperson_id VARCHAR,"));
    }
}
