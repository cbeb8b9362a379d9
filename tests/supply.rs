//! Supply-chain and product-quality indicators on the tiny company plus
//! tests/fixtures/supply/, every number worked out by hand below.
//!
//! Promised in March 2024: PO1/1 (SUP1, P1) 10 ordered, received the 4th
//! for the 5th, 10 received, 1 rejected, at 610.00 against P1's standard
//! 600; PO1/2 (SUP1, P2) 100 ordered, received the 8th for the 5th (late),
//! 80 received, at 38.00 against 40; PO2/1 (SUP2, P3) 50 ordered for the
//! 20th, not received. PO3/1 is promised in April.

use opskpi::config::Source;
use opskpi::warehouse::Warehouse;

use crate::common::*;

fn supply_warehouse() -> Warehouse {
    let mut all = sources(&tiny_config());
    for table in ["suppliers", "purchase_orders", "quality_inspections"] {
        all.push(Source::new(table, fixture(&format!("supply/{table}.csv"))));
    }
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &all);
    warehouse
}

#[test]
fn purchase_orders_on_time_filled_rejected_and_priced() {
    let warehouse = supply_warehouse();
    let ids = [
        "supplier_on_time",
        "fill_rate",
        "supplier_defect_rate",
        "purchase_price_variance",
    ];
    let rows = kpi(&warehouse, &ids, "2024-03", &[], "2024-12-31");
    // On time: PO1/1 only, of 3 lines.
    assert_fraction(row(&rows, "supplier_on_time", &[]).value, "1", "3");
    // Received 10 + 80 + 0 = 90 of 10 + 100 + 50 = 160 ordered.
    assert_fraction(row(&rows, "fill_rate", &[]).value, "90", "160");
    // Rejected 1 of 90 received.
    assert_fraction(row(&rows, "supplier_defect_rate", &[]).value, "1", "90");
    // Cost of what came: 10 × 610 + 80 × 38 = 6100 + 3040 = 9140; at
    // standard 10 × 600 + 80 × 40 = 6000 + 3200 = 9200 → −60 / 9200.
    assert_fraction(
        row(&rows, "purchase_price_variance", &[]).value,
        "-60",
        "9200",
    );
    let suppliers = kpi(&warehouse, &ids, "2024-03", &["supplier"], "2024-12-31");
    // SUP1: 1 of 2 on time, 90 of 110; SUP2: 0 of 1, 0 of 50.
    assert_fraction(
        row(&suppliers, "supplier_on_time", &["SUP1"]).value,
        "1",
        "2",
    );
    assert_fraction(row(&suppliers, "fill_rate", &["SUP1"]).value, "90", "110");
    assert_exact(row(&suppliers, "supplier_on_time", &["SUP2"]).value, "0");
    assert_exact(row(&suppliers, "fill_rate", &["SUP2"]).value, "0");
    // SUP2 received nothing: no defect rate (0 / 0), no price variance.
    assert_eq!(
        row(&suppliers, "supplier_defect_rate", &["SUP2"]).value,
        None
    );
    assert_eq!(
        row(&suppliers, "purchase_price_variance", &["SUP2"]).value,
        None
    );
    // April: PO3/1, on time, all 5 received at standard.
    let april = kpi(&warehouse, &ids, "2024-04", &[], "2024-12-31");
    assert_exact(row(&april, "supplier_on_time", &[]).value, "1");
    assert_exact(row(&april, "purchase_price_variance", &[]).value, "0");
}

#[test]
fn inspections_pass_rate_and_defects_per_million() {
    let warehouse = supply_warehouse();
    let ids = ["inspection_pass_rate", "defects_per_million"];
    let rows = kpi(&warehouse, &ids, "2024-03", &[], "2024-12-31");
    // March: I1 (10 inspected, 1 defective), I2 (80, 0), I3 (20, 0): 2 of 3
    // passed; 1 defective of 110 → 1,000,000 / 110 = 9090.909…
    assert_fraction(row(&rows, "inspection_pass_rate", &[]).value, "2", "3");
    assert_fraction(
        row(&rows, "defects_per_million", &[]).value,
        "1000000",
        "110",
    );
    let stages = kpi(&warehouse, &ids, "2024-03", &["stage"], "2024-12-31");
    assert_fraction(
        row(&stages, "inspection_pass_rate", &["incoming"]).value,
        "1",
        "2",
    );
    assert_exact(row(&stages, "inspection_pass_rate", &["final"]).value, "1");
    // By category: I1, I3 are P1 (sofas): 1 of 30 units; I2 is P2 (lighting).
    let categories = kpi(
        &warehouse,
        &["defects_per_million"],
        "2024-03",
        &["category"],
        "2024-12-31",
    );
    assert_fraction(
        row(&categories, "defects_per_million", &["sofas"]).value,
        "1000000",
        "30",
    );
    assert_exact(
        row(&categories, "defects_per_million", &["lighting"]).value,
        "0",
    );
}

