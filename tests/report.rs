//! The monthly HTML report: renders, is self-contained, escapes data.

use opskpi::calendar::Period;
use opskpi::config::Config;
use opskpi::warehouse::Warehouse;
use rust_decimal::Decimal;

use crate::common::*;

fn sample_warehouse() -> (Config, Warehouse) {
    let config = Config::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/opskpi.toml"),
    )
    .unwrap();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &sources(&config));
    (config, warehouse)
}

fn render(warehouse: &Warehouse, config: &Config, period: &str, as_of: &str) -> String {
    opskpi::jobs::render_monthly(
        warehouse,
        config,
        date(as_of),
        Period::parse(period, 1).unwrap(),
        None,
    )
    .unwrap()
}

/// The HTML of the headline tile of indicator `id`.
fn tile<'a>(html: &'a str, id: &str) -> &'a str {
    html.split(&format!("id=\"tile-{id}\""))
        .nth(1)
        .unwrap()
        .split("</article>")
        .next()
        .unwrap()
}

/// Every place an HTML page could pull something from elsewhere.
fn external_references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for needle in [
        "src=", "href=", "url(", "@import", "<link", "<script", "<iframe", "<object", "<embed",
    ] {
        if html.contains(needle) {
            found.push(needle.to_string());
        }
    }
    // The SVG namespace is a name, not a fetch; any other address is a reference.
    let without_namespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for scheme in ["http://", "https://", "//cdn", "file:"] {
        if without_namespace.contains(scheme) {
            found.push(scheme.to_string());
        }
    }
    found
}

#[test]
fn monthly_report_of_the_sample_company() {
    let (config, warehouse) = sample_warehouse();
    let html = render(&warehouse, &config, "2026-10", "2026-10-31");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for heading in [
        "Market share by region",
        "Sales by channel",
        "Sales by category",
        "Customer satisfaction, last 13 months",
        "Inventory turnover by category",
        "Definitions",
    ] {
        assert!(html.contains(heading), "missing section {heading}");
    }
    // One tile per headline indicator, each with a sparkline.
    assert_eq!(html.matches("<article class=\"tile").count(), 6);
    assert_eq!(external_references(&html), Vec::<String>::new());
    // One snapshot per part of the page, so that a change to one section
    // is a diff of that section alone.
    let parts = report_parts(&html);
    let whole: String = parts.iter().map(|(_, part)| part.as_str()).collect();
    assert_eq!(whole, html, "the parts are the whole page");
    for (name, part) in &parts {
        insta::assert_snapshot!(format!("monthly_report_sample_2026_10_{name}"), part);
    }
}

/// The page cut before each top-level `<section` and before `<footer>`:
/// the head and cover, then each section by its heading (`highlights`,
/// `tiles`, `net_sales_by_month_2026_against_2025`, …), then the footer.
fn report_parts(html: &str) -> Vec<(String, String)> {
    let mut parts: Vec<(String, String)> = vec![("head".into(), String::new())];
    for line in html.split_inclusive('\n') {
        if line.starts_with("<section") || line.starts_with("<footer") {
            parts.push((String::new(), String::new()));
        }
        let (name, text) = parts.last_mut().expect("one at least");
        text.push_str(line);
        if name.is_empty() {
            *name = part_name(line);
        }
    }
    parts
}

/// A part's name from its first line that says one: a heading's words, a
/// section's class (tiles), or the footer.
fn part_name(line: &str) -> String {
    let text = if line.starts_with("<footer") {
        "footer".to_string()
    } else if let Some(heading) = line.trim().strip_prefix("<h2>") {
        heading.trim_end_matches("</h2>").to_string()
    } else if line.starts_with("<section class=\"") {
        line.split('"').nth(1).unwrap_or_default().to_string()
    } else {
        return String::new();
    };
    if text == "breakdown" || text == "duty" || text == "forecast" {
        // Named by the heading on a later line.
        return String::new();
    }
    text.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let (config, warehouse) = sample_warehouse();
    let first = render(&warehouse, &config, "2026-10", "2026-10-31");
    let second = render(&warehouse, &config, "2026-10", "2026-10-31");
    assert_eq!(first, second);
}

