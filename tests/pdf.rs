//! The PDF edition: typeset in the process, Chinese glyphs from the fonts
//! opskpi ships, long tables repeating their header, a character no font has
//! as an error, the same bytes twice. Text and pixels are read back with
//! poppler (`pdftotext`, `pdftoppm`, `pdfinfo`), which `.ci/run` installs;
//! without it these tests say "skipped" locally and fail under CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use opskpi::calendar::Period;
use opskpi::config::Config;
use opskpi::jobs::{self, ReportFormat, ReportOptions};
use opskpi::warehouse::Warehouse;

use crate::common::*;

/// Poppler's `tool`, or `None` (skipped) when it is not installed outside CI.
pub fn poppler(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("`{tool}` (poppler-utils) is missing: .ci/run installs it");
        }
        eprintln!("skipped: `{tool}` (poppler-utils) is not installed");
    }
    found
}

/// A Chinese company: two products in two categories, sales in October
/// 2026, September 2026 and October 2025, targets for October 2026; plus
/// `extra` categories of one 100.00 sale each (for a long table).
///
/// By hand, October 2026: net sales 30,000 (沙發, 北區, store) + 2,400
/// (燈具, 南區, online) = 32,400; cost 16,000, margin 16,400 ÷ 32,400 =
/// 50.6%. October 2025: 25,000 + 6,000 = 31,000, cost 15,000, margin
/// 51.6%. September 2026: 28,000, margin 50.0%. Targets: the company
/// 40,000, 南區 10,000.
pub fn company(dir: &Path, extra: usize, odd_category: Option<&str>) -> (Config, Warehouse) {
    let mut products =
        String::from("sku,name,category,subcategory,list_price,unit_cost,launch_date\n");
    products.push_str("P1,北歐三人沙發,沙發,三人沙發,30000.00,15000.0000,2020-01-01\n");
    products.push_str(&format!(
        "P2,月光桌燈,{},桌燈,1200.00,500.0000,2020-01-01\n",
        odd_category.unwrap_or("燈具")
    ));
    let mut sales = String::from(
        "order_id,line_no,order_date,customer_id,sku,store_id,channel,region,salesperson_id,quantity,net_amount,cost_amount\n",
    );
    sales.push_str("A1,1,2025-10-05,,P1,S1,store,北區,,1,25000.00,12500.00\n");
    sales.push_str("A2,1,2025-10-08,,P2,W1,online,南區,,5,6000.00,2500.00\n");
    sales.push_str("B1,1,2026-09-12,,P1,S1,store,北區,,1,28000.00,14000.00\n");
    sales.push_str("C1,1,2026-10-03,,P1,S1,store,北區,,1,30000.00,15000.00\n");
    sales.push_str("C2,1,2026-10-20,,P2,W1,online,南區,,2,2400.00,1000.00\n");
    for i in 0..extra {
        products.push_str(&format!(
            "X{i:03},測試商品{i:03},品類{i:03},其他,100.00,50.0000,2020-01-01\n"
        ));
        sales.push_str(&format!(
            "X{i:03},1,2026-10-15,,X{i:03},W1,online,南區,,1,100.00,50.00\n"
        ));
    }
    std::fs::write(dir.join("products.csv"), products).unwrap();
    std::fs::write(dir.join("sales.csv"), sales).unwrap();
    std::fs::write(
        dir.join("stores.csv"),
        "store_id,name,channel,region\nS1,信義門市,store,北區\nW1,網路商店,online,全國\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("sales_targets.csv"),
        "period,scope,scope_value,target_amount\n2026-10-01,company,company,40000.00\n2026-10-01,region,南區,10000.00\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("opskpi.toml"),
        "[company]\nname = \"暖家家居股份有限公司\"\ncurrency = \"TWD\"\nlocale = \"zh-Hant\"\n\n[warehouse]\npath = \"w.duckdb\"\n\n\
         [[sources]]\ntable = \"products\"\npath = \"products.csv\"\n\n\
         [[sources]]\ntable = \"stores\"\npath = \"stores.csv\"\n\n\
         [[sources]]\ntable = \"sales\"\npath = \"sales.csv\"\n\n\
         [[sources]]\ntable = \"sales_targets\"\npath = \"sales_targets.csv\"\n",
    )
    .unwrap();
    let config = Config::load(&dir.join("opskpi.toml")).unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &sources(&config));
    (config, warehouse)
}

