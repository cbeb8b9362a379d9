//! The Polars engine against the DuckDB engine: every indicator of the
//! catalogue, at every grain, for the company and by each of its
//! dimensions, must give identical rows — values, comparisons, status,
//! sample sizes — to the last digit. Then the edge fixtures of the
//! indicator tests through Polars.

use opskpi::calendar::{Calendar, Period, Retail, YearEnd};
use opskpi::config::Config;
use opskpi::engine::polars::PolarsEngine;
use opskpi::indicators::{compute, Catalogue, Engine, KpiRequest};
use opskpi::warehouse::Warehouse;

use crate::common::*;

/// The sample company with its time zone (tickets and deliveries are dated
/// in company time).
pub(crate) fn sample_company() -> (Config, Warehouse) {
    let config = Config::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/opskpi.toml"),
    )
    .unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &sources(&config));
    let offset = opskpi::config::parse_offset(&config.company.timezone).unwrap();
    (config, warehouse.in_timezone(offset))
}

/// The project in `dir` (a changed copy of a fixture) loaded into memory.
fn project_warehouse(dir: &std::path::Path) -> Warehouse {
    let config = Config::load(&dir.join("opskpi.toml")).unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &sources(&config));
    warehouse
}

/// Every indicator × period × (no dimension, each dimension) through both
/// engines; returns the number of rows compared.
fn compare(
    warehouse: &Warehouse,
    context: &opskpi::indicators::compute::Context,
    periods: &[&str],
) -> usize {
    compare_with(&PolarsEngine::new(warehouse), warehouse, context, periods)
}

/// Every indicator × period × grouping through DuckDB and `other`.
pub(crate) fn compare_with(
    other: &dyn Engine,
    warehouse: &Warehouse,
    context: &opskpi::indicators::compute::Context,
    periods: &[&str],
) -> usize {
    let catalogue = Catalogue::builtin();
    let periods: Vec<Period> = periods
        .iter()
        .map(|period| Period::parse(period, context.calendar).unwrap())
        .collect();
    // One request per grouping (the company, then each dimension) with
    // every indicator the grouping allows and every period, as the report
    // asks: each row is still compared alone.
    let mut groupings: Vec<Option<String>> = vec![None];
    for id in catalogue.ids() {
        for dim in catalogue.dimensions(catalogue.indicator(id).unwrap()) {
            if !groupings.contains(&Some(dim.clone())) {
                groupings.push(Some(dim.clone()));
            }
        }
    }
    let mut compared = 0;
    for by in groupings {
        let indicators: Vec<String> = catalogue
            .ids()
            .into_iter()
            .filter(|id| {
                by.as_ref().is_none_or(|dim| {
                    catalogue
                        .dimensions(catalogue.indicator(id).unwrap())
                        .contains(dim)
                })
            })
            .map(str::to_string)
            .collect();
        let request = KpiRequest {
            indicators,
            periods: periods.clone(),
            dims: by.iter().cloned().collect(),
        };
        let duck = compute(warehouse, &catalogue, context, &request)
            .unwrap_or_else(|e| panic!("DuckDB, by {by:?}: {e}"));
        let pl = compute(other, &catalogue, context, &request)
            .unwrap_or_else(|e| panic!("the other engine, by {by:?}: {e}"));
        assert_eq!(duck.len(), pl.len(), "by {by:?}: row counts");
        for (d, p) in duck.iter().zip(&pl) {
            assert_eq!(d, p, "by {by:?}");
        }
        compared += duck.len();
    }
    compared
}

#[test]
fn every_indicator_agrees_at_every_grain_and_dimension_on_the_sample_company() {
    let (config, warehouse) = sample_company();
    let mut context = opskpi::jobs::context(&config, date("2026-11-02"));
    // A fiscal year from April, so that FY differs from the calendar year.
    context.calendar = Calendar::from(4);
    // Day, week, month, quarter, year, fiscal year; whole and running
    // (cut by the as-of date) periods; the sofa stock-out month.
    let periods = [
        "2026-06-30",
        "2026-10-31",
        "2026-W27",
        "2026-W44",
        "2026-06",
        "2026-10",
        "2026-11",
        "2026-Q2",
        "2026-Q4",
        "2025",
        "2026",
        "FY2026",
        "FY2027",
    ];
    let compared = compare(&warehouse, &context, &periods);
    println!("{compared} rows compared");
    assert!(compared > 5_000, "{compared} rows compared");
}