#[test]
fn hostile_text_from_the_data_is_shown_as_text() {
    let warehouse = tiny_warehouse();
    let html = render(&warehouse, &tiny_config(), "2024-04", "2024-12-31");
    // The vase's category and the company name carry markup.
    // minijinja escapes `/` too (`&#x2f;`); plotters' SVG text escapes `<>&"'`.
    assert!(!html.contains("<script>alert(1)"));
    assert!(
        html.contains("<th scope=\"row\">&lt;script&gt;alert(1)&lt;&#x2f;script&gt;</th>"),
        "category not in the tables, or not escaped"
    );
    assert!(
        html.contains("\n&lt;script&gt;alert(1)&lt;/script\n"),
        "category not in the charts, or not escaped"
    );
    assert!(!html.contains("<b>&</b>"));
    assert!(html.contains("Tiny Test Co &lt;b&gt;&amp;&lt;&#x2f;b&gt;"));
    assert_eq!(external_references(&html), Vec::<String>::new());
}

#[test]
fn a_month_without_data_shows_not_available_rather_than_zero() {
    let warehouse = tiny_warehouse();
    // April 2024 has no surveys: the CSAT tile must say n/a.
    let html = render(&warehouse, &tiny_config(), "2024-04", "2024-12-31");
    let tile = tile(&html, "csat");
    assert!(tile.contains("title=\"n&#x2f;a\">n&#x2f;a</p>"), "{tile}");
}

#[test]
fn a_user_template_overrides_the_built_in_one() {
    let warehouse = tiny_warehouse();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("partials")).unwrap();
    std::fs::write(
        dir.path().join("partials/tile.html.j2"),
        "<p class=\"mine\">{{ tile.label }}={{ tile.value_full }}</p>\n",
    )
    .unwrap();
    let html = opskpi::jobs::render_monthly(
        &warehouse,
        &tiny_config(),
        date("2024-12-31"),
        Period::parse("2024-03", 1).unwrap(),
        Some(dir.path()),
    )
    .unwrap();
    // March 2024 net sales 2180, by hand (see indicators.rs).
    assert!(
        html.contains("<p class=\"mine\">Net sales=2,180</p>"),
        "{html}"
    );
    // The rest of the report still comes from the built-in templates.
    assert!(html.contains("Market share by region"));
}

#[test]
fn a_broken_user_template_names_file_and_line() {
    let warehouse = tiny_warehouse();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("report.html.j2"),
        "line one\n{% for x in %}\n",
    )
    .unwrap();
    let error = opskpi::jobs::render_monthly(
        &warehouse,
        &tiny_config(),
        date("2024-12-31"),
        Period::parse("2024-03", 1).unwrap(),
        Some(dir.path()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("report.html.j2") && error.contains("line 2"),
        "{error}"
    );
}

#[test]
fn numbers_and_dates_follow_the_locale() {
    let warehouse = tiny_warehouse();
    let mut config = tiny_config();
    config.company.locale = "zh-Hant".into();
    let html = render(&warehouse, &config, "2024-04", "2024-12-31");
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh-Hant\">"));
    // April 2024 has no surveys: n/a in Chinese.
    let tile = tile(&html, "csat");
    assert!(tile.contains(">無資料</p>"), "{tile}");
    // Months on the trend chart's axis, and the period in the title.
    assert!(html.contains("\n4月\n") && html.contains("2024年4月"));
    // April 2024 net sales 1800 (see indicators.rs), below 10,000: written in full.
    assert!(html.contains("title=\"1,800\">1,800</p>"));
}

#[test]
fn a_user_message_catalogue_overrides_key_by_key() {
    let warehouse = tiny_warehouse();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("messages")).unwrap();
    std::fs::write(
        dir.path().join("messages/en.toml"),
        "vs_last_year = \"YoY\"\n",
    )
    .unwrap();
    let render_with = |folder: &std::path::Path| {
        opskpi::jobs::render_monthly(
            &warehouse,
            &tiny_config(),
            date("2024-12-31"),
            Period::parse("2024-03", 1).unwrap(),
            Some(folder),
        )
    };
    let html = render_with(dir.path()).unwrap();
    assert!(html.contains("<th>YoY</th>") && !html.contains("vs last year"));
    // Keys the copy leaves out keep their built-in words.
    assert!(html.contains("Operations report March 2024"));

    std::fs::write(
        dir.path().join("messages/en.toml"),
        "mix = \"Mix\"\nvs_last_year = \n",
    )
    .unwrap();
    let error = render_with(dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("messages/en.toml") && error.contains("line 2"),
        "{error}"
    );
}

