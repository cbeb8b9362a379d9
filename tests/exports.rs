//! Real exports as they come: rows that are not business (a source's row
//! filter, cancelled deliveries), float artifacts in money, compressed
//! files, sales without line numbers — each with values worked out by hand
//! on a small file.

use std::io::Write;
use std::path::Path;

use opskpi::config::{ColumnDetail, ColumnSpec, Decimals, Filters, Generate, RowFilter, Source};
use opskpi::warehouse::Warehouse;

use crate::cmd::*;
use crate::common::*;

fn filter(toml_text: &str) -> Filters {
    #[derive(serde::Deserialize)]
    struct Holder {
        keep: Filters,
    }
    toml::from_str::<Holder>(toml_text).unwrap().keep
}

/// Deliveries of October 2026 worked by hand: promised → delivered, status.
const DELIVERIES: &str = "\
order_id,order_status,promised,delivered
A,delivered,2026-10-05,2026-10-04 10:00
B,delivered,2026-10-06,2026-10-08 10:00
C,canceled,2026-10-07,
D,shipped,2026-10-08,
E,已取消,2026-10-09,
F,已送達,2026-10-10,2026-10-10 18:00
";

fn deliveries_source(path: &Path) -> Source {
    Source::new("deliveries", path)
        .map("promised_on", "promised")
        .map("delivered_at", "delivered")
}

#[test]
fn a_cancelled_delivery_is_not_due() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    std::fs::write(&path, DELIVERIES).unwrap();
    // `order_status` feeds `status` by the dictionary; `canceled` and 已取消
    // are cancelled, `shipped` is open, 已送達 delivered.
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &[deliveries_source(&path)]);
    assert_eq!(
        text(
            &warehouse,
            "SELECT string_agg(order_id || ':' || status, ' ' ORDER BY order_id) FROM deliveries"
        ),
        "A:delivered B:delivered C:cancelled D:open E:cancelled F:delivered"
    );
    // Due: A, B, D, F (C and E cancelled). On time: A and F. 2 / 4.
    let rows = crate::common::kpi(
        &warehouse,
        &["on_time_delivery"],
        "2026-10",
        &[],
        "2026-11-01",
    );
    assert_fraction(rows[0].value, "2", "4");
    // The saved query of late deliveries leaves the cancelled out: B (two
    // days late, delivered 10-08 in company time) and D (not delivered, 23
    // days overdue at the period's end).
    std::fs::write(
        dir.path().join("opskpi.toml"),
        "[company]\nname = \"T\"\ncurrency = \"TWD\"\ntimezone = \"+08:00\"\n\n\
         [[sources]]\ntable = \"deliveries\"\npath = \"orders.csv\"\n\
         [sources.columns]\npromised_on = \"promised\"\ndelivered_at = \"delivered\"\n",
    )
    .unwrap();
    let config = config_arg(dir.path());
    let output = opskpi(&["ingest", "--config", &config, "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = opskpi(&[
        "query",
        "late_deliveries",
        "--param",
        "period=2026-10",
        "--format",
        "csv",
        "--config",
        &config,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "carrier,order_id,promised_on,delivered_on,days_late,not_delivered\n\
         ,D,2026-10-08,,23,true\n\
         ,B,2026-10-06,2026-10-08,2,false\n"
    );
}