#[test]
fn tables_read_in_parallel_ranges_give_the_same_numbers() {
    // Large tables are read in row-id ranges on several connections and
    // stacked; here every table of the sample company is, however small.
    let (config, warehouse) = sample_company();
    let context = opskpi::jobs::context(&config, date("2026-11-02"));
    let polars = PolarsEngine::new(&warehouse).split_reads_from(2);
    let compared = compare_with(
        &polars,
        &warehouse,
        &context,
        &["2026-06", "2026-Q3", "2025"],
    );
    assert!(compared > 1_000, "{compared} rows compared");
}

/// The NRF 4-5-4 calendar: the year ends on the Saturday nearest the end of
/// January.
pub(crate) fn nrf_calendar() -> Calendar {
    Calendar {
        fiscal_first_month: 1,
        retail: Some(Retail {
            pattern: [4, 5, 4],
            end_month: 1,
            end_weekday: 5,
            rule: YearEnd::Nearest,
        }),
    }
}

#[test]
fn every_indicator_agrees_in_a_retail_calendar() {
    // The NRF 4-5-4 calendar (the year ends on the Saturday nearest the end
    // of January): retail weeks, months, quarters and years.
    let (config, warehouse) = sample_company();
    let mut context = opskpi::jobs::context(&config, date("2026-11-02"));
    context.calendar = nrf_calendar();
    let compared = compare(
        &warehouse,
        &context,
        &["R2026-W22", "R2026-M05", "R2026-M09", "R2026-Q2", "R2025"],
    );
    println!("{compared} rows compared");
    assert!(compared > 2_000, "{compared} rows compared");
}

#[test]
fn every_indicator_agrees_on_the_tiny_company_edges() {
    // Partial periods, a missing prior year (2023), returns, a zero base.
    let warehouse = tiny_warehouse();
    let compared = compare(
        &warehouse,
        &context("2024-12-31"),
        &[
            "2024-03",
            "2024-04",
            "2024-Q1",
            "2024",
            "2024-03-31",
            "2024-W13",
            "2023-03",
        ],
    );
    assert!(compared > 500, "{compared} rows compared");
}

#[test]
fn an_order_sold_over_several_days_counts_once_in_a_window_that_holds_both() {
    // The tiny company and order O10, sold on 30 March and on 2 April 2024;
    // its lines in the order of their ids (the Polars engine finds each
    // order's lines as a run), then in reverse (it groups on the order).
    for reversed in [false, true] {
        let dir = copy_fixture("tiny", "");
        let sales = dir.path().join("sales.csv");
        let mut text = std::fs::read_to_string(&sales).unwrap();
        text.push_str("O10,1,2024-03-30,C3,P3,D1,dealer,North,E2,1,50.00,30.00\n");
        text.push_str("O10,2,2024-04-02,C3,P1,D1,dealer,North,E2,1,1000.00,600.00\n");
        if reversed {
            let mut lines: Vec<&str> = text.lines().collect();
            lines[1..].reverse();
            text = lines.join("\n") + "\n";
        }
        std::fs::write(&sales, text).unwrap();
        let warehouse = project_warehouse(dir.path());
        // By hand: March 2024 sold O4, O5 and O10; April O6–O9 and O10; the
        // year 2024 seven orders, O10 once. Active customers: March C1
        // (O4), C2 (O5), C3 (O10), none with two orders; April C1 (O8, O9),
        // C2 (O6), C3 (O7, O10): two of three with two orders; 2024 all
        // three (C1 three orders, C2 and C3 two each).
        for (period, orders, active, repeat) in [
            ("2024-03", "3", "3", "0"),
            ("2024-04", "5", "3", "2/3"),
            ("2024", "7", "3", "1"),
        ] {
            let indicators = ["orders", "active_customers", "repeat_purchase_rate"];
            // `kpi` also runs the Polars engine and requires the same rows.
            let rows = kpi(&warehouse, &indicators, period, &[], "2024-12-31");
            assert_exact(row(&rows, "orders", &[]).value, orders);
            assert_exact(row(&rows, "active_customers", &[]).value, active);
            match repeat.split_once('/') {
                Some((n, d)) => {
                    assert_fraction(row(&rows, "repeat_purchase_rate", &[]).value, n, d)
                }
                None => assert_exact(row(&rows, "repeat_purchase_rate", &[]).value, repeat),
            }
        }
        // By category: O10 is one order of each of its two products' categories.
        let compared = compare(
            &warehouse,
            &context("2024-12-31"),
            &[
                "2024-03", "2024-04", "2024-Q1", "2024-Q2", "2024", "2024-W14",
            ],
        );
        assert!(compared > 300, "{compared} rows compared");
    }
}