#[test]
fn the_templates_command_copies_templates_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let written = opskpi::assets::export_templates(dir.path(), false).unwrap();
    for name in [
        "report.html.j2",
        "partials/tile.html.j2",
        "messages/en.toml",
        "messages/zh-Hant.toml",
    ] {
        assert!(
            written.contains(&dir.path().join(name)),
            "{name} not written"
        );
    }
    // A copied set renders the same report as the built-in one.
    let warehouse = tiny_warehouse();
    let period = Period::parse("2024-03", 1).unwrap();
    let built_in =
        opskpi::jobs::render_monthly(&warehouse, &tiny_config(), date("2024-12-31"), period, None)
            .unwrap();
    let copied = opskpi::jobs::render_monthly(
        &warehouse,
        &tiny_config(),
        date("2024-12-31"),
        period,
        Some(dir.path()),
    )
    .unwrap();
    assert_eq!(built_in, copied);
}

#[test]
fn a_zh_hant_report_has_no_english_word_left() {
    let dir = tempfile::tempdir().unwrap();
    let (config, warehouse) = crate::pdf::company(dir.path(), 0, None);
    let html = render(&warehouse, &config, "2026-10", "2026-11-02");
    // What a reader sees: styles, identifiers (`<code>`) and tags removed.
    let without = |text: &str, open: &str, close: &str| -> String {
        let mut kept = String::new();
        let mut rest = text;
        while let Some(start) = rest.find(open) {
            kept.push_str(&rest[..start]);
            let end = rest[start..].find(close).unwrap() + start + close.len();
            rest = &rest[end..];
        }
        kept.push_str(rest);
        kept
    };
    let text = without(&without(&html, "<style>", "</style>"), "<code>", "</code>");
    let mut visible = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                visible.push(' ');
            }
            _ if !in_tag => visible.push(c),
            _ => {}
        }
    }
    let allowed = ["opskpi", "TWD", "CSAT", "NPS"];
    let english: Vec<&str> = visible
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|word| word.len() >= 2 && !allowed.contains(word))
        .collect();
    assert!(
        english.is_empty(),
        "English in the zh-Hant report: {english:?}"
    );
}

/// The highlights section of a report's HTML.
fn highlights_of(html: &str) -> &str {
    html.split("<section class=\"highlights\">")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap()
}