fn pdf(warehouse: &Warehouse, config: &Config, lang: Option<&str>) -> opskpi::Result<Vec<u8>> {
    jobs::render_pdf(
        warehouse,
        config,
        date("2026-11-02"),
        &jobs::Which::monthly(Period::parse("2026-10", 1).unwrap()),
        &ReportOptions {
            formats: vec![ReportFormat::Pdf],
            lang: lang.map(|l| opskpi::locale::Locale::parse(l).unwrap()),
            ..ReportOptions::default()
        },
    )
}

/// The text of each page, by `pdftotext`.
fn pages(pdf: &[u8]) -> Option<Vec<String>> {
    let tool = poppler("pdftotext")?;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new(tool)
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // pdftotext ends each page with a form feed.
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    Some(pages)
}

#[test]
fn the_chinese_pdf_has_the_hand_worked_numbers_and_chinese_words() {
    let dir = tempfile::tempdir().unwrap();
    let (config, warehouse) = company(dir.path(), 0, None);
    let bytes = pdf(&warehouse, &config, None).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let Some(pages) = pages(&bytes) else { return };
    let text = pages.join("\n");
    // Words of the report, in Traditional Chinese.
    for words in [
        "營運報告",
        "2026年10月",
        "重點指標",
        "各通路銷售",
        "各品類銷售",
        "指標定義",
        "淨銷售額",
        "去年同期",
        "目錄",
        "門市",
        "網路",
    ] {
        assert!(text.contains(words), "`{words}` missing from:\n{text}");
    }
    // Data in Chinese, as loaded.
    for data in ["暖家家居股份有限公司", "沙發", "燈具"] {
        assert!(text.contains(data), "`{data}` missing");
    }
    // October 2026 by hand: sofas 30,000 and lamps 2,400, together 32,400
    // (3.2萬 on its tile); sofas against October 2025's 25,000: +20.0%;
    // sofa margin (30,000 − 15,000) ÷ 30,000 = 50.0%.
    for number in ["30,000", "2,400", "32,400", "3.2萬", "+20.0%", "50.0%"] {
        assert!(text.contains(number), "`{number}` missing from:\n{text}");
    }
    // No English status or labels left.
    for english in [
        "Net sales",
        "Previous",
        "Last year",
        "Target",
        "Status",
        "Definitions",
        "good",
        "warning",
    ] {
        assert!(
            !text.contains(english),
            "English `{english}` in the zh-Hant PDF"
        );
    }
    // Page numbers and the running header from page 2 on.
    let count = pages.len();
    assert!(count >= 3, "{count} pages");
    assert!(
        pages[1].replace(' ', "").contains(&format!("2/{count}")),
        "{}",
        pages[1]
    );
    assert!(pages[1].contains("暖家家居股份有限公司"));
    // The cover says the period and the data's freshness; the contents follow.
    assert!(
        pages[0].contains("期間") && pages[0].contains("資料截至"),
        "{}",
        pages[0]
    );
    assert!(pages[1].contains("目錄"));
}

#[test]
fn the_english_pdf_of_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let (config, warehouse) = company(dir.path(), 0, None);
    let Some(pages) = pages(&pdf(&warehouse, &config, Some("en")).unwrap()) else {
        return;
    };
    let text = pages.join("\n");
    for words in [
        "Operations report October 2026",
        "Headline indicators",
        "Net sales",
        "Sales by channel",
        "Definitions",
        "store",
        "online",
    ] {
        assert!(text.contains(words), "`{words}` missing");
    }
    // Chinese data shows in the English edition too; amounts in full below a million.
    for data in ["沙發", "燈具", "暖家家居股份有限公司", "32,400", "+20.0%"] {
        assert!(text.contains(data), "`{data}` missing");
    }
}

#[test]
fn a_long_table_continues_on_the_next_page_with_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let (config, warehouse) = company(dir.path(), 200, None);
    let Some(pages) = pages(&pdf(&warehouse, &config, None).unwrap()) else {
        return;
    };
    // Pages carrying rows of the 202-row sales-by-category table.
    let with_rows: Vec<&String> = pages
        .iter()
        .filter(|page| page.contains("品類150") || page.contains("品類0") || page.contains("品類1"))
        .collect();
    assert!(
        with_rows.len() >= 3,
        "the table spans {} pages",
        with_rows.len()
    );
    for page in with_rows {
        // The header row of the sales table (品類, 淨銷售額, 占比 …) or of
        // the inventory table (品類, 存貨周轉率 …) repeats.
        let header = page.lines().find(|line| {
            line.contains("品類") && (line.contains("占比") || line.contains("存貨周轉率"))
        });
        assert!(
            header.is_some(),
            "no header row on a page of the table:\n{page}"
        );
    }
    // Every row is there once (pdftotext may split a page's columns, not rows).
    let all = pages.join("\n");
    for i in [0, 99, 199] {
        assert!(all.contains(&format!("品類{i:03}")), "row {i}");
    }
    // The chart shows the 15 largest and says so.
    assert!(all.contains("圖表只顯示最大的 15 項（共 202 項）"), "{all}");
}