#[test]
fn coarser_groupings_summed_from_finer_ones_agree() {
    // One Polars engine sums a coarser grouping of the sales lines from a
    // finer one it made before (region by channel, then region, channel,
    // the company; new products by category, then the company, then
    // without the launch date): each request against the DuckDB engine.
    let warehouse = tiny_warehouse();
    let context = context("2024-12-31");
    let catalogue = Catalogue::builtin();
    let polars = PolarsEngine::new(&warehouse);
    let sales = ["net_sales", "gross_margin", "return_rate"];
    let requests: [(&[&str], &[&str]); 6] = [
        (&sales, &["region", "channel"]),
        (&sales, &["region"]),
        (&sales, &["channel"]),
        (&["new_product_share"], &["category"]),
        (&["new_product_share"], &[]),
        (&sales, &[]),
    ];
    for period in ["2024-03", "2024-04", "2024"] {
        for (indicators, dims) in requests {
            let request = KpiRequest {
                indicators: indicators.iter().map(|i| i.to_string()).collect(),
                periods: vec![Period::parse(period, context.calendar).unwrap()],
                dims: dims.iter().map(|d| d.to_string()).collect(),
            };
            let duck = compute(&warehouse, &catalogue, &context, &request).unwrap();
            let pl = compute(&polars, &catalogue, &context, &request).unwrap();
            assert!(!duck.is_empty());
            assert_eq!(duck, pl, "{indicators:?} by {dims:?} in {period}");
        }
    }
    // By hand: April 2024 by region, North O7 500 + O8 1,000 + O9 100.
    let request = KpiRequest {
        indicators: vec!["net_sales".into()],
        periods: vec![Period::parse("2024-04", context.calendar).unwrap()],
        dims: vec!["region".into()],
    };
    let rows = compute(&polars, &catalogue, &context, &request).unwrap();
    assert_exact(row(&rows, "net_sales", &["North"]).value, "1600");
}

