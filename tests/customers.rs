//! Target attainment, sales mix and customers on the tiny company
//! (tests/fixtures/tiny), every number worked out by hand below.
//!
//! Sold lines: O1 C1 North 2023-03-31 1000; O2 C2 South 2023-03-15 180;
//! O3 C2 South 2023-04-10 90 (returned on the 20th); O4 C1 North
//! 2024-03-31 1900 + 100; O5 C2 South 2024-03-10 270 (−90 returned on the
//! 25th); O6 C2 South 2024-04-05 200; O7 C3 North 2024-04-12 500; O8 C1
//! North 2024-04-14 1000; O9 C1 North 2024-04-25 100.

use crate::common::*;

#[test]
fn attainment_is_net_sales_against_the_scopes_target() {
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &["target_attainment"],
        "2024-03",
        &[],
        "2024-12-31",
    );
    // Company, March 2024: (1900 + 100 + 270 − 90) / 2000.00 = 2180 / 2000.
    assert_exact(row(&rows, "target_attainment", &[]).value, "1.09");
    let april = kpi(
        &warehouse,
        &["target_attainment"],
        "2024-04",
        &[],
        "2024-12-31",
    );
    // April: (200 + 500 + 1000 + 100) / 3000.00 = 1800 / 3000.
    assert_exact(row(&april, "target_attainment", &[]).value, "0.6");
    let by_region = kpi(
        &warehouse,
        &["target_attainment"],
        "2024-03",
        &["region"],
        "2024-12-31",
    );
    // North: 2000 / 1800.00; the South has no target: n/a, not 0 or ∞.
    assert_fraction(
        row(&by_region, "target_attainment", &["North"]).value,
        "2000",
        "1800",
    );
    assert_eq!(row(&by_region, "target_attainment", &["South"]).value, None);
    // Half of March (as of the 15th): the target pro rata, 2000.00 × 15 / 31
    // = 967.741… → 967.74; sales to the 15th: O5 270.
    let half = kpi(
        &warehouse,
        &["target_attainment"],
        "2024-03",
        &[],
        "2024-03-15",
    );
    assert_fraction(row(&half, "target_attainment", &[]).value, "270", "967.74");
}

#[test]
fn the_mix_is_each_groups_share_of_the_period() {
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &["sales_mix"],
        "2024-03",
        &["region"],
        "2024-12-31",
    );
    // March 2024: North 2000, South 180, of 2180; a year before North 1000,
    // South 180 of 1180: the change is in points.
    let north = row(&rows, "sales_mix", &["North"]);
    assert_fraction(north.value, "2000", "2180");
    assert_fraction(north.last_year, "1000", "1180");
    assert_fraction(row(&rows, "sales_mix", &["South"]).value, "180", "2180");
    let channels = kpi(
        &warehouse,
        &["sales_mix"],
        "2024-04",
        &["channel"],
        "2024-12-31",
    );
    // April: store O8 + O9 = 1100, online O6 200, dealer O7 500, of 1800.
    assert_fraction(
        row(&channels, "sales_mix", &["store"]).value,
        "1100",
        "1800",
    );
    assert_fraction(
        row(&channels, "sales_mix", &["online"]).value,
        "200",
        "1800",
    );
    assert_fraction(
        row(&channels, "sales_mix", &["dealer"]).value,
        "500",
        "1800",
    );
    // The company as a whole is all of itself.
    let whole = kpi(&warehouse, &["sales_mix"], "2024-04", &[], "2024-12-31");
    assert_exact(row(&whole, "sales_mix", &[]).value, "1");
}

