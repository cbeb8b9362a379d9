//! Every indicator against numbers worked out by hand from
//! tests/fixtures/tiny/*.csv. The arithmetic is in the comments; the code
//! under test never produced an expected value here.
//!
//! The fixture's sales lines (net / cost), by date:
//!   2023-03-15 O2   South online  P2 lamp   2 units   180 /   80
//!   2023-03-31 O1   North store   P1 sofa   1 unit   1000 /  600
//!   2023-04-10 O3   South online  P2        1 unit     90 /   40
//!   2023-04-20 O3r  South online  P2 return -1 unit   -90 /  -40
//!   2024-03-10 O5   South online  P2        3 units   270 /  120
//!   2024-03-25 O5r  South online  P2 return -1 unit   -90 /  -40
//!   2024-03-31 O4/1 North store   P1        2 units  1900 / 1200
//!   2024-03-31 O4/2 North store   P2        1 unit    100 /   40
//!   2024-04-05 O6   South online  P2        2 units   200 /   80
//!   2024-04-12 O7   North dealer  P3       10 units   500 /  300
//!   2024-04-14 O8   North store   P1        1 unit   1000 /  600
//!   2024-04-25 O9   North store   P2        1 unit    100 /   40

use opskpi::indicators::Status;

use crate::common::*;

#[test]
fn sales_basics_with_a_return() {
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &[
            "net_sales",
            "units",
            "orders",
            "average_order_value",
            "gross_margin",
            "return_rate",
        ],
        "2024-03",
        &[],
        "2024-12-31",
    );
    // March 2024: 270 − 90 + 1900 + 100 = 2180 net; cost 120 − 40 + 1200 + 40 = 1320.
    assert_exact(row(&rows, "net_sales", &[]).value, "2180");
    // Units 3 − 1 + 2 + 1 = 5.
    assert_exact(row(&rows, "units", &[]).value, "5");
    // Orders with a sold line in March: O4 and O5 (the return is not an order).
    assert_exact(row(&rows, "orders", &[]).value, "2");
    // AOV = sold amount 270 + 1900 + 100 = 2270 over 2 orders = 1135.
    assert_exact(row(&rows, "average_order_value", &[]).value, "1135");
    // Gross margin = (2180 − 1320) / 2180 = 860 / 2180.
    assert_fraction(row(&rows, "gross_margin", &[]).value, "860", "2180");
    // Return rate = 90 returned / 2270 sold.
    assert_fraction(row(&rows, "return_rate", &[]).value, "90", "2270");
    // February 2024 has no sales: no previous value, no change, never a zero.
    let net = row(&rows, "net_sales", &[]);
    assert_eq!((net.previous, net.change_vs_previous), (None, None));
    // March 2023: 180 + 1000 = 1180; change (2180 − 1180) / 1180.
    assert_exact(net.last_year, "1180");
    assert_fraction(net.change_vs_last_year, "1000", "1180");
    assert!(!net.partial);
}

#[test]
fn year_on_year_compares_31_march_with_31_march() {
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &["net_sales", "sales_growth"],
        "2024-03-31",
        &[],
        "2024-12-31",
    );
    // 31 March 2024: 1900 + 100 = 2000. 31 March 2023: 1000 (O1). A 365-day
    // offset would land on 1 April 2023, which has no sales at all.
    let net = row(&rows, "net_sales", &[]);
    assert_exact(net.value, "2000");
    assert_exact(net.last_year, "1000");
    // Growth (2000 − 1000) / 1000 = 1.
    assert_exact(row(&rows, "sales_growth", &[]).value, "1");
    // Previous day, 30 March 2024, has no sales.
    assert_eq!(net.previous, None);
}

#[test]
fn growth_is_not_a_number_for_a_missing_or_zero_base() {
    let warehouse = tiny_warehouse();
    // March 2023 against March 2022: no data in 2022 at all.
    let rows = kpi(&warehouse, &["sales_growth"], "2023-03", &[], "2024-12-31");
    assert_eq!(row(&rows, "sales_growth", &[]).value, None);

    // April 2024 by region. South April 2023: 90 − 90 = 0, a zero base.
    // North April 2023: no sales, a missing base. Both n/a.
    let rows = kpi(
        &warehouse,
        &["net_sales", "sales_growth"],
        "2024-04",
        &["region"],
        "2024-12-31",
    );
    let south = row(&rows, "net_sales", &["South"]);
    assert_exact(south.value, "200");
    assert_exact(south.last_year, "0");
    assert_eq!(south.change_vs_last_year, None);
    assert_eq!(row(&rows, "sales_growth", &["South"]).value, None);
    let north = row(&rows, "net_sales", &["North"]);
    // North April 2024: 500 + 1000 + 100 = 1600.
    assert_exact(north.value, "1600");
    assert_eq!(north.last_year, None);
    assert_eq!(row(&rows, "sales_growth", &["North"]).value, None);
}