#[test]
fn ids_of_any_length_and_script_count_as_themselves() {
    // The Polars engine reads id columns packed into numbers (ASCII up to
    // 17 bytes, any other text up to 15) and a column with a longer id as
    // text. The tiny company with its ids renamed three ways — Chinese
    // customers and 24-byte orders (read as text), 17-byte ASCII orders and
    // ASCII and 15-byte Chinese customers (the longest packed), 18-byte
    // customers (as text) — must count as the tiny company does.
    type Rename = fn(&str) -> String;
    // How to rename order and customer ids, and the longest of each in bytes.
    let renamings: [(Rename, Rename, &str); 3] = [
        (
            |n| format!("ORDER-2024-LONG-ID-{n:0>5}"),
            |n| format!("顧客{n}"),
            "24 7",
        ),
        (
            |n| format!("SO-2024-{n:0>9}"),
            // C1 in ASCII, the others in Chinese: numbers 2^126 apart,
            // which the scan numbers through a hash map.
            |n| match n {
                "1" => "A-1".to_string(),
                n => format!("顧客甲乙{n:0>3}"),
            },
            "17 15",
        ),
        (|n| format!("O{n}"), |n| format!("CUSTOMER-{n:0>9}"), "2 18"),
    ];
    for (order, customer, lengths) in renamings {
        let dir = copy_fixture("tiny", "");
        for file in ["sales.csv", "customers.csv", "surveys.csv"] {
            let path = dir.path().join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            let renamed: Vec<String> = text
                .lines()
                .map(|line| {
                    line.split(',')
                        .map(
                            |field| match (field.strip_prefix('O'), field.strip_prefix('C')) {
                                (Some(n), _) if n.parse::<u32>().is_ok() => order(n),
                                (_, Some(n)) if n.parse::<u32>().is_ok() => customer(n),
                                _ => field.to_string(),
                            },
                        )
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect();
            std::fs::write(&path, renamed.join("\n") + "\n").unwrap();
        }
        let warehouse = project_warehouse(dir.path());
        let longest = text(
            &warehouse,
            "SELECT max(strlen(order_id)) || ' ' || max(strlen(customer_id)) FROM sales",
        );
        assert_eq!(longest, lengths);
        // By hand (tiny's sales): March 2024 sold O4 (C1) and O5 (C2);
        // April O6 (C2), O7 (C3, first ever), O8 and O9 (both C1).
        let indicators = [
            "orders",
            "active_customers",
            "new_customers",
            "repeat_purchase_rate",
        ];
        for (period, expected) in [
            ("2024-03", ["2", "2", "0", "0"]),
            ("2024-04", ["4", "3", "1", "1/3"]),
        ] {
            // `kpi` also runs the Polars engine and requires the same rows.
            let rows = kpi(&warehouse, &indicators, period, &[], "2024-12-31");
            for (indicator, value) in indicators.iter().zip(expected) {
                match value.split_once('/') {
                    Some((n, d)) => assert_fraction(row(&rows, indicator, &[]).value, n, d),
                    None => assert_exact(row(&rows, indicator, &[]).value, value),
                }
            }
        }
        let compared = compare(
            &warehouse,
            &context("2024-12-31"),
            &["2024-03", "2024-04", "2024"],
        );
        assert!(compared > 200, "{compared} rows compared");
    }
}

#[test]
fn dimension_values_in_any_script_come_back_as_themselves() {
    // The Polars engine groups the sales lines on their dimensions' texts
    // packed into numbers and unpacks them after; a value too long to pack
    // makes its column grouped as text. The tiny company with its regions
    // renamed: North as 北區 (6 bytes, packed) and South as 南部地區營業處所
    // (24 bytes: the region column then groups as text), and its stores
    // S1 as 台北旗艦店 (15 bytes, the longest packed).
    for (north, south) in [("北區", "南部地區營業處所"), ("北區", "南")] {
        let dir = copy_fixture("tiny", "");
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "csv") {
                let text = std::fs::read_to_string(&path).unwrap();
                let text = text
                    .replace(",North", &format!(",{north}"))
                    .replace(",South", &format!(",{south}"))
                    .replace(",S1,", ",台北旗艦店,")
                    .replace("\nS1,", "\n台北旗艦店,");
                std::fs::write(&path, text).unwrap();
            }
        }
        let warehouse = project_warehouse(dir.path());
        // By hand (tiny's sales): March 2024 North O4 1,900 + 100, South O5
        // 270 − 90; April North O7 500 + O8 1,000 + O9 100, South O6 200.
        // Store S1 sold O4 in March and O8, O9 in April.
        for (period, north_sales, south_sales, s1_sales) in [
            ("2024-03", "2000", "180", "2000"),
            ("2024-04", "1600", "200", "1100"),
        ] {
            // `kpi` also runs the Polars engine and requires the same rows.
            let rows = kpi(
                &warehouse,
                &["net_sales"],
                period,
                &["region"],
                "2024-12-31",
            );
            assert_exact(row(&rows, "net_sales", &[north]).value, north_sales);
            assert_exact(row(&rows, "net_sales", &[south]).value, south_sales);
            let rows = kpi(&warehouse, &["net_sales"], period, &["store"], "2024-12-31");
            assert_exact(row(&rows, "net_sales", &["台北旗艦店"]).value, s1_sales);
        }
        let compared = compare(
            &warehouse,
            &context("2024-12-31"),
            &["2024-03", "2024-04", "2024"],
        );
        assert!(compared > 200, "{compared} rows compared");
    }
}