#[test]
fn projects_on_schedule_count_stages_due() {
    let mut all = sources(&tiny_config());
    all.push(Source::new(
        "product_projects",
        fixture("supply/product_projects.csv"),
    ));
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &all);
    // Due in March 2024: PJ1 (done the 8th for the 10th: on time), PJ2 (the
    // 25th for the 20th: late), PJ3 (due the 31st, not done: behind) → 1 / 3.
    let march = kpi(
        &warehouse,
        &["projects_on_schedule"],
        "2024-03",
        &[],
        "2024-12-31",
    );
    assert_fraction(row(&march, "projects_on_schedule", &[]).value, "1", "3");
    // April: PJ4, done on its due day → 1.
    let april = kpi(
        &warehouse,
        &["projects_on_schedule"],
        "2024-04",
        &["category"],
        "2024-12-31",
    );
    assert_exact(
        row(&april, "projects_on_schedule", &["textiles"]).value,
        "1",
    );
}

#[test]
fn stock_outs_and_sell_through() {
    let mut all = sources(&tiny_config());
    all.push(Source::new(
        "inventory_snapshots",
        fixture("supply/stock_outs.csv"),
    ));
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &all);
    let ids = ["stock_out_rate", "sell_through"];
    // 30 April 2024: L1 holds P1 5, P2 10, P3 100; L2 (stock_outs.csv) P1 0
    // and P3 0 → 2 of 5 positions out. Units sold in April: O6 2, O7 10, O8
    // 1, O9 1 = 14, against 115 on hand at the close → 14 / 129.
    let april = kpi(&warehouse, &ids, "2024-04", &[], "2024-12-31");
    assert_fraction(row(&april, "stock_out_rate", &[]).value, "2", "5");
    assert_fraction(row(&april, "sell_through", &[]).value, "14", "129");
    // P3 alone: out at L2 of its 2 positions; 10 sold of 10 + 100.
    let skus = kpi(&warehouse, &ids, "2024-04", &["sku"], "2024-12-31");
    assert_fraction(row(&skus, "stock_out_rate", &["P3"]).value, "1", "2");
    assert_fraction(row(&skus, "sell_through", &["P3"]).value, "10", "110");
    // March: 31 March P1 10, P2 20, none out; sold O4 2 + 1, O5 3 − 1 = 5 of 5 + 30.
    let march = kpi(&warehouse, &ids, "2024-03", &[], "2024-12-31");
    assert_exact(row(&march, "stock_out_rate", &[]).value, "0");
    assert_fraction(row(&march, "sell_through", &[]).value, "5", "35");
}

#[test]
fn employee_ratings_by_person_rater_and_criterion() {
    let mut all = sources(&tiny_config());
    for table in ["employees", "evaluations"] {
        all.push(Source::new(table, fixture(&format!("people/{table}.csv"))));
    }
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &all);
    // Q1 2024 (rated on 1 January): E1 80, 70, 90 on results and 85.5 on
    // attitude; E2 60 → (80 + 70 + 90 + 85.5 + 60) / 5 = 385.5 / 5.
    let q1 = kpi(
        &warehouse,
        &["employee_rating"],
        "2024-Q1",
        &[],
        "2024-12-31",
    );
    assert_exact(row(&q1, "employee_rating", &[]).value, "77.1");
    let people = kpi(
        &warehouse,
        &["employee_rating"],
        "2024-Q1",
        &["salesperson"],
        "2024-12-31",
    );
    // E1: 325.5 / 4.
    assert_exact(row(&people, "employee_rating", &["E1"]).value, "81.375");
    assert_exact(row(&people, "employee_rating", &["E2"]).value, "60");
    let criteria = kpi(
        &warehouse,
        &["employee_rating"],
        "2024-Q1",
        &["criterion"],
        "2024-12-31",
    );
    // Results: (80 + 70 + 90 + 60) / 4 = 75; attitude 85.5.
    assert_exact(row(&criteria, "employee_rating", &["results"]).value, "75");
    assert_exact(
        row(&criteria, "employee_rating", &["attitude"]).value,
        "85.5",
    );
    // Q2: E2's 75 against Q1's 60 for E2.
    let q2 = kpi(
        &warehouse,
        &["employee_rating"],
        "2024-Q2",
        &["salesperson"],
        "2024-12-31",
    );
    let e2 = row(&q2, "employee_rating", &["E2"]);
    assert_exact(e2.value, "75");
    assert_exact(e2.previous, "60");
}
