//! The direct load (clean files written straight into their tables, keys
//! proven unique as they are written) against the staged one: the same
//! rows, the same load log, whichever way a run goes.

use std::path::{Path, PathBuf};

use opskpi::config::Source;
use opskpi::warehouse::Warehouse;

use crate::common::*;

fn source(table: &str, path: &Path) -> Source {
    Source::new(table, path)
}

/// Every canonical table and the load log, as sorted text rows.
fn everything(warehouse: &Warehouse) -> Vec<String> {
    let mut tables: Vec<&str> = opskpi::model::TABLES.iter().map(|t| t.name).collect();
    tables.extend(["_opskpi_files", "_opskpi_quarantine", "_opskpi_loads"]);
    tables
        .into_iter()
        .map(|table| {
            format!(
                "{table}: {}",
                text(
                    warehouse,
                    &format!(
                        "SELECT coalesce(string_agg(CAST(x AS VARCHAR), chr(10) ORDER BY CAST(x AS VARCHAR)), '') FROM {table} x"
                    )
                )
            )
        })
        .collect()
}

#[test]
fn a_clean_run_written_directly_leaves_what_staging_leaves() {
    let dir = copy_fixture("tiny", ".csv");
    let config = tiny_config();
    let mut sources: Vec<Source> = sources(&config)
        .into_iter()
        .map(|mut source| {
            let name = source
                .path
                .as_ref()
                .unwrap()
                .file_name()
                .unwrap()
                .to_owned();
            source.path = Some(dir.path().join(name));
            source
        })
        .collect();
    // A second customers file repeating C2 (trade → dealer): rows replace
    // rows by key, across files.
    let more = dir.path().join("more-customers.csv");
    std::fs::write(
        &more,
        "customer_id,segment,region\nC2,dealer,South\nC9,retail,East\n",
    )
    .unwrap();
    sources.push(source("customers", &more));
    let staged = opskpi::ingest::IngestOptions {
        staged: true,
        ..Default::default()
    };
    let run = |warehouse: &mut Warehouse, options: &opskpi::ingest::IngestOptions| {
        opskpi::ingest::ingest(warehouse, &sources, loaded_at(), options, &|_| {}).unwrap()
    };
    let (mut direct, mut reference) = (
        Warehouse::in_memory().unwrap(),
        Warehouse::in_memory().unwrap(),
    );
    // The clean run is written directly ("loading …"), never staged
    // ("checking …", then "writing").
    let steps = std::sync::Mutex::new(Vec::new());
    let outcomes = opskpi::ingest::ingest(
        &mut direct,
        &sources,
        loaded_at(),
        &Default::default(),
        &|report| {
            if let opskpi::ingest::Report::Step(step) = report {
                steps
                    .lock()
                    .unwrap()
                    .push(step.split(' ').next().unwrap_or_default().to_string());
            }
        },
    )
    .unwrap();
    let steps = steps.into_inner().unwrap();
    assert!(steps.contains(&"loading".to_string()), "{steps:?}");
    assert!(
        !steps.iter().any(|s| s == "checking" || s == "writing"),
        "{steps:?}"
    );
    assert_eq!(outcomes, run(&mut reference, &staged));
    assert_eq!(everything(&direct), everything(&reference));
    assert_eq!(
        text(
            &direct,
            "SELECT segment FROM customers WHERE customer_id = 'C2'"
        ),
        "dealer"
    );
    // The sales file changes (O9 gone, O10 new): the next run replaces
    // exactly its rows, the same both ways.
    let sales = dir.path().join("sales.csv");
    let changed = std::fs::read_to_string(&sales)
        .unwrap()
        .replace("O9,", "O10,");
    std::fs::write(&sales, changed).unwrap();
    let outcomes = run(&mut direct, &Default::default());
    assert_eq!(outcomes, run(&mut reference, &staged));
    assert_eq!(everything(&direct), everything(&reference));
    assert_eq!(
        text(&direct, "SELECT string_agg(DISTINCT order_id, ',' ORDER BY order_id) FROM sales WHERE order_id LIKE 'O1%'"),
        "O1,O10"
    );
}

