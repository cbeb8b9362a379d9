//! The employee assessment on the tiny company with the people fixture
//! (tests/fixtures/people): every part worked out by hand.

use opskpi::assessment::{employees, scorecard, AssessmentConfig, Scorecard};
use opskpi::calendar::Period;
use opskpi::config::Source;
use opskpi::engine::polars::PolarsEngine;
use opskpi::indicators::{Catalogue, Engine};
use opskpi::warehouse::Warehouse;

use crate::common::*;

fn people() -> Warehouse {
    let mut all = sources(&tiny_config());
    for table in ["employees", "evaluations", "sales_targets"] {
        all.push(Source::new(table, fixture(&format!("people/{table}.csv"))));
    }
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &all);
    warehouse
}

/// The scorecard of 2024-Q1 on `warehouse`, computed by `engine`.
fn q1(warehouse: &Warehouse, engine: &dyn Engine, config: &AssessmentConfig) -> Scorecard {
    scorecard(
        engine,
        employees(warehouse).unwrap(),
        &Catalogue::builtin(),
        &context("2024-12-31"),
        config,
        Period::parse("2024-Q1", 1).unwrap(),
    )
    .unwrap()
}

#[test]
fn the_scorecard_weights_results_and_ratings_and_ranks_the_team() {
    let warehouse = people();
    let card = q1(&warehouse, &warehouse, &AssessmentConfig::default());
    let e1 = card.lines.iter().find(|l| l.employee.id == "E1").unwrap();
    // E1's Q1 2024: O4 on 31 March, 1900 + 100 = 2000 against a target of
    // 2500 (March; January and February have none): 0.8, 80 points.
    assert_exact(e1.inputs.attainment, "0.8");
    assert_exact(e1.score.parts[0], "80");
    // Margin (2000 − 1240) / 2000 = 0.38; ÷ the 0.42 target = 19/21: 1900/21 points.
    assert_exact(e1.inputs.gross_margin, "0.38");
    assert_fraction(e1.score.parts[1], "1900", "21");
    // CSAT: R1 (order O4, E1's) scored 5: 1 of 1 satisfied, 100 points.
    assert_exact(e1.score.parts[2], "100");
    // No development projects in the data: project progress is left out.
    assert_eq!(e1.score.parts[3], None);
    // Ratings: supervisor (0.5 × 80 + 0.25 × 85.5) / 0.75 = 245.5/3; peer 70;
    // self 90; no customer: (0.5 × 245.5/3 + 0.2 × 70 + 0.1 × 90) / 0.8 = 3835/48.
    assert_fraction(e1.score.raters["supervisor"], "245.5", "3");
    assert_eq!(e1.score.raters["customer"], None);
    assert_fraction(e1.score.parts[4], "3835", "48");
    // Score: (0.35 × 80 + 0.1 × 1900/21 + 0.1 × 100 + 0.4 × 3835/48) / 0.95
    // = (13273/168) / 0.95 = 66365/798 ≈ 83.2: grade B, first of two.
    assert_fraction(e1.score.score, "66365", "798");
    assert_eq!(e1.grade.as_deref(), Some("B"));
    assert_eq!((e1.rank, e1.team_size), (Some(1), 2));
    assert_eq!(e1.inputs.ratings, 4);
    // E2 sold nothing in Q1 and has no target: only the supervisor's 60 counts.
    let e2 = card.lines.iter().find(|l| l.employee.id == "E2").unwrap();
    assert_eq!(e2.inputs.attainment, None);
    assert_exact(e2.score.score, "60");
    assert_eq!(e2.grade.as_deref(), Some("D"));
    assert_eq!(e2.rank, Some(2));
    // The department: 2180 of the company's 2000 is capped at 100 points.
    assert_exact(card.department.parts[0], "100");
    // CSAT: R1 5, R2 4, R3 2 (R4 gave no score): 2 of 3.
    assert_fraction(card.department.parts[2], "200", "3");
}

#[test]
fn weights_from_the_config_change_the_score() {
    let warehouse = people();
    let mut config = AssessmentConfig::default();
    // Ratings only, and only the supervisor's: E1 is 245.5/3.
    for part in [
        &mut config.sales_attainment,
        &mut config.gross_margin,
        &mut config.customer_satisfaction,
        &mut config.project_progress,
    ] {
        *part = rust_decimal::Decimal::ZERO;
    }
    config.raters.retain(|rater, _| rater == "supervisor");
    let card = q1(&warehouse, &warehouse, &config);
    let e1 = card.lines.iter().find(|l| l.employee.id == "E1").unwrap();
    assert_fraction(e1.score.score, "245.5", "3");
}

