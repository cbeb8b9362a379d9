//! The monthly HTML report: renders, is self-contained, escapes data.

use opskpi::calendar::Period;
use opskpi::config::Config;
use opskpi::warehouse::Warehouse;

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
    opskpi::pipeline::render_monthly(
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
    insta::assert_snapshot!("monthly_report_sample_2026_10", html);
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
    let html = opskpi::pipeline::render_monthly(
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
        dir.path().join("monthly.html.j2"),
        "line one\n{% for x in %}\n",
    )
    .unwrap();
    let error = opskpi::pipeline::render_monthly(
        &warehouse,
        &tiny_config(),
        date("2024-12-31"),
        Period::parse("2024-03", 1).unwrap(),
        Some(dir.path()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("monthly.html.j2") && error.contains("line 2"),
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
        opskpi::pipeline::render_monthly(
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
    let written = opskpi::report::templates::export(dir.path()).unwrap();
    for name in [
        "monthly.html.j2",
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
    let built_in = opskpi::pipeline::render_monthly(
        &warehouse,
        &tiny_config(),
        date("2024-12-31"),
        period,
        None,
    )
    .unwrap();
    let copied = opskpi::pipeline::render_monthly(
        &warehouse,
        &tiny_config(),
        date("2024-12-31"),
        period,
        Some(dir.path()),
    )
    .unwrap();
    assert_eq!(built_in, copied);
}