#[test]
fn period_on_period_year_to_date_and_cagr() {
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &["sales_growth_pop", "sales_growth_ytd", "sales_cagr_3y"],
        "2024-04",
        &[],
        "2024-12-31",
    );
    // April 2024 = 200 + 500 + 1000 + 100 = 1800 against March 2180: (1800 − 2180) / 2180.
    assert_fraction(row(&rows, "sales_growth_pop", &[]).value, "-380", "2180");
    // Year to date, 1 Jan – 30 Apr: 2024 = 2180 + 1800 = 3980; 2023 = 1180 + 0 = 1180.
    // (3980 − 1180) / 1180 = 2800 / 1180.
    assert_fraction(row(&rows, "sales_growth_ytd", &[]).value, "2800", "1180");
    // Three years back is April 2021: no data, so no CAGR.
    assert_eq!(row(&rows, "sales_cagr_3y", &[]).value, None);
}

#[test]
fn a_running_month_is_partial_and_compared_like_for_like() {
    let warehouse = tiny_warehouse();
    // As of 15 April 2024 the month holds 1–15 April: 200 + 500 + 1000 = 1700
    // (O9 on the 25th is not counted).
    let rows = kpi(&warehouse, &["net_sales"], "2024-04", &[], "2024-04-15");
    let net = row(&rows, "net_sales", &[]);
    assert!(net.partial);
    assert_exact(net.value, "1700");
    // Previous: 1–15 March 2024 = 270 (the return on the 25th is outside).
    assert_exact(net.previous, "270");
    // Last year: 1–15 April 2023 = 90 (the return on the 20th is outside).
    assert_exact(net.last_year, "90");
    // Target: April's 3000 pro rata for 15 of 30 days = 1500; 1700 ≥ 1500 is good.
    assert_exact(net.target, "1500");
    assert_eq!(net.status, Some(Status::Good));
}

#[test]
fn sales_targets_give_status() {
    let warehouse = tiny_warehouse();
    // Whole April: 1800 against 3000; warning from 95 % = 2850, so bad.
    let rows = kpi(&warehouse, &["net_sales"], "2024-04", &[], "2024-12-31");
    let net = row(&rows, "net_sales", &[]);
    assert_exact(net.target, "3000");
    assert_eq!(net.status, Some(Status::Bad));
    // March by region: North 2000 against 1800 is good; South has no target.
    let rows = kpi(
        &warehouse,
        &["net_sales"],
        "2024-03",
        &["region"],
        "2024-12-31",
    );
    assert_exact(row(&rows, "net_sales", &["North"]).target, "1800");
    assert_eq!(
        row(&rows, "net_sales", &["North"]).status,
        Some(Status::Good)
    );
    assert_eq!(row(&rows, "net_sales", &["South"]).target, None);
    assert_eq!(row(&rows, "net_sales", &["South"]).status, None);
}