#[test]
fn customers_active_new_returning_and_repeat() {
    let warehouse = tiny_warehouse();
    let ids = [
        "active_customers",
        "new_customers",
        "returning_customers",
        "repeat_purchase_rate",
    ];
    let march = kpi(&warehouse, &ids, "2024-03", &[], "2024-12-31");
    // March 2024: C1 (O4) and C2 (O5) bought; both first bought in March
    // 2023, so none is new; each placed one order.
    assert_exact(row(&march, "active_customers", &[]).value, "2");
    assert_exact(row(&march, "new_customers", &[]).value, "0");
    assert_exact(row(&march, "returning_customers", &[]).value, "2");
    assert_exact(row(&march, "repeat_purchase_rate", &[]).value, "0");
    // March 2023: C1 (O1) and C2 (O2), both buying for the first time.
    assert_exact(row(&march, "new_customers", &[]).last_year, "2");
    let april = kpi(&warehouse, &ids, "2024-04", &[], "2024-12-31");
    // April 2024: C2 (O6), C3 (O7, its first purchase), C1 (O8 and O9: two orders).
    assert_exact(row(&april, "active_customers", &[]).value, "3");
    assert_exact(row(&april, "new_customers", &[]).value, "1");
    assert_exact(row(&april, "returning_customers", &[]).value, "2");
    assert_fraction(row(&april, "repeat_purchase_rate", &[]).value, "1", "3");
    // April 2023: only C2's O3 — bought, then returned. It was a sold line
    // on the 10th, so C2 was active (and not new: O2 in March 2023).
    assert_exact(row(&april, "active_customers", &[]).last_year, "1");
    // By segment (C1 retail, C2 trade, C3 dealer): the dealer is April's new one.
    let segments = kpi(
        &warehouse,
        &["new_customers"],
        "2024-04",
        &["segment"],
        "2024-12-31",
    );
    assert_exact(row(&segments, "new_customers", &["dealer"]).value, "1");
    assert_exact(row(&segments, "new_customers", &["retail"]).value, "0");
    // A day reaches back only a year (itself, the day before, the same day
    // last year): C1's first purchase (O1, 2023-03-31) is older than all of
    // them, and C1 is still not new on 14 April 2024 (O8); C3 is on the 12th.
    let day = kpi(&warehouse, &ids, "2024-04-14", &[], "2024-12-31");
    assert_exact(row(&day, "active_customers", &[]).value, "1");
    assert_exact(row(&day, "new_customers", &[]).value, "0");
    let day = kpi(&warehouse, &ids, "2024-04-12", &[], "2024-12-31");
    assert_exact(row(&day, "new_customers", &[]).value, "1");
}

#[test]
fn the_share_of_sales_from_new_products() {
    let warehouse = tiny_warehouse();
    // P3 launched 2024-01-01; P1 and P2 in 2020. April 2024: O7's 500 of
    // P3 (launched within the 12 months before 12 April) of 1800.
    let april = kpi(
        &warehouse,
        &["new_product_share"],
        "2024-04",
        &[],
        "2024-12-31",
    );
    assert_fraction(row(&april, "new_product_share", &[]).value, "500", "1800");
    // March 2024 sold no P3: a true 0, every product having a launch date.
    let march = kpi(
        &warehouse,
        &["new_product_share"],
        "2024-03",
        &[],
        "2024-12-31",
    );
    assert_exact(row(&march, "new_product_share", &[]).value, "0");
    // By channel: the dealer's April is all P3.
    let channels = kpi(
        &warehouse,
        &["new_product_share"],
        "2024-04",
        &["channel"],
        "2024-12-31",
    );
    assert_exact(row(&channels, "new_product_share", &["dealer"]).value, "1");
}

#[test]
fn pro_rata_targets_are_exact_to_the_cent() {
    // A South target of 1000.15 for April 2024 (30 days), as of the 15th:
    // 1000.15 × 15 ÷ 30 = 500.075 exactly, which rounds half away from zero
    // to 500.08 (a division in floating point gives 500.07). South's sales
    // to the 15th: O6, 200 on the 5th.
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("south_targets.csv");
    std::fs::write(
        &extra,
        "period,scope,scope_value,target_amount\n2024-04-01,region,South,1000.15\n",
    )
    .unwrap();
    let mut all = sources(&tiny_config());
    all.push(opskpi::config::Source::new("sales_targets", &extra));
    let mut warehouse = opskpi::warehouse::Warehouse::in_memory().unwrap();
    load(&mut warehouse, &all);
    let rows = kpi(
        &warehouse,
        &["target_attainment", "net_sales"],
        "2024-04",
        &["region"],
        "2024-04-15",
    );
    assert_fraction(
        row(&rows, "target_attainment", &["South"]).value,
        "200",
        "500.08",
    );
    assert_exact(row(&rows, "net_sales", &["South"]).target, "500.08");
}
