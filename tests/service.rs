//! Customer-service and delivery indicators on the tiny company plus
//! tests/fixtures/service/, every number worked out by hand below. The
//! company is on +08:00 (28,800 s east of UTC).

use opskpi::config::Source;
use opskpi::warehouse::Warehouse;

use crate::common::*;

const TAIPEI: i32 = 8 * 3600;

/// The tiny company with its service tickets and deliveries, in `offset`.
fn service_warehouse(offset: i32) -> Warehouse {
    let mut all = sources(&tiny_config());
    all.push(Source::new(
        "service_tickets",
        fixture("service/service_tickets.csv"),
    ));
    all.push(Source::new("deliveries", fixture("service/deliveries.csv")));
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &all);
    warehouse.in_timezone(offset)
}

#[test]
fn tickets_count_on_their_day_in_company_time() {
    let warehouse = service_warehouse(TAIPEI);
    let rows = kpi(
        &warehouse,
        &[
            "complaint_rate",
            "first_response_hours",
            "first_response_hours_p90",
            "resolution_hours",
            "resolution_hours_p90",
            "sla_compliance",
        ],
        "2024-03",
        &[],
        "2024-12-31",
    );
    // March 2024 in company time: T1, T2, T3, T4 and T5 (23:30 on the 31st);
    // T6 (16:30 UTC on the 31st) is 00:30 on 1 April.
    // Complaints T1 and T3; orders sold in March: O4 and O5 (its return
    // line does not make a second order) → 2 / 2.
    assert_exact(row(&rows, "complaint_rate", &[]).value, "1");
    // First responses, in seconds: T1 1 h = 3600, T2 2 h = 7200, T3 28 h
    // (08:00 on the 10th to 12:00 on the 11th) = 100800, T4 4 h = 14400;
    // T5 has none. Sorted 3600, 7200, 14400, 100800 (n = 4): the median is
    // the ⌈4 × 0.5⌉ = 2nd, 7200 s = 2 h; the 90th percentile the
    // ⌈4 × 0.9⌉ = ⌈3.6⌉ = 4th, 100800 s = 28 h.
    assert_exact(row(&rows, "first_response_hours", &[]).value, "2");
    assert_exact(row(&rows, "first_response_hours_p90", &[]).value, "28");
    // Resolutions: T1 24 h = 86400, T2 6 h = 21600, T3 4 days = 345600.
    // Sorted (n = 3): median the ⌈1.5⌉ = 2nd, 24 h; 90th the ⌈2.7⌉ = 3rd, 96 h.
    assert_exact(row(&rows, "resolution_hours", &[]).value, "24");
    assert_exact(row(&rows, "resolution_hours_p90", &[]).value, "96");
    // Within 24 h: T1, T2, T4 of the 5 tickets (T3 took 28 h, T5 none) → 3 / 5.
    assert_exact(row(&rows, "sla_compliance", &[]).value, "0.6");

    // April: T6 alone, answered in 1 h.
    let april = kpi(
        &warehouse,
        &["first_response_hours", "sla_compliance"],
        "2024-04",
        &[],
        "2024-12-31",
    );
    assert_exact(row(&april, "first_response_hours", &[]).value, "1");
    assert_exact(row(&april, "sla_compliance", &[]).value, "1");

    // Read in UTC instead, T6 falls in March: 6 tickets, T6 in time → 4 / 6.
    let utc = service_warehouse(0);
    let rows = kpi(&utc, &["sla_compliance"], "2024-03", &[], "2024-12-31");
    assert_fraction(row(&rows, "sla_compliance", &[]).value, "4", "6");
}

#[test]
fn service_breaks_down_by_contact_channel_without_inventing_a_base() {
    let warehouse = service_warehouse(TAIPEI);
    let rows = kpi(
        &warehouse,
        &["sla_compliance", "complaint_rate"],
        "2024-03",
        &["contact_channel"],
        "2024-12-31",
    );
    // Hotline: T1 (1 h) and T5 (no answer) → 1 / 2; online: T2 and T4 → 2 / 2;
    // email: T3 (28 h) → 0 / 1.
    assert_exact(row(&rows, "sla_compliance", &["hotline"]).value, "0.5");
    assert_exact(row(&rows, "sla_compliance", &["online"]).value, "1");
    assert_exact(row(&rows, "sla_compliance", &["email"]).value, "0");
    // Orders have no contact channel: the complaint rate is n/a, not 0 or ∞.
    assert_eq!(row(&rows, "complaint_rate", &["hotline"]).value, None);
    assert_eq!(row(&rows, "complaint_rate", &["email"]).value, None);
}

#[test]
fn deliveries_are_on_time_by_the_promised_day_in_company_time() {
    let warehouse = service_warehouse(TAIPEI);
    let rows = kpi(
        &warehouse,
        &["on_time_delivery", "freight_cost_per_order"],
        "2024-03",
        &[],
        "2024-12-31",
    );
    // Promised in March: O4 (31st, delivered 20:00 on the 31st: on time),
    // O5 (12th, delivered 01:00 on the 13th: late), X1 (20th, not
    // delivered: late) → 1 / 3. Freight 150.00 + 90.50 + 60.00 = 300.50 over
    // 3 deliveries.
    assert_fraction(row(&rows, "on_time_delivery", &[]).value, "1", "3");
    assert_fraction(
        row(&rows, "freight_cost_per_order", &[]).value,
        "300.50",
        "3",
    );
    let by_carrier = kpi(
        &warehouse,
        &["on_time_delivery", "freight_cost_per_order"],
        "2024-03",
        &["carrier"],
        "2024-12-31",
    );
    assert_exact(
        row(&by_carrier, "on_time_delivery", &["FastShip"]).value,
        "1",
    );
    assert_exact(row(&by_carrier, "on_time_delivery", &["SlowCo"]).value, "0");
    // SlowCo: (90.50 + 60.00) / 2.
    assert_exact(
        row(&by_carrier, "freight_cost_per_order", &["SlowCo"]).value,
        "75.25",
    );
    // In UTC, O5 arrived at 17:00 on the 12th, its promised day → 2 / 3.
    let utc = kpi(
        &service_warehouse(0),
        &["on_time_delivery"],
        "2024-03",
        &[],
        "2024-12-31",
    );
    assert_fraction(row(&utc, "on_time_delivery", &[]).value, "2", "3");
    // April: O6 (promised the 10th, delivered the 9th), 120.00 → against
    // March's 100.1666…: (120 − 300.50 / 3) ÷ (300.50 / 3).
    let april = kpi(
        &warehouse,
        &["freight_cost_per_order"],
        "2024-04",
        &[],
        "2024-12-31",
    );
    let change = row(&april, "freight_cost_per_order", &[]).change_vs_previous;
    assert_fraction(change, "59.50", "300.50");
}

#[test]
fn without_service_data_the_indicators_are_not_available() {
    // The tiny company alone: no tickets, no deliveries.
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &[
            "complaint_rate",
            "sla_compliance",
            "on_time_delivery",
            "first_response_hours",
        ],
        "2024-03",
        &[],
        "2024-12-31",
    );
    for id in [
        "complaint_rate",
        "sla_compliance",
        "on_time_delivery",
        "first_response_hours",
    ] {
        let values: Vec<_> = rows
            .iter()
            .filter(|r| r.indicator == id)
            .map(|r| r.value)
            .collect();
        assert!(values.iter().all(Option::is_none), "{id}: {values:?}");
    }
}