/// `kpi ... --format csv` on the tiny project, with extra arguments.
fn kpi_csv(project: &std::path::Path, extra: &[&str]) -> String {
    let config = crate::cmd::config_arg(project);
    let mut args = vec![
        "kpi",
        "net_sales",
        "units",
        "--period",
        "2024-03",
        "--by",
        "region",
        "--format",
        "csv",
        "--as-of",
        "2024-12-31",
        "--config",
        &config,
    ];
    args.extend_from_slice(extra);
    let output = crate::cmd::opskpi(&args);
    assert!(output.status.success(), "{}", crate::cmd::stderr(&output));
    crate::cmd::stdout(&output)
}

#[test]
fn the_engine_is_chosen_per_command_or_in_the_config() {
    let project = crate::cmd::tiny_project();
    let duck = kpi_csv(project.path(), &[]);
    let polars = kpi_csv(project.path(), &["--engine", "polars"]);
    assert_eq!(duck, polars);
    // By hand (tests/indicators.rs): March 2024, North 1900 + 100 = 2000,
    // South 270 − 90 = 180.
    assert!(
        polars.contains("net_sales,Net sales,money,relative,2024-03,false,North,2000,"),
        "{polars}"
    );
    assert!(
        polars.contains("net_sales,Net sales,money,relative,2024-03,false,South,180,"),
        "{polars}"
    );
    // `engine = "polars"` in the config; a word it does not know is refused.
    let path = project.path().join("opskpi.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("engine = \"polars\"\n{text}")).unwrap();
    assert_eq!(kpi_csv(project.path(), &[]), duck);
    std::fs::write(&path, format!("engine = \"sparks\"\n{text}")).unwrap();
    let config = crate::cmd::config_arg(project.path());
    let output = crate::cmd::opskpi(&["kpi", "net_sales", "--config", &config]);
    assert!(!output.status.success());
    assert!(
        crate::cmd::stderr(&output).contains("sparks"),
        "{}",
        crate::cmd::stderr(&output)
    );
}