/// The highlights of the Chinese fixture (numbers worked out by hand in
/// `tests/pdf.rs`), in both languages and in order.
#[test]
fn highlights_name_the_biggest_movers_and_every_red_status() {
    let dir = tempfile::tempdir().unwrap();
    let (mut config, warehouse) = crate::pdf::company(dir.path(), 0, None);
    let items = |html: &str| -> Vec<String> {
        highlights_of(html)
            .split("<li class=\"")
            .skip(1)
            .map(|item| {
                let (kind, rest) = item.split_once("\">").unwrap();
                format!("{kind}: {}", rest.split("</li>").next().unwrap())
            })
            .collect()
    };
    let zh_html = render(&warehouse, &config, "2026-10", "2026-11-02");
    let zh = items(&zh_html);
    // Every highlight, worked out by hand, with its effect on the headline
    // in money, by which they rank (ties keep this order):
    let all = [
        // Red: 32,400 is 81 % of the 40,000 target (7,600 short); 2,400 is
        // 24 % of 南區's 10,000 (7,600 short). Red below 95 %.
        "bad: 淨銷售額狀態不佳：32,400，目標為 40,000。",
        "bad: 南區的淨銷售額狀態不佳：2,400，目標為 10,000。",
        // By region, channel and category the same two lines move: 30,000
        // against 25,000 (+5,000, +20.0 %), 2,400 against 6,000 (−3,600,
        // −60.0 %).
        "gain: 依區域看，北區的淨銷售額較去年同期增加最多：+5,000（+20.0%）。",
        "gain: 依通路看，門市的淨銷售額較去年同期增加最多：+5,000（+20.0%）。",
        "gain: 依品類看，沙發的淨銷售額較去年同期增加最多：+5,000（+20.0%）。",
        // Against September: 32,400 ÷ 28,000 − 1 = +15.7 % (+4,400); the
        // margin rose too (50.0 % → 50.6 %), but by less: nothing worsened.
        "improved: 淨銷售額較上月改善：32,400（+15.7%）。",
        "loss: 依區域看，南區的淨銷售額較去年同期減少最多：−3,600（−60.0%）。",
        "loss: 依通路看，網路的淨銷售額較去年同期減少最多：−3,600（−60.0%）。",
        // — the first page ends here (8) —
        "loss: 依品類看，燈具的淨銷售額較去年同期減少最多：−3,600（−60.0%）。",
        // Against last year: net sales 32,400 ÷ 31,000 − 1 = +4.5 %
        // (+1,400), the only improvement; margin 50.6 % against 51.6 %,
        // −1.0 point of 32,400: about 330.
        "improved: 淨銷售額較去年同期改善：32,400（+4.5%）。",
        "worsened: 毛利率較去年同期退步：50.6%（−1.0 個百分點）。",
        // Both products launched in 2020: no sales from products of the
        // last 12 months, 0 % against the 15 % target (no money effect).
        "bad: 新品銷售占比狀態不佳：0.0%，目標為 15.0%。",
    ];
    assert_eq!(zh, all[..8]);
    assert!(highlights_of(&zh_html).contains("……其餘 4 項見附錄。"));
    // The appendix has the whole list, in the same order.
    let appendix = zh_html.split("全部重點").nth(1).unwrap();
    let listed: Vec<String> = appendix
        .split("<li class=\"")
        .skip(1)
        .map(|item| {
            let (kind, rest) = item.split_once("\">").unwrap();
            format!("{kind}: {}", rest.split("</li>").next().unwrap())
        })
        .collect();
    assert_eq!(listed, all);
    config.company.locale = "en".into();
    let en_html = render(&warehouse, &config, "2026-10", "2026-11-02");
    let en = items(&en_html);
    assert_eq!(
        en[1],
        "bad: Net sales is red in 南區: 2,400 against a target of 10,000."
    );
    assert_eq!(
        en[6],
        "loss: By region, 南區 lost most net sales against last year: −3,600 (−60.0%)."
    );
    assert!(highlights_of(&en_html).contains("… and 4 more in the appendix."));
}

#[test]
fn no_highlight_states_a_change_without_a_base() {
    // The tiny company's first month with sales has no last year and no
    // previous month: no mover, and no sales target to be red against. The
    // one red is a level with a fixed target: the month's products (P1, P2)
    // launched in 2020, so no sales come from new products, 0 % against 15 %.
    let warehouse = tiny_warehouse();
    let html = render(&warehouse, &tiny_config(), "2023-03", "2024-12-31");
    let section = highlights_of(&html);
    let items: Vec<&str> = section.split("<li").skip(1).collect();
    assert_eq!(items.len(), 1, "{section}");
    assert!(
        items[0].starts_with(
            " class=\"bad\">Sales from new products is red: 0.0% against a target of 15.0%."
        ),
        "{section}"
    );
}

fn html_of(
    warehouse: &Warehouse,
    config: &Config,
    kind: opskpi::report::ReportKind,
    period: &str,
    edition: Option<(&str, &str)>,
) -> String {
    html_as_of(warehouse, config, kind, period, edition, "2026-11-02")
}

fn html_as_of(
    warehouse: &Warehouse,
    config: &Config,
    kind: opskpi::report::ReportKind,
    period: &str,
    edition: Option<(&str, &str)>,
    as_of: &str,
) -> String {
    opskpi::jobs::render_html(
        warehouse,
        config,
        date(as_of),
        &opskpi::jobs::Which {
            kind,
            period: Period::parse(period, 1).unwrap(),
            edition: edition.map(|(dimension, value)| opskpi::report::rows::Edition {
                dimension: dimension.into(),
                value: value.into(),
            }),
        },
        &Default::default(),
    )
    .unwrap()
}