#[test]
fn a_page_rendered_to_pixels_is_not_blank() {
    let Some(tool) = poppler("pdftoppm") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (config, warehouse) = company(dir.path(), 0, None);
    let file = dir.path().join("r.pdf");
    std::fs::write(&file, pdf(&warehouse, &config, None).unwrap()).unwrap();
    for page in ["1", "2"] {
        let out = dir.path().join(format!("p{page}"));
        let status = Command::new(&tool)
            .args(["-gray", "-r", "40", "-singlefile", "-f", page, "-l", page])
            .arg(&file)
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        let pgm = std::fs::read(out.with_extension("pgm")).unwrap();
        // Binary PGM: "P5\n<w> <h>\n255\n" then one byte per pixel.
        let mut fields = 0;
        let mut at = 0;
        while fields < 4 {
            while pgm[at].is_ascii_whitespace() {
                at += 1;
            }
            while !pgm[at].is_ascii_whitespace() {
                at += 1;
            }
            fields += 1;
        }
        let pixels = &pgm[at + 1..];
        let dark = pixels.iter().filter(|&&p| p < 160).count();
        assert!(
            dark * 200 > pixels.len(),
            "page {page}: only {dark} of {} pixels are dark",
            pixels.len()
        );
    }
}

#[test]
fn a_character_no_font_has_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // U+20BB7 𠮷 (CJK Extension B) is in no font opskpi ships.
    let (config, warehouse) = company(dir.path(), 0, Some("燈具𠮷"));
    let error = pdf(&warehouse, &config, None).unwrap_err().to_string();
    assert!(error.contains("U+20BB7"), "{error}");
    assert!(error.contains("燈具𠮷"), "{error}");
    assert!(
        error.contains("fonts"),
        "the hint names the fonts folder: {error}"
    );
    // The HTML has no such limit: the browser's fonts show it.
    let html = jobs::render_monthly(
        &warehouse,
        &config,
        date("2026-11-02"),
        Period::parse("2026-10", 1).unwrap(),
        None,
    )
    .unwrap();
    assert!(html.contains("燈具𠮷"));
}

#[test]
fn the_same_inputs_give_the_same_pdf_bytes_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (config, warehouse) = company(dir.path(), 0, None);
    let first = pdf(&warehouse, &config, None).unwrap();
    let second = pdf(&warehouse, &config, None).unwrap();
    assert!(first == second, "two renders differ");
    let Some(tool) = poppler("pdfinfo") else {
        return;
    };
    let file = dir.path().join("r.pdf");
    std::fs::write(&file, &first).unwrap();
    let out = Command::new(tool)
        .arg("-isodates")
        .arg(&file)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    assert!(info.contains("營運報告 2026年10月"), "title: {info}");
    assert!(info.contains("暖家家居股份有限公司"), "author: {info}");
    // The creation date is the as-of date, not the clock.
    assert!(info.contains("2026-11-02"), "creation date: {info}");
    assert!(
        info.contains("Page size:") && info.contains("595."),
        "A4: {info}"
    );
}

#[test]
fn paper_and_orientation_are_options() {
    let Some(tool) = poppler("pdfinfo") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (config, warehouse) = company(dir.path(), 0, None);
    let bytes = jobs::render_pdf(
        &warehouse,
        &config,
        date("2026-11-02"),
        &jobs::Which::monthly(Period::parse("2026-10", 1).unwrap()),
        &ReportOptions {
            pdf: opskpi::report::pdf::PdfOptions {
                paper: opskpi::report::pdf::Paper::Letter,
                orientation: opskpi::report::pdf::Orientation::Landscape,
            },
            ..ReportOptions::default()
        },
    )
    .unwrap();
    let file = dir.path().join("r.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new(tool).arg(&file).output().unwrap();
    let info = String::from_utf8_lossy(&out.stdout);
    // US Letter landscape: 792 × 612 points.
    assert!(info.contains("792 x 612"), "{info}");
}