#[test]
fn market_share_value_volume_relative_and_change_in_points() {
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &["market_share", "volume_share", "relative_market_share"],
        "2024-03",
        &[],
        "2024-12-31",
    );
    // Own sales in cells with market data, March 2024: North sofas 1900,
    // North lighting 100, South lighting 270 − 90 = 180: 2180.
    // Market 20000 + 1000 + 3000 = 24000. Share 2180 / 24000.
    let share = row(&rows, "market_share", &[]);
    assert_fraction(share.value, "2180", "24000");
    // March 2023: own North sofas 1000 + South lighting 180 = 1180 over
    // 10000 + 2000 = 12000 (North lighting had no market data then).
    assert_fraction(share.last_year, "1180", "12000");
    // Change in points: 2180/24000 − 1180/12000 = 0.0908333… − 0.0983333… = −0.0075.
    assert_exact(share.change_vs_last_year.map(|c| c.round_dp(12)), "-0.0075");
    // Volume: own units 2 + 1 + (3 − 1) = 5 over 20 + 10 + 30 = 60.
    let volume = row(&rows, "volume_share", &[]);
    assert_fraction(volume.value, "5", "60");
    // March 2023 South lighting has no market units: volume share is n/a.
    assert_eq!(volume.last_year, None);
    // Competitors: Rival A 5000 + 200 + 300 = 5500, Rival B 3000 + 400 + 900 = 4300.
    // Relative share = own ÷ largest competitor = 2180 / 5500.
    assert_fraction(
        row(&rows, "relative_market_share", &[]).value,
        "2180",
        "5500",
    );

    let rows = kpi(
        &warehouse,
        &["market_share", "relative_market_share"],
        "2024-03",
        &["region"],
        "2024-12-31",
    );
    // North: 2000 / 21000; largest rival in the North is A (5200 against B's 3400).
    assert_fraction(
        row(&rows, "market_share", &["North"]).value,
        "2000",
        "21000",
    );
    assert_fraction(
        row(&rows, "relative_market_share", &["North"]).value,
        "2000",
        "5200",
    );
    // South: 180 / 3000; largest rival in the South is B (900).
    assert_fraction(row(&rows, "market_share", &["South"]).value, "180", "3000");
    assert_fraction(
        row(&rows, "relative_market_share", &["South"]).value,
        "180",
        "900",
    );
}

#[test]
fn customer_satisfaction_counts_and_low_sample() {
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &["csat", "average_rating", "nps"],
        "2024-03",
        &[],
        "2024-12-31",
    );
    // CSAT answers: 5, 4, 2 (R4 gave none). Satisfied (4 or 5): 2 of 3.
    let csat = row(&rows, "csat", &[]);
    assert_fraction(csat.value, "2", "3");
    assert_exact(csat.sample_size, "3");
    // 3 answers < the minimum of 30.
    assert!(csat.low_sample);
    // Average rating (5 + 4 + 2) / 3 = 11 / 3.
    assert_fraction(row(&rows, "average_rating", &[]).value, "11", "3");
    // NPS answers 10, 8, 3, 9: promoters 10 and 9, detractor 3, passive 8.
    // (2 − 1) / 4 × 100 = 25.
    let nps = row(&rows, "nps", &[]);
    assert_exact(nps.value, "25");
    assert_exact(nps.sample_size, "4");

    let rows = kpi(
        &warehouse,
        &["csat", "nps"],
        "2024-03",
        &["channel"],
        "2024-12-31",
    );
    // Store: R1 (5, 10), R4 (–, 9): CSAT 1/1, NPS 2 promoters of 2 = 100.
    assert_exact(row(&rows, "csat", &["store"]).value, "1");
    assert_exact(row(&rows, "nps", &["store"]).value, "100");
    // Online: R2 (4, 8), R3 (2, 3): CSAT 1/2; NPS (0 − 1) / 2 × 100 = −50.
    assert_exact(row(&rows, "csat", &["online"]).value, "0.5");
    assert_exact(row(&rows, "nps", &["online"]).value, "-50");
}

#[test]
fn a_month_without_surveys_says_so() {
    let warehouse = tiny_warehouse();
    let rows = kpi(&warehouse, &["csat", "nps"], "2024-04", &[], "2024-12-31");
    let csat = row(&rows, "csat", &[]);
    assert_eq!(csat.value, None);
    assert_eq!(csat.status, None);
    // ...while March is still there to compare with: change needs both, so none.
    assert_fraction(csat.previous, "2", "3");
    assert_eq!(csat.change_vs_previous, None);
}