/// The rows of the table under heading `title`, as "label|cell|cell…".
fn table_rows(html: &str, title: &str) -> Vec<String> {
    let section = html
        .split(&format!("<h2>{title}</h2>"))
        .nth(1)
        .unwrap_or_else(|| panic!("no section `{title}`"))
        .split("</section>")
        .next()
        .unwrap();
    section
        .split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|row| {
            let row = row.split("</tr>").next().unwrap();
            let label = row.split("</th>").next().unwrap().to_string();
            let cells = row
                .split("<td>")
                .skip(1)
                .map(|cell| cell.split("</td>").next().unwrap().to_string());
            std::iter::once(label)
                .chain(cells)
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[test]
fn a_region_edition_shows_only_that_regions_figures() {
    use opskpi::report::ReportKind::Monthly;
    let dir = tempfile::tempdir().unwrap();
    let (config, warehouse) = crate::pdf::company(dir.path(), 0, None);
    let south = html_of(
        &warehouse,
        &config,
        Monthly,
        "2026-10",
        Some(("region", "南區")),
    );
    assert!(
        south.contains("<h1>營運報告 2026年10月：南區</h1>"),
        "title"
    );
    // 南區 sold only lamps, online: 2,400 (last year 6,000).
    assert!(tile(&south, "net_sales").contains("title=\"2,400\""));
    let categories = table_rows(&south, "各品類銷售");
    assert_eq!(categories.len(), 1, "{categories:?}");
    assert!(
        categories[0].starts_with("燈具|2,400|100.0%|−60.0%"),
        "{categories:?}"
    );
    assert_eq!(table_rows(&south, "各通路銷售").len(), 1);
    assert!(table_rows(&south, "各通路銷售")[0].starts_with("網路|2,400"));
    // Its own target: 2,400 of 10,000 is red.
    assert!(tile(&south, "net_sales").contains("<span class=\"badge bad\">不佳</span>"));
    // Inventory is kept by category, not by region: n/a, and said why.
    assert!(tile(&south, "inventory_turnover").contains("此資料未依區域區分"));
    // Nothing of the other region.
    assert!(
        !south.contains("沙發") && !south.contains("30,000"),
        "北區 leaks into 南區"
    );

    let north = html_of(
        &warehouse,
        &config,
        Monthly,
        "2026-10",
        Some(("region", "北區")),
    );
    assert!(tile(&north, "net_sales").contains("title=\"30,000\""));
    let categories = table_rows(&north, "各品類銷售");
    assert_eq!(categories.len(), 1);
    assert!(
        categories[0].starts_with("沙發|30,000|100.0%|+20.0%"),
        "{categories:?}"
    );
}

#[test]
fn each_region_writes_one_file_per_region_and_a_manifest() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = crate::pdf::company(dir.path(), 0, None);
    opskpi::jobs::ingest(&config, loaded_at(), &Default::default(), &|_| {}).unwrap();
    let out = dir.path().join("reports");
    let written = opskpi::jobs::report(
        &config,
        date("2026-11-02"),
        opskpi::report::ReportKind::Monthly,
        Period::parse("2026-10", 1).unwrap(),
        &out,
        &opskpi::jobs::ReportOptions {
            each: Some("region".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "monthly-2026-10-region-北區.html",
            "monthly-2026-10-region-北區.manifest.json",
            "monthly-2026-10-region-南區.html",
            "monthly-2026-10-region-南區.manifest.json",
        ]
    );
    let hex = |bytes: &[u8]| -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&written[3]).unwrap()).unwrap();
    assert_eq!(manifest["opskpi"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["report"], "monthly");
    assert_eq!(manifest["period"], "2026-10");
    assert_eq!(manifest["as_of"], "2026-11-02");
    assert_eq!(manifest["lang"], "zh-Hant");
    assert_eq!(manifest["edition"]["value"], "南區");
    assert_eq!(
        manifest["outputs"][0]["file"],
        "monthly-2026-10-region-南區.html"
    );
    assert_eq!(
        manifest["outputs"][0]["sha256"],
        hex(&std::fs::read(&written[2]).unwrap())
    );
    // The loaded files with their own hashes and rows, as sha256sum would say.
    let files = manifest["warehouse"]["files"].as_array().unwrap();
    let by_table = |table: &str| files.iter().find(|f| f["table"] == table).unwrap();
    for (table, rows) in [
        ("products", 2),
        ("stores", 2),
        ("sales", 5),
        ("sales_targets", 2),
    ] {
        let file = by_table(table);
        assert_eq!(file["rows_loaded"], rows, "{table}");
        let csv = std::fs::read(dir.path().join(format!("{table}.csv"))).unwrap();
        assert_eq!(file["sha256"], hex(&csv), "{table}");
    }
    // The same warehouse and as-of date: the same bytes again.
    let again = opskpi::jobs::report(
        &config,
        date("2026-11-02"),
        opskpi::report::ReportKind::Monthly,
        Period::parse("2026-10", 1).unwrap(),
        &dir.path().join("again"),
        &opskpi::jobs::ReportOptions {
            each: Some("region".into()),
            ..Default::default()
        },
    )
    .unwrap();
    for (a, b) in written.iter().zip(&again) {
        assert!(
            std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
            "{}",
            a.display()
        );
    }
}

#[test]
fn quarterly_and_yearly_reports_have_their_own_comparisons() {
    use opskpi::report::ReportKind::{Quarterly, Yearly};
    let dir = tempfile::tempdir().unwrap();
    let (mut config, warehouse) = crate::pdf::company(dir.path(), 0, None);
    // As of mid-January, Q4 2026 is complete.
    let quarter = html_as_of(
        &warehouse,
        &config,
        Quarterly,
        "2026-Q4",
        None,
        "2027-01-15",
    );
    assert!(quarter.contains("<h1>營運報告 2026年第4季</h1>"));
    assert!(quarter.contains("每季淨銷售額：2026 年與 2025 年比較"));
    // Q4 2026: 32,400; against Q4 2025 (31,000) +4.5 %, against Q3
    // (September's 28,000) +15.7 %.
    assert!(
        quarter.contains("淨銷售額較去年同期改善：32,400（+4.5%）。"),
        "{quarter}"
    );
    assert!(
        quarter.contains("淨銷售額較上季改善：32,400（+15.7%）。"),
        "{quarter}"
    );
    assert!(quarter.contains("第4季"), "quarter axis");
    // A month is not a quarter.
    let error = opskpi::jobs::render_html(
        &warehouse,
        &config,
        date("2026-11-02"),
        &opskpi::jobs::Which {
            kind: Quarterly,
            period: Period::parse("2026-10", 1).unwrap(),
            edition: None,
        },
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("2026-Q3"), "{error}");

    config.company.locale = "en".into();
    let year = html_of(&warehouse, &config, Yearly, "2025", None);
    assert!(year.contains("<h1>Operations report 2025</h1>"));
    assert!(year.contains("Net sales, the last five years"));
    // Five years side by side: 2021–2025, only 2025 with sales (31,000).
    let years = table_rows(&year, "Five years");
    assert!(
        years
            .iter()
            .any(|row| row.starts_with("Net sales|n&#x2f;a|n&#x2f;a|n&#x2f;a|n&#x2f;a|31,000|")),
        "{years:?}"
    );
    // The previous year is last year: tiles compare once.
    assert!(!tile(&year, "net_sales").contains("Previous"));
    assert!(tile(&year, "net_sales").contains("Last year"));
    // And the highlights say it once: 2026 (complete by mid-January 2027)
    // sold 28,000 + 32,400 = 60,400 against 31,000 in 2025, +94.8 %; its
    // margin (60,400 − 30,000) ÷ 60,400 = 50.3 % against 51.6 %, −1.3 points.
    let year = html_as_of(&warehouse, &config, Yearly, "2026", None, "2027-01-15");
    // Every highlight: the appendix's list when the first page shows only
    // the first ones.
    let every = year
        .split("All highlights")
        .nth(1)
        .unwrap_or_else(|| highlights_of(&year));
    let movers: Vec<&str> = every
        .split("<li class=\"")
        .skip(1)
        .filter(|item| item.starts_with("improved") || item.starts_with("worsened"))
        .map(|item| {
            item.split("\">")
                .nth(1)
                .unwrap()
                .split("</li>")
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        movers,
        [
            "Net sales improved against last year: 60,400 (+94.8%).",
            "Gross margin % worsened against last year: 50.3% (−1.3 pp).",
        ]
    );
}

#[test]
fn the_appendix_says_what_was_loaded_and_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (config, warehouse) = crate::pdf::company(dir.path(), 0, None);
    let html = render(&warehouse, &config, "2026-10", "2026-11-02");
    let appendix = html.split("<section class=\"appendix\">").nth(1).unwrap();
    // Sales: 5 lines from 2025-10-05 to 2026-10-20, one file.
    assert!(
        appendix.contains("<th scope=\"row\">銷售明細</th><td>5</td><td>2025-10-05</td><td>2026-10-20</td><td>1</td><td>2026-11-02 03:04:05</td>"),
        "{appendix}"
    );
    assert!(appendix.contains("沒有任何資料列被拒收或隔離。"));
    // No market data at all: said once, with what it would add — not once
    // per region, and no market section.
    assert!(!appendix.contains("北區：2026年10月沒有市場資料"));
    assert_eq!(
        appendix.matches("市場規模：可增加各區市場占有率。").count(),
        1
    );
    assert!(!html.contains("各區域市場占有率"));
    // Columns no source gives.
    assert!(
        appendix.contains(
            "銷售明細：沒有來源提供此欄位，需要它的指標為無資料： <code>customer_id</code>"
        ),
        "{appendix}"
    );
}

#[test]
fn the_appendix_lists_rows_set_aside_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let (mut config, _) = crate::pdf::company(dir.path(), 0, None);
    // One line with a month 13: set aside (the source allows one bad row).
    let sales = dir.path().join("sales.csv");
    let mut text = std::fs::read_to_string(&sales).unwrap();
    text.push_str("C3,1,2026-13-01,,P1,S1,store,北區,,1,100.00,50.00\n");
    std::fs::write(&sales, text).unwrap();
    for source in &mut config.sources {
        if source.table == "sales" {
            source.max_bad_rows = opskpi::config::Threshold::Rows(1);
        }
    }
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &sources(&config));
    let html = render(&warehouse, &config, "2026-10", "2026-11-02");
    let appendix = html.split("<section class=\"appendix\">").nth(1).unwrap();
    let expected = format!(
        "<th scope=\"row\">銷售明細</th><td>{}</td><td>型別不符</td><td>1</td>",
        // minijinja escapes `/` in HTML.
        sales.display().to_string().replace('/', "&#x2f;")
    );
    assert!(appendix.contains(&expected), "{appendix}");
    // The five good lines loaded.
    assert!(appendix.contains("<th scope=\"row\">銷售明細</th><td>5</td>"));
}