/// With the Polars engine the scorecard is computed by Polars — it reads
/// the tables behind every part — and is the same scorecard, down to the
/// count of ratings (regression: it was always computed through DuckDB).
#[test]
fn the_assessment_computes_through_the_engine_it_is_given() {
    let warehouse = people();
    let polars = PolarsEngine::new(&warehouse);
    let config = AssessmentConfig::default();
    let by_polars = q1(&warehouse, &polars, &config);
    let read = polars.tables_read();
    for table in ["sales", "sales_targets", "surveys", "evaluations"] {
        assert!(read.contains(&table), "Polars read {read:?}, not {table}");
    }
    assert_eq!(by_polars, q1(&warehouse, &warehouse, &config));
    let e1 = by_polars
        .lines
        .iter()
        .find(|l| l.employee.id == "E1")
        .unwrap();
    // The hand-worked numbers above, through Polars.
    assert_fraction(e1.score.score, "66365", "798");
    assert_eq!(e1.inputs.ratings, 4);
}

/// `opskpi report assessment` on the tiny project with the people files:
/// both languages, HTML and PDF, the numbers of the scorecard above.
#[test]
fn the_assessment_report_comes_in_both_languages_as_html_and_pdf() {
    use crate::cmd::{config_arg, opskpi, stderr, tiny_project};
    let project = tiny_project();
    let dir = project.path();
    let mut toml = std::fs::read_to_string(dir.join("opskpi.toml")).unwrap();
    for table in ["employees", "evaluations", "sales_targets"] {
        let file = format!("people-{table}.csv");
        std::fs::copy(fixture(&format!("people/{table}.csv")), dir.join(&file)).unwrap();
        toml.push_str(&format!(
            "\n[[sources]]\ntable = \"{table}\"\npath = \"{file}\"\n"
        ));
    }
    std::fs::write(dir.join("opskpi.toml"), toml).unwrap();
    let config = config_arg(dir);
    let output = opskpi(&["ingest", "--config", &config, "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = dir.join("out");
    for lang in ["en", "zh-Hant"] {
        let output = opskpi(&[
            "report",
            "assessment",
            "--period",
            "2024-Q1",
            "--format",
            "html,pdf",
            "--lang",
            lang,
            "--as-of",
            "2024-12-31",
            "--out",
            out.to_str().unwrap(),
            "--config",
            &config,
            "--quiet",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let html = std::fs::read_to_string(out.join("assessment-2024-Q1.html")).unwrap();
    let zh = std::fs::read_to_string(out.join("assessment-2024-Q1.zh-Hant.html")).unwrap();
    // E1: 66365/798 = 83.16… → 83.2, grade B, first of two; E2 60.0, D.
    assert!(
        html.contains("<th scope=\"row\">Lin Mei (E1)</th><td>83.2</td><td>B</td><td>1 of 2</td>"),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"row\">Chen Wei (E2)</th><td>60.0</td><td>D</td><td>2 of 2</td>"),
        "{html}"
    );
    assert!(html.contains("Confidential"));
    assert!(zh.contains("<td>83.2</td><td>B</td><td>1／2</td>"), "{zh}");
    assert!(zh.contains("機密") && zh.contains("員工考核"));
    assert!(!zh.contains("Confidential") && !zh.contains("weighted mean"));
    for file in [
        "assessment-2024-Q1.pdf",
        "assessment-2024-Q1.zh-Hant.pdf",
        "assessment-2024-Q1.manifest.json",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    // Through the Polars engine: the same page, and a manifest that names
    // the engine that computed it.
    let by_polars = dir.join("out-polars");
    let output = opskpi(&[
        "report",
        "assessment",
        "--period",
        "2024-Q1",
        "--as-of",
        "2024-12-31",
        "--engine",
        "polars",
        "--out",
        by_polars.to_str().unwrap(),
        "--config",
        &config,
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let polars_html = std::fs::read_to_string(by_polars.join("assessment-2024-Q1.html")).unwrap();
    assert_eq!(polars_html, html);
    let manifest = |folder: &std::path::Path| {
        let text =
            std::fs::read_to_string(folder.join("assessment-2024-Q1.manifest.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["engine"].clone()
    };
    assert_eq!(manifest(&by_polars), "polars");
    assert_eq!(manifest(&out), "duckdb");
    // The PDF's text, where poppler is installed (.ci/run installs it).
    if let Some(tool) = crate::pdf::poppler("pdftotext") {
        let text = std::process::Command::new(tool)
            .args(["-enc", "UTF-8"])
            .arg(out.join("assessment-2024-Q1.zh-Hant.pdf"))
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(text.contains("員工考核") && text.contains("83.2"), "{text}");
    }
}