#[test]
fn inventory_turnover_without_an_opening_snapshot() {
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &[
            "inventory_turnover",
            "inventory_turnover_annualised",
            "days_inventory_outstanding",
            "inventory_to_sales",
        ],
        "2024-03",
        &[],
        "2024-12-31",
    );
    // No snapshot before March: the average is the snapshots in March only,
    // 31 March: P1 10 × 600 + P2 20 × 40 = 6800. COGS March = 1320.
    // Turnover 1320 / 6800.
    assert_fraction(row(&rows, "inventory_turnover", &[]).value, "1320", "6800");
    // Annualised: × 365 / 31 = 1320 × 365 / (6800 × 31) = 481800 / 210800.
    assert_fraction(
        row(&rows, "inventory_turnover_annualised", &[]).value,
        "481800",
        "210800",
    );
    // DIO: 31 / (1320 / 6800) = 210800 / 1320.
    assert_fraction(
        row(&rows, "days_inventory_outstanding", &[]).value,
        "210800",
        "1320",
    );
    // Inventory-to-sales: closing 6800 / net sales 2180.
    assert_fraction(row(&rows, "inventory_to_sales", &[]).value, "6800", "2180");
}

#[test]
fn inventory_turnover_with_opening_and_closing() {
    let warehouse = tiny_warehouse();
    let rows = kpi(
        &warehouse,
        &["inventory_turnover", "inventory_to_sales"],
        "2024-04",
        &[],
        "2024-12-31",
    );
    // Opening 31 March 6800, closing 30 April 5 × 600 + 10 × 40 + 100 × 30 = 6400.
    // Average (6800 + 6400) / 2 = 6600. COGS April 80 + 300 + 600 + 40 = 1020.
    assert_fraction(row(&rows, "inventory_turnover", &[]).value, "1020", "6600");
    // Closing 6400 over April's net sales 1800.
    assert_fraction(row(&rows, "inventory_to_sales", &[]).value, "6400", "1800");

    let rows = kpi(
        &warehouse,
        &["inventory_turnover"],
        "2024-04",
        &["category"],
        "2024-12-31",
    );
    // Sofas: (6000 + 3000) / 2 = 4500 average, COGS 600.
    assert_fraction(
        row(&rows, "inventory_turnover", &["sofas"]).value,
        "600",
        "4500",
    );
    // Lighting: (800 + 400) / 2 = 600 average, COGS 80 + 40 = 120.
    assert_fraction(
        row(&rows, "inventory_turnover", &["lighting"]).value,
        "120",
        "600",
    );
    // The vase had no stock on 31 March (0) and 3000 on 30 April: 1500 average, COGS 300.
    assert_fraction(
        row(&rows, "inventory_turnover", &["<script>alert(1)</script>"]).value,
        "300",
        "1500",
    );
}

#[test]
fn quarter_year_and_fiscal_year_grains() {
    let warehouse = tiny_warehouse();
    // Q1 2024 = March only = 2180; Q1 2023 = 1180.
    let rows = kpi(&warehouse, &["net_sales"], "2024-Q1", &[], "2024-12-31");
    assert_exact(row(&rows, "net_sales", &[]).value, "2180");
    assert_exact(row(&rows, "net_sales", &[]).last_year, "1180");
    // Year 2024 = 2180 + 1800 = 3980; 2023 = 1180 + 0 = 1180.
    let rows = kpi(&warehouse, &["net_sales"], "2024", &[], "2024-12-31");
    assert_exact(row(&rows, "net_sales", &[]).value, "3980");
    assert_exact(row(&rows, "net_sales", &[]).last_year, "1180");
    // Fiscal year from April: FY2024 = 2023-04-01 … 2024-03-31 = 0 + 2180 = 2180.
    let request = opskpi::indicators::KpiRequest {
        indicators: vec!["net_sales".into()],
        periods: vec![opskpi::calendar::Period::parse("FY2024", 4).unwrap()],
        dims: vec![],
    };
    let mut context = context("2024-12-31");
    context.calendar = 4.into();
    let rows = opskpi::indicators::compute(
        &warehouse,
        &opskpi::indicators::Catalogue::builtin(),
        &context,
        &request,
    )
    .unwrap();
    assert_exact(row(&rows, "net_sales", &[]).value, "2180");
}

#[test]
fn moving_annual_total_growth_counts_the_twelve_months_to_the_cut() {
    let warehouse = tiny_warehouse();
    // April 2024 as of the 15th: the twelve months are 2023-04-16 … 2024-04-15:
    // the return of 20 April 2023 (−90), March 2024 (270 − 90 + 1900 + 100 =
    // 2180) and 1–15 April 2024 (200 + 500 + 1000 = 1700): 3790.
    // Last year's: 2022-04-16 … 2023-04-15: 180 + 1000 + 90 = 1270.
    // (3790 − 1270) / 1270 = 2520 / 1270.
    let rows = kpi(
        &warehouse,
        &["sales_growth_mat"],
        "2024-04",
        &[],
        "2024-04-15",
    );
    assert_fraction(row(&rows, "sales_growth_mat", &[]).value, "2520", "1270");
}

