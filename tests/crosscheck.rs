//! The new indicators on the sample company (sample-data/), against
//! hand-written SQL over the CSV files in a separate in-memory DuckDB that
//! shares nothing with opskpi: not the warehouse, not the component queries,
//! not the value readers (timestamps are read as the text they are, their
//! Taiwan-time day being their first ten characters).

use opskpi::config::Config;
use opskpi::warehouse::Warehouse;
use rust_decimal::Decimal;

use crate::common::*;

fn sample() -> Warehouse {
    let config = Config::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/opskpi.toml"),
    )
    .unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &sources(&config));
    warehouse.in_timezone(8 * 3600)
}

/// A separate DuckDB with the sample's CSV files as views, every column text.
fn by_hand() -> duckdb::Connection {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    for table in [
        "sales",
        "service_tickets",
        "deliveries",
        "sales_targets",
        "products",
    ] {
        conn.execute_batch(&format!(
            "CREATE VIEW {table} AS SELECT * FROM read_csv('{}', all_varchar = true, header = true)",
            dir.join(format!("{table}.csv")).display()
        ))
        .unwrap();
    }
    conn
}

fn decimal(conn: &duckdb::Connection, sql: &str) -> Option<Decimal> {
    let text: Option<String> = conn.query_row(sql, [], |row| row.get(0)).unwrap();
    text.map(|t| t.parse().unwrap())
}

/// `actual` and `expected` agree to 20 decimal places (both are quotients).
#[track_caller]
fn agree(actual: Option<Decimal>, expected: Option<Decimal>) {
    let (a, e) = (
        actual.expect("opskpi: a value"),
        expected.expect("by hand: a value"),
    );
    assert!(
        (a - e).abs() < dec("0.00000000000000000001"),
        "opskpi {a}, by hand {e}"
    );
}

#[test]
fn service_and_delivery_indicators_agree_with_hand_written_sql() {
    let warehouse = sample();
    let conn = by_hand();
    let rows = kpi(
        &warehouse,
        &[
            "complaint_rate",
            "sla_compliance",
            "on_time_delivery",
            "freight_cost_per_order",
        ],
        "2026-10",
        &[],
        "2026-11-02",
    );
    // Complaints opened in October 2026 (Taiwan time) ÷ distinct orders with a
    // sold line dated in October.
    let complaints = "(SELECT count(*) FROM service_tickets WHERE kind = 'complaint' AND left(opened_at, 7) = '2026-10')";
    let orders = "(SELECT count(DISTINCT order_id) FROM sales WHERE left(order_date, 7) = '2026-10' AND CAST(quantity AS INTEGER) > 0)";
    // (Divided here, in decimals: DuckDB divides decimals in floating point.)
    agree(
        row(&rows, "complaint_rate", &[]).value,
        Some(
            decimal(&conn, &format!("SELECT {complaints}::VARCHAR")).unwrap()
                / decimal(&conn, &format!("SELECT {orders}::VARCHAR")).unwrap(),
        ),
    );
    // First answers within 24 h (timestamps all written +08:00, so their
    // difference is that of their local times) ÷ tickets opened in October.
    let within = decimal(
        &conn,
        "SELECT count(*)::VARCHAR FROM service_tickets WHERE left(opened_at, 7) = '2026-10' \
         AND first_response_at IS NOT NULL \
         AND CAST(left(first_response_at, 19) AS TIMESTAMP) - CAST(left(opened_at, 19) AS TIMESTAMP) <= INTERVAL 24 HOUR",
    );
    let tickets = decimal(
        &conn,
        "SELECT count(*)::VARCHAR FROM service_tickets WHERE left(opened_at, 7) = '2026-10'",
    );
    agree(
        row(&rows, "sla_compliance", &[]).value,
        Some(within.unwrap() / tickets.unwrap()),
    );
    // Deliveries promised in October: delivered on or before the promised day.
    let on_time = decimal(
        &conn,
        "SELECT count(*)::VARCHAR FROM deliveries WHERE left(promised_on, 7) = '2026-10' \
         AND delivered_at IS NOT NULL AND left(delivered_at, 10) <= promised_on",
    );
    let due = decimal(
        &conn,
        "SELECT count(*)::VARCHAR FROM deliveries WHERE left(promised_on, 7) = '2026-10'",
    );
    agree(
        row(&rows, "on_time_delivery", &[]).value,
        Some(on_time.unwrap() / due.unwrap()),
    );
    let freight = decimal(
        &conn,
        "SELECT sum(CAST(freight_cost AS DECIMAL(18,2)))::VARCHAR FROM deliveries WHERE left(promised_on, 7) = '2026-10'",
    );
    agree(
        row(&rows, "freight_cost_per_order", &[]).value,
        Some(freight.unwrap() / due.unwrap()),
    );

    // By carrier, Island Express's October.
    let carriers = kpi(
        &warehouse,
        &["on_time_delivery"],
        "2026-10",
        &["carrier"],
        "2026-11-02",
    );
    let island = |condition: &str| {
        decimal(
            &conn,
            &format!(
                "SELECT count(*)::VARCHAR FROM deliveries WHERE left(promised_on, 7) = '2026-10' AND carrier = 'Island Express' {condition}"
            ),
        )
        .unwrap()
    };
    agree(
        row(&carriers, "on_time_delivery", &["Island Express"]).value,
        Some(
            island("AND delivered_at IS NOT NULL AND left(delivered_at, 10) <= promised_on")
                / island(""),
        ),
    );
}

#[test]
fn sales_duty_indicators_agree_with_hand_written_sql() {
    let warehouse = sample();
    let conn = by_hand();
    let rows = kpi(
        &warehouse,
        &["sales_mix", "target_attainment"],
        "2026-10",
        &["channel"],
        "2026-11-02",
    );
    let net = |condition: &str| {
        decimal(
            &conn,
            &format!(
                "SELECT sum(CAST(net_amount AS DECIMAL(18,2)))::VARCHAR FROM sales WHERE left(order_date, 7) = '2026-10' {condition}"
            ),
        )
        .unwrap()
    };
    let online = net("AND channel = 'online'");
    let all = net("");
    agree(
        row(&rows, "sales_mix", &["online"]).value,
        Some(online / all),
    );
    // The online channel's October target, a whole month.
    let target = decimal(
        &conn,
        "SELECT CAST(target_amount AS DECIMAL(18,2))::VARCHAR FROM sales_targets \
         WHERE period = '2026-10-01' AND scope = 'channel' AND scope_value = 'online'",
    )
    .unwrap();
    agree(
        row(&rows, "target_attainment", &["online"]).value,
        Some(online / target),
    );
    // Active and new customers in October.
    let customers = kpi(
        &warehouse,
        &["active_customers", "new_customers"],
        "2026-10",
        &[],
        "2026-11-02",
    );
    let active = decimal(
        &conn,
        "SELECT count(DISTINCT customer_id)::VARCHAR FROM sales WHERE left(order_date, 7) = '2026-10' AND CAST(quantity AS INTEGER) > 0",
    );
    assert_eq!(row(&customers, "active_customers", &[]).value, active);
    let new = decimal(
        &conn,
        "SELECT count(*)::VARCHAR FROM (SELECT customer_id, min(order_date) AS first FROM sales \
         WHERE CAST(quantity AS INTEGER) > 0 GROUP BY customer_id) WHERE left(first, 7) = '2026-10'",
    );
    assert_eq!(row(&customers, "new_customers", &[]).value, new);
}