#[test]
fn the_monthly_report_is_the_same_through_either_engine() {
    let project = crate::cmd::tiny_project();
    let config = crate::cmd::config_arg(project.path());
    let mut pages = Vec::new();
    for engine in ["duckdb", "polars"] {
        let out = project.path().join(engine);
        let output = crate::cmd::opskpi(&[
            "report",
            "monthly",
            "--period",
            "2024-03",
            "--as-of",
            "2024-12-31",
            "--engine",
            engine,
            "--config",
            &config,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", crate::cmd::stderr(&output));
        pages.push(std::fs::read_to_string(out.join("monthly-2024-03.html")).unwrap());
        // The manifest says which engine computed the numbers.
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("monthly-2024-03.manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["engine"], engine);
    }
    assert!(
        pages[0].contains("2,180"),
        "March 2024's net sales by hand: 2,180"
    );
    assert_eq!(pages[0], pages[1]);
}

#[test]
fn data_from_a_folder_needs_no_warehouse_and_is_checked_as_ingest_checks() {
    let folder = copy_fixture("tiny", ".csv");
    let data = folder.path().to_str().unwrap();
    let run = |engine: &str| {
        crate::cmd::opskpi(&[
            "kpi",
            "net_sales",
            "--period",
            "2024-03",
            "--format",
            "csv",
            "--as-of",
            "2024-12-31",
            "--engine",
            engine,
            "--data",
            data,
            "--config",
            folder.path().join("none.toml").to_str().unwrap(),
        ])
    };
    for engine in ["duckdb", "polars"] {
        let output = run(engine);
        assert!(output.status.success(), "{}", crate::cmd::stderr(&output));
        let text = crate::cmd::stdout(&output);
        // 1900 + 100 + 270 − 90; March 2023: 180 + 1000.
        assert!(text.contains("2024-03,false,2180,,,1180,"), "{text}");
    }
    // Nothing was written beside the files.
    assert!(!folder.path().join("warehouse.duckdb").exists());
    // The same files give the same report, byte for byte (the load time
    // is the files' own).
    let report = |out: &str| {
        let out = folder.path().join(out);
        let output = crate::cmd::opskpi(&[
            "report",
            "monthly",
            "--period",
            "2024-03",
            "--as-of",
            "2024-12-31",
            "--data",
            data,
            "--engine",
            "polars",
            "--out",
            out.to_str().unwrap(),
            "--config",
            folder.path().join("none.toml").to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", crate::cmd::stderr(&output));
        std::fs::read(out.join("monthly-2024-03.html")).unwrap()
    };
    let first = report("first");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(first, report("second"));
    std::fs::remove_dir_all(folder.path().join("first")).unwrap();
    std::fs::remove_dir_all(folder.path().join("second")).unwrap();
    // A bad value stops it with ingest's own message: file, row, column, value.
    let sales = folder.path().join("sales.csv");
    let text = std::fs::read_to_string(&sales).unwrap();
    std::fs::write(&sales, text.replace("2024-03-10", "2024-03-32")).unwrap();
    let output = run("polars");
    assert!(!output.status.success());
    let error = crate::cmd::stderr(&output);
    assert!(
        error.contains("sales.csv") && error.contains("order_date") && error.contains("2024-03-32"),
        "{error}"
    );
    // A file named after no table is refused, not silently left out.
    std::fs::write(&sales, text).unwrap();
    std::fs::write(folder.path().join("sale.csv"), "x\n1\n").unwrap();
    let error = crate::cmd::stderr(&run("polars"));
    assert!(error.contains("names no canonical table"), "{error}");
}

#[test]
fn with_data_kpi_loads_only_the_tables_it_reads_and_gives_the_same_rows() {
    let (config, warehouse) = sample_company();
    let catalogue = Catalogue::builtin();
    // Net sales: `queries/components/sales.sql` reads sales, customers
    // (segment) and products (category, launch date); its target comes from
    // `targets.sql` (sales_targets against sales).
    assert_eq!(
        catalogue
            .tables_read(&["net_sales".to_string()])
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        ["customers", "products", "sales", "sales_targets"]
    );
    // Every indicator alone from the folder (its tables and those they
    // refer to) against the whole company loaded: the same rows.
    let mut with_data = config.clone();
    with_data.data = Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data"));
    let as_of = date("2026-11-02");
    let context = opskpi::jobs::context(&config, as_of);
    for id in catalogue.ids() {
        let request = KpiRequest {
            indicators: vec![id.to_string()],
            periods: vec![Period::parse("2026-10", context.calendar).unwrap()],
            dims: Vec::new(),
        };
        let whole = compute(&warehouse, &catalogue, &context, &request).unwrap();
        // The Polars engine reads no table the SQL does not name.
        let polars = PolarsEngine::new(&warehouse);
        assert_eq!(
            compute(&polars, &catalogue, &context, &request).unwrap(),
            whole
        );
        let named = catalogue.tables_read(&request.indicators).unwrap();
        for table in polars.tables_read() {
            assert!(
                named.contains(table),
                "{id}: Polars reads `{table}`, its SQL does not"
            );
        }
        let from_folder = opskpi::jobs::kpi(&with_data, as_of, &request)
            .unwrap_or_else(|e| panic!("{id} from the folder: {e}"));
        assert_eq!(whole, from_folder, "{id}");
    }
}