#[test]
fn a_run_with_a_row_to_set_aside_is_staged_and_loses_nothing() {
    use opskpi::config::Threshold;
    // Products first, then sales naming one unknown product: the direct
    // write of the products is rolled back and the run staged — the row set
    // aside, nothing doubled, nothing left of the attempt.
    let dir = copy_fixture("tiny", ".csv");
    let sales = dir.path().join("sales.csv");
    let text_of_sales = std::fs::read_to_string(&sales).unwrap();
    std::fs::write(&sales, text_of_sales.replacen(",P2,", ",P404,", 1)).unwrap();
    let mut sales = source("sales", &sales);
    sales.max_bad_rows = Threshold::Rows(1);
    let sources = [source("products", &dir.path().join("products.csv")), sales];
    let staged = opskpi::ingest::IngestOptions {
        staged: true,
        ..Default::default()
    };
    let mut direct = Warehouse::in_memory().unwrap();
    let mut reference = Warehouse::in_memory().unwrap();
    let outcomes = opskpi::ingest::ingest(
        &mut direct,
        &sources,
        loaded_at(),
        &Default::default(),
        &|_| {},
    )
    .unwrap();
    let staged_outcomes =
        opskpi::ingest::ingest(&mut reference, &sources, loaded_at(), &staged, &|_| {}).unwrap();
    assert_eq!(outcomes, staged_outcomes);
    assert_eq!(everything(&direct), everything(&reference));
    assert_eq!(
        text(
            &direct,
            "SELECT rule || ':' || value FROM _opskpi_quarantine"
        ),
        "unknown_reference:P404"
    );
    assert_eq!(text(&direct, "SELECT count(*)::VARCHAR FROM products"), "3");
    assert_eq!(
        text(
            &direct,
            "SELECT count(*)::VARCHAR FROM duckdb_tables() WHERE table_name LIKE '_opskpi_stage%'"
        ),
        "0"
    );
}