#[test]
fn a_row_filter_leaves_rows_out_counted_and_keeps_lines_true() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    // Line 4 (C) and line 6 (E) are left out; line 8 has a bad date.
    let text_in = format!("{DELIVERIES}G,delivered,2026-10-xx,\n");
    std::fs::write(&path, text_in).unwrap();
    let mut source = deliveries_source(&path);
    source.keep = Some(filter(
        r#"keep = { column = "order_status", not_in = ["canceled", "已取消"] }"#,
    ));
    source.max_bad_rows = opskpi::config::Threshold::Rows(5);
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = &load(&mut warehouse, &[source])[0];
    assert_eq!((outcome.rows, outcome.left_out), (7, 2));
    assert_eq!((outcome.loaded, outcome.quarantined), (4, 1));
    assert_eq!(outcome.problems[0].line, 8, "{:?}", outcome.problems);
    let summary = opskpi::ingest::summary(std::slice::from_ref(outcome), false);
    assert!(
        summary.contains("2 rows left out by the source's filter"),
        "{summary}"
    );
    // The load log keeps the count for the report's appendix.
    let set_aside = warehouse.set_aside().unwrap();
    let left: Vec<_> = set_aside.iter().filter(|s| s.rule == "left_out").collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].rows, 2);
    // Without a status column the filter alone makes the rate: 2 of 4.
    let rows = crate::common::kpi(
        &warehouse,
        &["on_time_delivery"],
        "2026-10",
        &[],
        "2026-11-01",
    );
    assert_fraction(rows[0].value, "2", "4");
}

#[test]
fn filters_compare_numbers_and_dates_and_refuse_what_they_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sales.csv");
    std::fs::write(
        &path,
        "order_id,line_no,order_date,sku,quantity,net_amount,type\n\
         1,1,2026-10-01,A,2,10,sale\n\
         1,2,2026-10-01,B,0,0,sale\n\
         2,1,2026-09-30,A,1,5,sale\n\
         3,1,2026-10-02,A,x,7,sale\n\
         4,1,2026-10-03,A,3,9,void\n\
         5,1,2026-10-04,A,1,4,\n",
    )
    .unwrap();
    let mut source = Source::new("sales", &path);
    source.keep = Some(filter(
        r#"keep = [
            { column = "quantity", greater_than = 0 },
            { column = "order_date", at_least = 2026-10-01 },
            { column = "type", not_equals = "void" },
        ]"#,
    ));
    source.max_bad_rows = opskpi::config::Threshold::Rows(5);
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = &load(&mut warehouse, &[source])[0];
    // Left out: order 1 line 2 (quantity 0), order 2 (September), order 4
    // (void). Order 3's quantity `x` cannot be compared: set aside. Order 5
    // has no type: not `void`, kept.
    assert_eq!(
        (outcome.left_out, outcome.quarantined, outcome.loaded),
        (3, 1, 2)
    );
    assert_eq!(outcome.problems[0].value.as_deref(), Some("x"));
    assert!(
        outcome.problems[0]
            .message
            .contains("the source's filter `quantity` > 0"),
        "{:?}",
        outcome.problems
    );
    assert_eq!(
        text(
            &warehouse,
            "SELECT string_agg(order_id, ',' ORDER BY order_id) FROM sales"
        ),
        "1,5"
    );
    // A filter on a column the file lacks names the columns it has.
    let mut source = Source::new("sales", &path);
    source.keep = Some(filter(r#"keep = { column = "status", in = ["ok"] }"#));
    let mut warehouse = Warehouse::in_memory().unwrap();
    let error = refusal(&mut warehouse, &[source]);
    assert!(
        error.contains("has no column `status`, which the source's filter tests"),
        "{error}"
    );
    assert!(error.contains("`type`"), "{error}");
}

fn sales_with(amounts: &[&str]) -> String {
    let mut text = String::from("order_id,line_no,order_date,sku,quantity,net_amount\n");
    for (i, amount) in amounts.iter().enumerate() {
        text.push_str(&format!("{},1,2026-10-01,A,1,{amount}\n", i + 1));
    }
    text
}

#[test]
fn float_artifacts_round_only_when_asked_and_only_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sales.csv");
    // 31.16, 0.3 and 5.1 written by a binary float; 31.15649 is a real
    // fifth decimal in a 4-decimal column; 2.5 is plain.
    std::fs::write(
        &path,
        sales_with(&[
            "31.159999999999997",
            "0.30000000000000004",
            "5.1000000000000005",
            "31.15649",
            "2.5",
        ]),
    )
    .unwrap();
    let mut source = Source::new("sales", &path);
    source.max_bad_rows = opskpi::config::Threshold::Rows(5);
    // Off by default: the three artifacts and 31.15649 are set aside.
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = &load(&mut warehouse, std::slice::from_ref(&source))[0];
    assert_eq!(
        (outcome.loaded, outcome.quarantined, outcome.rounded),
        (1, 4, 0)
    );
    // `decimals = "round"` on the source.
    source.decimals = Decimals::Round;
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = &load(&mut warehouse, std::slice::from_ref(&source))[0];
    assert_eq!(
        (outcome.loaded, outcome.quarantined, outcome.rounded),
        (4, 1, 3)
    );
    assert_eq!(outcome.problems[0].value.as_deref(), Some("31.15649"));
    // 31.16 + 0.3 + 5.1 + 2.5 = 39.06, exactly.
    assert_eq!(
        text(
            &warehouse,
            "SELECT CAST(sum(net_amount) AS VARCHAR) FROM sales"
        ),
        "39.0600"
    );
    let summary = opskpi::ingest::summary(std::slice::from_ref(outcome), false);
    assert!(
        summary.contains("3 values rounded from float artifacts"),
        "{summary}"
    );
    // Or on one column only.
    let mut source = Source::new("sales", &path);
    source.columns.insert(
        "net_amount".into(),
        ColumnSpec::Detail(ColumnDetail {
            column: Some("net_amount".into()),
            decimals: Some(Decimals::Round),
            ..Default::default()
        }),
    );
    source.max_bad_rows = opskpi::config::Threshold::Rows(5);
    let mut warehouse = Warehouse::in_memory().unwrap();
    assert_eq!(load(&mut warehouse, &[source])[0].rounded, 3);
}