#[test]
fn adding_a_language_is_adding_a_file() {
    let warehouse = tiny_warehouse();
    let dir = tempfile::tempdir().unwrap();
    opskpi::assets::export_templates(dir.path(), false).unwrap();
    // A French catalogue made from the English one: a few words and the
    // number format changed, nothing else.
    let english = std::fs::read_to_string(dir.path().join("messages/en.toml")).unwrap();
    let french = english
        .replace(
            "title = \"Operations report {period}\"",
            "title = \"Rapport d'activité {period}\"",
        )
        .replace(
            "headline_indicators = \"Headline indicators\"",
            "headline_indicators = \"Indicateurs clés\"",
        )
        .replace("not_available = \"n/a\"", "not_available = \"n.d.\"")
        .replace("text_lang = \"en\"", "text_lang = \"fr\"")
        .replace("text_region = \"gb\"", "text_region = \"fr\"");
    std::fs::write(dir.path().join("messages/fr.toml"), &french).unwrap();
    let mut config = tiny_config();
    config.company.locale = "fr".into();
    config.report.templates = Some(dir.path().to_path_buf());
    let html = render(&warehouse, &config, "2024-04", "2024-12-31");
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("Rapport d&#x27;activité"), "title");
    assert!(html.contains("Indicateurs clés"));
    // April 2024 has no surveys: the language's own word for n/a.
    assert!(
        tile(&html, "csat").contains(">n.d.</p>"),
        "{}",
        tile(&html, "csat")
    );
    // The PDF too: the same file drives it.
    let pdf = opskpi::jobs::render_pdf(
        &warehouse,
        &config,
        date("2024-12-31"),
        &opskpi::jobs::Which::monthly(Period::parse("2024-04", 1).unwrap()),
        &Default::default(),
    )
    .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));

    // A new language without some word is an error naming it.
    let short = french.replace("no_data = \"no data\"\n", "");
    std::fs::write(dir.path().join("messages/fr.toml"), short).unwrap();
    let error = opskpi::jobs::render_monthly(
        &warehouse,
        &config,
        date("2024-12-31"),
        Period::parse("2024-04", 1).unwrap(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("fr.toml") && error.contains("no_data"),
        "{error}"
    );
}