#[test]
fn a_retail_calendar_has_its_own_months_and_compares_them() {
    use opskpi::calendar::{Calendar, Period, Retail};
    let warehouse = tiny_warehouse();
    let nrf = Calendar {
        fiscal_first_month: 1,
        retail: Some(Retail::NRF),
    };
    let mut context = context("2024-12-31");
    context.calendar = nrf;
    let request = opskpi::indicators::KpiRequest {
        indicators: vec!["net_sales".into(), "sales_growth".into()],
        periods: vec![Period::parse("R2024-M02", nrf).unwrap()],
        dims: vec![],
    };
    let rows = opskpi::indicators::compute(
        &warehouse,
        &opskpi::indicators::Catalogue::builtin(),
        &context,
        &request,
    )
    .unwrap();
    // NRF R2024 starts Sunday 4 February 2024; its month 2 is weeks 5–9,
    // 3 March – 6 April 2024: 270 − 90 + 1900 + 100 + 200 = 2380.
    // R2023-M02 is 26 February – 1 April 2023: 180 + 1000 = 1180.
    let net = row(&rows, "net_sales", &[]);
    assert_exact(net.value, "2380");
    assert_exact(net.last_year, "1180");
    assert_fraction(row(&rows, "sales_growth", &[]).value, "1200", "1180");
    assert_eq!(net.period.to_string(), "R2024-M02");
    // Without a retail calendar the period is refused with a hint.
    let error = Period::parse("R2024-M02", 1).unwrap_err().to_string();
    assert!(error.contains("retail calendar"), "{error}");
}

#[test]
fn unknown_names_are_refused_with_the_list_of_what_exists() {
    let warehouse = tiny_warehouse();
    let request = |ids: &[&str], dims: &[&str]| opskpi::indicators::KpiRequest {
        indicators: ids.iter().map(|s| s.to_string()).collect(),
        periods: vec![opskpi::calendar::Period::parse("2024-03", 1).unwrap()],
        dims: dims.iter().map(|s| s.to_string()).collect(),
    };
    let catalogue = opskpi::indicators::Catalogue::builtin();
    let error = |ids: &[&str], dims: &[&str]| {
        opskpi::indicators::compute(
            &warehouse,
            &catalogue,
            &context("2024-12-31"),
            &request(ids, dims),
        )
        .unwrap_err()
        .to_string()
    };
    let unknown = error(&["net_sale"], &[]);
    assert!(
        unknown.contains("unknown indicator `net_sale`") && unknown.contains("net_sales"),
        "{unknown}"
    );
    let unknown = error(&["net_sales"], &["colour"]);
    assert!(
        unknown.contains("unknown dimension `colour`") && unknown.contains("region"),
        "{unknown}"
    );
    let wrong = error(&["market_share"], &["channel"]);
    assert!(
        wrong.contains("cannot be cut by `channel`") && wrong.contains("region, category"),
        "{wrong}"
    );
}

#[test]
fn market_share_needs_whole_months() {
    let warehouse = tiny_warehouse();
    // As of 15 March 2024, March is running: its market size covers the whole
    // month, own sales half of it, so there is no share to give.
    let rows = kpi(
        &warehouse,
        &["market_share", "net_sales"],
        "2024-03",
        &[],
        "2024-03-15",
    );
    assert_eq!(row(&rows, "market_share", &[]).value, None);
    // ...while net sales for 1–15 March are there: 270 (O5 on the 10th).
    assert_exact(row(&rows, "net_sales", &[]).value, "270");
    // A single day, or a week holding the 1st of a month, has no share either.
    let rows = kpi(
        &warehouse,
        &["market_share"],
        "2024-03-01",
        &[],
        "2024-12-31",
    );
    assert_eq!(row(&rows, "market_share", &[]).value, None);
    // The first quarter of 2024 holds March whole: 2180 / 24000, as for the month.
    let rows = kpi(&warehouse, &["market_share"], "2024-Q1", &[], "2024-12-31");
    assert_fraction(row(&rows, "market_share", &[]).value, "2180", "24000");
}