#[test]
fn line_numbers_are_generated_per_order_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retail.csv");
    // An online retailer's lines: no line number, products repeat within
    // an invoice; a quantity-0 line left out takes no number.
    std::fs::write(
        &path,
        "InvoiceNo,StockCode,InvoiceDate,Quantity,Sales\n\
         536365,85123A,2026-10-01,6,15.30\n\
         536365,71053,2026-10-01,0,0\n\
         536365,84406B,2026-10-01,8,22.00\n\
         536366,22633,2026-10-01,6,11.10\n\
         536365,85123A,2026-10-01,2,5.10\n\
         536366,22632,2026-10-01,6,11.10\n",
    )
    .unwrap();
    let mut source = Source::new("sales", &path);
    source.columns.insert(
        "line_no".into(),
        ColumnSpec::Detail(ColumnDetail {
            generate: Some(Generate::PerOrder),
            ..Default::default()
        }),
    );
    source.keep = Some(filter(
        r#"keep = { column = "Quantity", greater_than = 0 }"#,
    ));
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = &load(&mut warehouse, &[source])[0];
    assert_eq!((outcome.loaded, outcome.left_out), (5, 1));
    assert_eq!(
        text(
            &warehouse,
            "SELECT string_agg(order_id || '/' || line_no || '=' || sku, ' ' ORDER BY order_id, line_no) FROM sales"
        ),
        "536365/1=85123A 536365/2=84406B 536365/3=85123A 536366/1=22633 536366/2=22632"
    );
    // Generating any other column is refused before anything is read.
    let mut source = Source::new("sales", &path);
    source.columns.insert(
        "quantity".into(),
        ColumnSpec::Detail(ColumnDetail {
            generate: Some(Generate::PerOrder),
            ..Default::default()
        }),
    );
    let error = source.check().unwrap_err().to_string();
    assert!(
        error.contains("only `sales.line_no` can be generated"),
        "{error}"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A Big5 sales export, as an ERP writes it: total 1,234.5 + 99 = 1,333.5.
fn big5_sales() -> Vec<u8> {
    let text = "訂單編號,項次,銷售日期,品號,數量,銷售金額,銷售成本\r\n\
                S1,1,2026/10/01,沙發-A,1,\"1,234.5\",800\r\n\
                S2,1,2026/10/02,檯燈-B,3,99,60\r\n";
    encoding_rs::BIG5.encode(text).0.into_owned()
}

#[test]
fn gzip_zstd_and_zip_are_read_as_their_content() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = big5_sales();
    let gz = dir.path().join("sales.csv.gz");
    std::fs::write(&gz, gzip(&bytes)).unwrap();
    let zst = dir.path().join("sales.csv.zst");
    std::fs::write(&zst, zstd::encode_all(&bytes[..], 3).unwrap()).unwrap();
    let zipped = dir.path().join("export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("銷貨明細.csv", options).unwrap();
    zip.write_all(&bytes).unwrap();
    zip.add_directory("__MACOSX/", options).unwrap();
    zip.finish().unwrap();
    for path in [&gz, &zst, &zipped] {
        let mut warehouse = Warehouse::in_memory().unwrap();
        let outcome = &load(&mut warehouse, &[Source::new("sales", path)])[0];
        assert_eq!(outcome.loaded, 2, "{}", path.display());
        // The encoding was detected on the unpacked bytes.
        let notes: Vec<String> = outcome
            .notes
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        assert!(notes.iter().any(|n| n.contains("Big5")), "{notes:?}");
        assert_eq!(
            text(&warehouse, "SELECT CAST(sum(net_amount) AS VARCHAR) || ' ' || CAST(sum(cost_amount) AS VARCHAR) FROM sales"),
            "1333.5000 860.0000"
        );
    }
}

#[test]
fn packed_json_and_a_zipped_workbook_are_read_too() {
    let dir = tempfile::tempdir().unwrap();
    // JSON lines in zstd: 12.5 + 7.25 = 19.75.
    let json = "{\"order_id\":\"J1\",\"line_no\":1,\"order_date\":\"2026-10-01\",\"sku\":\"A\",\"quantity\":1,\"net_amount\":12.5}\n\
                {\"order_id\":\"J2\",\"line_no\":1,\"order_date\":\"2026-10-02\",\"sku\":\"B\",\"quantity\":2,\"net_amount\":7.25}\n";
    let zst = dir.path().join("sales.ndjson.zst");
    std::fs::write(&zst, zstd::encode_all(json.as_bytes(), 3).unwrap()).unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    assert_eq!(
        load(&mut warehouse, &[Source::new("sales", &zst)])[0].loaded,
        2
    );
    assert_eq!(
        text(
            &warehouse,
            "SELECT CAST(sum(net_amount) AS VARCHAR) FROM sales"
        ),
        "19.7500"
    );
    // A workbook inside a zip (an e-mailed export): 100 + 250.5 = 350.5.
    let workbook_path = dir.path().join("銷貨.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let rows = [
        ["訂單編號", "項次", "銷售日期", "品號", "數量", "銷售金額"],
        ["W1", "1", "2026-10-01", "A", "1", "100"],
        ["W2", "1", "2026-10-02", "B", "1", "250.5"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    workbook.save(&workbook_path).unwrap();
    let zipped = dir.path().join("export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("銷貨.xlsx", options).unwrap();
    zip.write_all(&std::fs::read(&workbook_path).unwrap())
        .unwrap();
    zip.finish().unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    assert_eq!(
        load(&mut warehouse, &[Source::new("sales", &zipped)])[0].loaded,
        2
    );
    assert_eq!(
        text(
            &warehouse,
            "SELECT CAST(sum(net_amount) AS VARCHAR) FROM sales"
        ),
        "350.5000"
    );
    // The workbook itself (a zip too) is read as the workbook, not unpacked.
    let mut warehouse = Warehouse::in_memory().unwrap();
    let outcome = &load(&mut warehouse, &[Source::new("sales", &workbook_path)])[0];
    assert!(
        !outcome.notes.iter().any(|(k, _)| k == "packed"),
        "{:?}",
        outcome.notes
    );
}

#[test]
fn packed_content_that_is_not_the_format_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("sales.csv.gz");
    std::fs::write(&gz, gzip(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary")).unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    let error = refusal(&mut warehouse, &[Source::new("sales", &gz)]);
    assert!(
        error.contains("a gzip file whose content is not CSV text: it holds a PDF document"),
        "{error}"
    );
    // Declared CSV, but the bytes are a gzip of a PNG: the same words.
    let png = dir.path().join("sales.csv");
    std::fs::write(&png, gzip(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")).unwrap();
    let mut source = Source::new("sales", &png);
    source.format = Some(opskpi::config::Format::Csv);
    let error = refusal(&mut warehouse, &[source]);
    assert!(
        error.contains("a gzip file whose content is not CSV text: it holds a PNG image"),
        "{error}"
    );
    // A zip of two files: which one? Named.
    let zipped = dir.path().join("two.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for name in ["a.csv", "b.csv"] {
        zip.start_file(name, options).unwrap();
        zip.write_all(b"order_id\n1\n").unwrap();
    }
    zip.finish().unwrap();
    let error = refusal(&mut warehouse, &[Source::new("sales", &zipped)]);
    assert!(
        error.contains("the zip archive holds 2 files: `a.csv`, `b.csv`"),
        "{error}"
    );
    // A plain file that is a PDF, named .csv.
    let pdf = dir.path().join("report.csv");
    std::fs::write(&pdf, b"%PDF-1.4 not a table").unwrap();
    let error = refusal(&mut warehouse, &[Source::new("sales", &pdf)]);
    assert!(
        error.contains("the file is not CSV text: it is a PDF document"),
        "{error}"
    );
    // Nothing reached the warehouse.
    assert_eq!(
        text(&warehouse, "SELECT CAST(count(*) AS VARCHAR) FROM sales"),
        "0"
    );
}

#[test]
fn an_empty_run_history_is_said_and_exits_0() {
    let project = tiny_project();
    let config = config_arg(project.path());
    let output = opskpi(&["runs", "--config", &config]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("no pipeline has run on this warehouse yet"));
    // A run asked for by number is not there: an error.
    let output = opskpi(&["runs", "--run", "3", "--config", &config]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("there is no run 3"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unknown_names_get_a_suggestion_before_the_list() {
    let project = tiny_project();
    let config = config_arg(project.path());
    for (args, suggestion) in [
        (
            vec!["kpi", "days_inventory_outstandng"],
            "did you mean `days_inventory_outstanding`?",
        ),
        (
            vec!["kpi", "inventory_outstanding"],
            "did you mean `days_inventory_outstanding`?",
        ),
        (
            vec!["kpi", "net_sales", "--by", "regoin"],
            "did you mean `region`?",
        ),
        (
            vec!["query", "late_delivery"],
            "did you mean `late_deliveries`?",
        ),
    ] {
        let mut all = args.clone();
        all.extend_from_slice(&["--config", &config]);
        let output = opskpi(&all);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let error = stderr(&output);
        assert!(error.contains(suggestion), "{args:?}: {error}");
    }
    // Nothing close: the list alone.
    let output = opskpi(&["kpi", "zzzz", "--config", &config]);
    let error = stderr(&output);
    assert!(!error.contains("did you mean"), "{error}");
    assert!(error.contains("indicators are: net_sales"), "{error}");
    // A source's table.
    let error = Source::new("sale", "x.csv")
        .check()
        .unwrap_err()
        .to_string();
    assert!(error.contains("did you mean `sales`?"), "{error}");
}

#[test]
fn a_filter_must_give_exactly_one_test() {
    let mut source = Source::new("sales", "x.csv");
    source.keep = Some(Filters::One(Box::new(RowFilter {
        column: "status".into(),
        ..Default::default()
    })));
    let error = source.check().unwrap_err().to_string();
    assert!(
        error.contains("the filter on `status` gives no test"),
        "{error}"
    );
    source.keep = Some(filter(r#"keep = { column = "status", not_in = [] }"#));
    let error = source.check().unwrap_err().to_string();
    assert!(error.contains("gives an empty list"), "{error}");
    source.keep = Some(filter(
        r#"keep = { column = "qty", greater_than = "lots" }"#,
    ));
    let error = source.check().unwrap_err().to_string();
    assert!(
        error.contains("compares with neither a number nor a date"),
        "{error}"
    );
}

/// A company that loaded only its sales: 600 lines of a Big5 export over
/// two years, three regions, a customer each.
fn sales_only_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("訂單編號,項次,銷售日期,客戶編號,品號,區域,通路,數量,銷售金額,銷售成本\r\n");
    for i in 0..600u32 {
        let month = i % 25; // 2024-10 … 2026-10
        let (year, m) = (2024 + (9 + month) / 12, (9 + month) % 12 + 1);
        let region = ["北區", "中區", "南區"][(i % 3) as usize];
        text.push_str(&format!(
            "SO{i:04},1,{year}/{m:02}/{:02},C{:03},P{:02},{region},門市,1,{},{}\r\n",
            1 + i % 27,
            i % 40,
            i % 7,
            100 + i,
            60 + i / 2
        ));
    }
    std::fs::write(
        dir.path().join("銷貨明細.csv"),
        encoding_rs::BIG5.encode(&text).0,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("opskpi.toml"),
        "[company]\nname = \"只有銷貨\"\ncurrency = \"TWD\"\nlocale = \"zh-Hant\"\n\n[[sources]]\ntable = \"sales\"\npath = \"銷貨明細.csv\"\n",
    )
    .unwrap();
    let output = opskpi(&["ingest", "--config", &config_arg(dir.path()), "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

#[test]
fn a_report_on_sales_alone_leaves_out_what_was_never_loaded() {
    let project = sales_only_project();
    let out = project.path().join("out");
    let output = opskpi(&[
        "report",
        "monthly",
        "--period",
        "2026-10",
        "--out",
        &out.display().to_string(),
        "--config",
        &config_arg(project.path()),
        "--as-of",
        "2026-11-05",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = std::fs::read_to_string(out.join("monthly-2026-10.html")).unwrap();
    // No page of "no data" for what was never loaded.
    for heading in [
        "各區域市場占有率",
        "各品類存貨周轉",
        "顧客滿意度（近",
        "<h2>供應鏈</h2>",
        "<h2>產品</h2>",
    ] {
        assert!(!html.contains(heading), "{heading} is still in the report");
    }
    // The service section stays: its customer counts come from sales.
    assert!(html.contains("<h2>顧客與服務</h2>"));
    // Tiles: only those with data (net sales, gross margin, sales growth).
    let tiles = html.matches("id=\"tile-").count();
    assert_eq!(tiles, 3, "tiles");
    // The appendix names each table never loaded, once, with what it adds.
    assert!(html.contains("未載入的資料"));
    assert_eq!(
        html.matches("滿意度問卷：可增加顧客滿意度、平均評分與淨推薦值。")
            .count(),
        1
    );
    assert_eq!(html.matches("市場規模：可增加各區市場占有率。").count(), 1);
    assert!(!html.contains("本期無資料"), "a section says no data");
}

#[test]
fn a_file_loaded_under_other_settings_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    std::fs::write(&path, DELIVERIES).unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    let source = deliveries_source(&path);
    assert_eq!(
        load(&mut warehouse, std::slice::from_ref(&source))[0].loaded,
        6
    );
    // The same bytes, the same settings: skipped.
    assert!(load(&mut warehouse, std::slice::from_ref(&source))[0].unchanged);
    // A filter added: the same bytes are read again, and 2 rows go.
    let mut filtered = source.clone();
    filtered.keep = Some(filter(
        r#"keep = { column = "order_status", not_in = ["canceled", "已取消"] }"#,
    ));
    let outcome = &load(&mut warehouse, std::slice::from_ref(&filtered))[0];
    assert!(!outcome.unchanged);
    assert_eq!((outcome.loaded, outcome.left_out), (4, 2));
    assert_eq!(
        text(
            &warehouse,
            "SELECT CAST(count(*) AS VARCHAR) FROM deliveries"
        ),
        "4"
    );
    // Only `max_bad_rows` changed: still the same reading, skipped.
    filtered.max_bad_rows = opskpi::config::Threshold::Rows(9);
    assert!(load(&mut warehouse, &[filtered])[0].unchanged);
}