/// Sales lines `O00001`…, one per order, in the order given — past two of
/// DuckDB's 2,048-row chunks — their customer padded at one end or the
/// other with a space, an ideographic space (U+3000) or a no-break space
/// (U+00A0), every other region with a trailing space; then `extra` lines
/// as written.
fn many_sales(dir: &Path, name: &str, orders: &[usize], extra: &[&str]) -> PathBuf {
    let mut text = String::from("order_id,line_no,order_date,customer_id,region,net_amount\n");
    for n in orders {
        let customer = match n % 3 {
            0 => format!(" C{}", n % 7),
            1 => format!("C{}\u{3000}", n % 7),
            _ => format!("\u{a0}C{}", n % 7),
        };
        let region = if n % 2 == 0 { "North " } else { "North" };
        text.push_str(&format!(
            "O{n:05},1,2024-03-{:02},{customer},{region},{n}.25\n",
            n % 28 + 1
        ));
    }
    for line in extra {
        text.push_str(line);
        text.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Loads `sources` into a fresh warehouse: the outcome (or the error's
/// text) and the first word of each step shown ("loading", "checking", …).
fn load_with_steps(
    sources: &[Source],
    options: &opskpi::ingest::IngestOptions,
) -> (
    Warehouse,
    Result<Vec<opskpi::ingest::LoadOutcome>, String>,
    Vec<String>,
) {
    let mut warehouse = Warehouse::in_memory().unwrap();
    let steps = std::sync::Mutex::new(Vec::new());
    let outcome =
        opskpi::ingest::ingest(&mut warehouse, sources, loaded_at(), options, &|report| {
            if let opskpi::ingest::Report::Step(step) = report {
                steps.lock().unwrap().push(step.to_string());
            }
        })
        .map_err(|error| error.to_string());
    (warehouse, outcome, steps.into_inner().unwrap())
}

fn sales_rows(warehouse: &Warehouse) -> String {
    text(
        warehouse,
        "SELECT string_agg(CAST(s AS VARCHAR), chr(10) ORDER BY order_id, line_no) \
         FROM (SELECT * EXCLUDE (_file_id) FROM sales) s",
    )
}

#[test]
fn keys_in_order_are_proven_unique_as_written_and_padding_is_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let orders: Vec<usize> = (1..=5000).collect();
    let reversed: Vec<usize> = orders.iter().rev().copied().collect();
    let in_order = source(
        "sales",
        &many_sales(dir.path(), "in-order.csv", &orders, &[]),
    );
    let backwards = source(
        "sales",
        &many_sales(dir.path(), "backwards.csv", &reversed, &[]),
    );
    let grouped_keys = |steps: &[String]| {
        steps
            .iter()
            .any(|step| step.starts_with("looking for repeated keys in"))
    };

    // In key order: written directly, no key grouping afterwards.
    let (direct, outcome, steps) =
        load_with_steps(std::slice::from_ref(&in_order), &Default::default());
    assert_eq!(outcome.unwrap()[0].loaded, 5000);
    assert!(
        steps.iter().any(|step| step.starts_with("loading")),
        "{steps:?}"
    );
    assert!(!grouped_keys(&steps), "{steps:?}");
    // Backwards: the chunks' keys decrease, so the keys are grouped.
    let (grouped, outcome, steps) = load_with_steps(&[backwards], &Default::default());
    assert_eq!(outcome.unwrap()[0].loaded, 5000);
    assert!(grouped_keys(&steps), "{steps:?}");
    assert_eq!(sales_rows(&direct), sales_rows(&grouped));
    // Staged, the same file leaves the same warehouse.
    let staged = opskpi::ingest::IngestOptions {
        staged: true,
        ..Default::default()
    };
    let (reference, _, _) = load_with_steps(&[in_order], &staged);
    assert_eq!(everything(&direct), everything(&reference));
    // Every padded value arrived trimmed: 7 customers C0…C6, one region.
    assert_eq!(
        text(
            &direct,
            "SELECT count(DISTINCT customer_id) || ' ' || string_agg(DISTINCT region, ',') || ' ' \
             || count(*) FILTER (WHERE customer_id = 'C3') FROM sales"
        ),
        // C3: n ≡ 3 (mod 7) for n ≤ 5000, i.e. n = 3, 10, … 4997.
        format!("7 North {}", (3..=5000).step_by(7).count())
    );
}

#[test]
fn a_key_repeated_in_order_or_far_apart_is_still_found() {
    use opskpi::config::Threshold;
    let dir = tempfile::tempdir().unwrap();
    let orders: Vec<usize> = (1..=5000).collect();
    let staged = opskpi::ingest::IngestOptions {
        staged: true,
        ..Default::default()
    };
    // Right after itself (one chunk does not increase), and at the very end
    // (two chunks' ranges meet): each file's two rows go to quarantine
    // (the default policy), exactly as when staged.
    for (name, extra) in [
        ("adjacent.csv", "O05000,1,2024-03-01,C1,North,7.00"),
        ("far.csv", "O00001,1,2024-03-01,C1,North,7.00"),
    ] {
        let mut sales = source("sales", &many_sales(dir.path(), name, &orders, &[extra]));
        sales.max_bad_rows = Threshold::Rows(2);
        let (direct, outcome, _) = load_with_steps(&[sales.clone()], &Default::default());
        let outcome = outcome.unwrap().remove(0);
        assert_eq!(
            (outcome.loaded, outcome.quarantined, outcome.duplicates),
            (4999, 2, 2),
            "{name}"
        );
        let (reference, _, _) = load_with_steps(&[sales], &staged);
        assert_eq!(everything(&direct), everything(&reference), "{name}");
    }
}

#[test]
fn chunks_in_order_whose_ranges_overlap_are_not_taken_as_unique() {
    // A Parquet file of two row groups of 2,048 lines — DuckDB reads a
    // chunk from one row group — each in key order: the even orders
    // O00002…O04096, then the odd ones O00001…O04095 with O01999 written
    // as O02000, which the first group holds. Each chunk increases; only
    // their ranges tell the repeat.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two-runs.parquet");
    Warehouse::in_memory()
        .unwrap()
        .connection()
        .execute_batch(&format!(
            "SET preserve_insertion_order = true;
             COPY (SELECT printf('O%05d', n) AS order_id, 1 AS line_no, DATE '2024-03-01' AS order_date,
                          CAST(n AS DECIMAL(18,2)) AS net_amount
                   FROM (SELECT 1 AS run, 2 * i AS n FROM range(1, 2049) r(i)
                         UNION ALL
                         SELECT 2, CASE WHEN 2 * i - 1 = 1999 THEN 2000 ELSE 2 * i - 1 END FROM range(1, 2049) r(i))
                   ORDER BY run, n)
             TO '{}' (FORMAT parquet, ROW_GROUP_SIZE 2048)",
            path.display()
        ))
        .unwrap();
    let mut sales = source("sales", &path);
    sales.max_bad_rows = opskpi::config::Threshold::Rows(2);
    // Written directly, and staged (where the same proof spares the search
    // for repeats): both find the repeat.
    let staged = opskpi::ingest::IngestOptions {
        staged: true,
        ..Default::default()
    };
    for options in [Default::default(), staged] {
        let (warehouse, outcome, steps) = load_with_steps(std::slice::from_ref(&sales), &options);
        let outcome = outcome.unwrap().remove(0);
        assert_eq!(
            (outcome.loaded, outcome.quarantined, outcome.duplicates),
            (4094, 2, 2),
            "{steps:?}"
        );
        assert_eq!(
            text(
                &warehouse,
                "SELECT string_agg(DISTINCT value, ';') FROM _opskpi_quarantine"
            ),
            "O02000, 1"
        );
    }
}