/// The sample company's sofas ran out at the end of June 2026 and the
/// complaints followed (queries/sample/04_inventory.sql, 08_service.sql):
/// the June report's duty sections show both, with the numbers hand-written
/// SQL gets from the CSV files.
#[test]
fn the_duty_sections_show_the_sofa_stock_out_and_the_complaints_after_it() {
    let (config, warehouse) = sample_warehouse();
    let warehouse = warehouse.in_timezone(8 * 3600);
    let html = render(&warehouse, &config, "2026-06", "2026-10-31");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let count = |sql: &str| -> Decimal {
        let n: i64 = conn
            .query_row(
                &sql.replace("{dir}", &dir.display().to_string()),
                [],
                |row| row.get(0),
            )
            .unwrap();
        Decimal::from(n)
    };
    let percent = |part: Decimal, whole: Decimal| {
        format!(
            "{}%",
            (part * Decimal::from(100) / whole)
                .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        )
    };
    // Positions with nothing on hand among June's snapshots.
    let snapshots = "FROM read_csv('{dir}/inventory_snapshots.csv') WHERE snapshot_date BETWEEN DATE '2026-06-01' AND DATE '2026-06-30'";
    let stock_out = percent(
        count(&format!("SELECT count(*) {snapshots} AND on_hand_qty = 0")),
        count(&format!("SELECT count(*) {snapshots}")),
    );
    // Complaints opened in June (Taiwan time, the first ten characters) ÷
    // orders with a sold line in June.
    let complaints = |month: &str| {
        percent(
            count(&format!("SELECT count(*) FROM read_csv('{{dir}}/service_tickets.csv', all_varchar = true) WHERE kind = 'complaint' AND left(opened_at, 7) = '{month}'")),
            count(&format!("SELECT count(DISTINCT order_id) FROM read_csv('{{dir}}/sales.csv', all_varchar = true) WHERE left(order_date, 7) = '{month}' AND CAST(quantity AS INTEGER) > 0")),
        )
    };
    let supply = table_rows(&html, "Supply chain");
    let stock_row = supply
        .iter()
        .find(|row| row.starts_with("Stock-out rate|"))
        .unwrap();
    assert_eq!(stock_row.split('|').nth(1).unwrap(), stock_out);
    let service = table_rows(&html, "Customers and service");
    let complaint_row = service
        .iter()
        .find(|row| row.starts_with("Complaint rate|"))
        .unwrap();
    assert_eq!(
        complaint_row.split('|').nth(1).unwrap(),
        complaints("2026-06")
    );
    // The spike is real: June's complaint rate is above May's by the sample's design.
    let rate = |text: String| -> Decimal { text.trim_end_matches('%').parse().unwrap() };
    assert!(rate(complaints("2026-06")) > rate(complaints("2026-05")) + Decimal::from(2));
    // The sections and the forecast are all there, charts included.
    for heading in [
        "Customers and service",
        "Supply chain",
        "Product",
        "Net sales forecast",
    ] {
        assert!(html.contains(&format!("<h2>{heading}</h2>")), "{heading}");
    }
    assert!(html.contains("<h3>By carrier</h3>") && html.contains("<h3>By supplier</h3>"));
}

#[test]
fn a_forecast_without_enough_history_or_with_a_gap_says_so() {
    // The sample company's sales start in January 2023: June 2025 is its
    // 30th month, and a forecast needs 36.
    let (config, warehouse) = sample_warehouse();
    let html = render(&warehouse, &config, "2025-06", "2025-07-31");
    let section = |html: &str| {
        html.split("<h2>Net sales forecast</h2>")
            .nth(1)
            .unwrap()
            .split("</section>")
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        section(&html)
            .contains("No forecast: 30 complete months of history, and a forecast needs 36"),
        "{}",
        section(&html)
    );
    // The tiny company sold in March and April 2023, then not until March
    // 2024: May 2023 is a hole in its history.
    let html = render(&tiny_warehouse(), &tiny_config(), "2024-04", "2024-12-31");
    assert!(
        section(&html).contains("No forecast: no sales in 2023-05, inside the history"),
        "{}",
        section(&html)
    );
}
