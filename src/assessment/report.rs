//! The employee assessment report: the scorecard in a report's language,
//! kept apart from the management report because it holds personal ratings.
//! Rendered with `assessment.html.j2` and `assessment.typ`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{AssessmentConfig, Line, Scorecard, PARTS};
use crate::calendar::Period;
use crate::error::Result;
use crate::format::{self, Locale};
use crate::indicators::Unit;
use crate::report::language::Language;
use crate::report::messages::Messages;
use crate::report::{Section, TableRow};

#[derive(Debug, Serialize)]
pub struct AssessmentContext {
    pub lang: &'static str,
    pub text_lang: &'static str,
    pub text_region: &'static str,
    pub words: BTreeMap<String, String>,
    pub kind: &'static str,
    pub company: String,
    pub currency: String,
    pub title: String,
    pub period: String,
    pub period_label: String,
    pub as_of: String,
    pub data_through: String,
    pub partial: bool,
    pub version: &'static str,
    /// The department's parts: measure, points, weight.
    pub department: Section,
    pub department_score: String,
    /// How the score is made, in sentences.
    pub method: Vec<String>,
    pub teams: Vec<Team>,
}

#[derive(Debug, Serialize)]
pub struct Team {
    pub name: String,
    pub title: String,
    /// Score, grade, rank and each part's points per employee.
    pub scores: Section,
    /// The measures behind the points and each rater's mean.
    pub measures: Section,
}

/// What the assessment report is about, beyond the scorecard.
pub struct AssessmentSpec<'a> {
    pub company: &'a str,
    pub currency: &'a str,
    pub locale: Locale,
    pub period: Period,
    pub partial: bool,
    pub as_of: chrono::NaiveDate,
    pub data_through: Option<chrono::NaiveDate>,
    pub templates: Option<&'a std::path::Path>,
}

pub fn context(
    spec: &AssessmentSpec,
    config: &AssessmentConfig,
    scorecard: &Scorecard,
) -> Result<AssessmentContext> {
    let lang = Language {
        locale: spec.locale,
        messages: Messages::load(spec.locale, spec.templates)?,
    };
    let locale = spec.locale;
    let words = &lang.messages;
    // Points with one decimal, as the grade bands read them.
    let points = |p: Option<Decimal>| match p {
        None => locale.not_available().to_string(),
        Some(p) => format::grouped(p, 1),
    };
    let ratio = |v: Option<Decimal>| format::value(locale, Unit::Ratio, v);
    let part_names: Vec<String> = PARTS
        .iter()
        .map(|part| words.text(&format!("part_{part}")))
        .collect();
    let weight_text = |w: Decimal| format!("{}%", format::grouped(w * Decimal::ONE_HUNDRED, 0));
    let parts_weight = |part: &str| weight_text(config.weight(part));

    let d = &scorecard.department;
    let department = Section {
        chart: String::new(),
        columns: vec![words.text("points"), words.text("weight")],
        rows: PARTS
            .iter()
            .zip(&part_names)
            .zip(&d.parts)
            .map(|((part, name), p)| TableRow {
                label: name.clone(),
                cells: vec![points(*p), parts_weight(part)],
                status: "none",
            })
            .collect(),
        note: String::new(),
    };
    let department_score = match d.score {
        Some(score) => words.fill(
            "assessment_department_score",
            &[
                ("score", &points(Some(score))),
                (
                    "grade",
                    scorecard.department_grade.as_deref().unwrap_or_default(),
                ),
            ],
        ),
        None => words.text("assessment_no_score"),
    };

    let raters: Vec<&str> = super::RATERS
        .into_iter()
        .filter(|r| config.raters.contains_key(*r))
        .collect();
    let mut teams: BTreeMap<Option<String>, Vec<&Line>> = BTreeMap::new();
    for line in &scorecard.lines {
        teams
            .entry(line.employee.team.clone())
            .or_default()
            .push(line);
    }
    let name_of = |line: &Line| match &line.employee.name {
        Some(name) => format!("{name} ({})", line.employee.id),
        None => line.employee.id.clone(),
    };
    let teams = teams
        .into_iter()
        .map(|(team, lines)| {
            let mut score_columns =
                vec![words.text("score"), words.text("grade"), words.text("rank")];
            score_columns.extend(part_names.iter().cloned());
            let scores = Section {
                chart: String::new(),
                columns: score_columns,
                rows: lines
                    .iter()
                    .map(|line| {
                        let mut cells = vec![
                            points(line.score.score),
                            line.grade
                                .clone()
                                .unwrap_or_else(|| locale.not_available().into()),
                            match line.rank {
                                Some(rank) => words.fill(
                                    "rank_of",
                                    &[
                                        ("rank", &rank.to_string()),
                                        ("size", &line.team_size.to_string()),
                                    ],
                                ),
                                None => locale.not_available().into(),
                            },
                        ];
                        cells.extend(line.score.parts.iter().map(|p| points(*p)));
                        TableRow {
                            label: name_of(line),
                            cells,
                            status: "none",
                        }
                    })
                    .collect(),
                note: String::new(),
            };
            let mut measure_columns = vec![
                words.text("part_sales_attainment"),
                words.text("gross_margin"),
                words.text("csat"),
            ];
            measure_columns.extend(raters.iter().map(|r| words.text(&format!("rater_{r}"))));
            measure_columns.push(words.text("ratings_count"));
            let measures = Section {
                chart: String::new(),
                columns: measure_columns,
                rows: lines
                    .iter()
                    .map(|line| {
                        let answers = line
                            .inputs
                            .csat_answers
                            .map(|n| format!(" ({})", format::grouped(n, 0)))
                            .unwrap_or_default();
                        let mut cells = vec![
                            ratio(line.inputs.attainment),
                            ratio(line.inputs.gross_margin),
                            format!("{}{answers}", ratio(line.inputs.csat)),
                        ];
                        cells.extend(raters.iter().map(|r| points(line.score.raters[*r])));
                        cells.push(line.inputs.ratings.to_string());
                        TableRow {
                            label: name_of(line),
                            cells,
                            status: "none",
                        }
                    })
                    .collect(),
                note: String::new(),
            };
            let name = team.unwrap_or_else(|| words.text("empty_value"));
            Team {
                title: words.fill("assessment_team", &[("team", &name)]),
                name,
                scores,
                measures,
            }
        })
        .collect();

    let list = |map: &BTreeMap<String, Decimal>, order: &[&str], prefix: &str| {
        order
            .iter()
            .filter_map(|name| map.get(*name).map(|weight| (name, weight)))
            .map(|(name, weight)| {
                format!(
                    "{} {}",
                    words.text(&format!("{prefix}_{name}")),
                    weight_text(*weight)
                )
            })
            .collect::<Vec<_>>()
            .join(words.text("list_separator").as_str())
    };
    let parts_list = PARTS
        .iter()
        .zip(&part_names)
        .map(|(part, name)| format!("{name} {}", parts_weight(part)))
        .collect::<Vec<_>>()
        .join(words.text("list_separator").as_str());
    let grades = config
        .grades
        .iter()
        .map(|g| {
            words.fill(
                "grade_from",
                &[("grade", &g.grade), ("from", &format::grouped(g.from, 0))],
            )
        })
        .collect::<Vec<_>>()
        .join(words.text("list_separator").as_str());
    let method = vec![
        words.fill("assessment_parts", &[("parts", &parts_list)]),
        words.text("assessment_points"),
        words.fill(
            "assessment_ratings",
            &[
                ("raters", &list(&config.raters, &super::RATERS, "rater")),
                (
                    "criteria",
                    &list(&config.criteria, &super::CRITERIA, "criterion"),
                ),
            ],
        ),
        words.text("assessment_missing"),
        words.fill("assessment_grades", &[("grades", &grades)]),
    ];
    let period_label = lang.period(spec.period);
    Ok(AssessmentContext {
        lang: locale.tag(),
        text_lang: locale.text_lang(),
        text_region: locale.text_region(),
        words: words.words(),
        kind: "assessment",
        company: spec.company.to_string(),
        currency: spec.currency.to_string(),
        title: words.fill("assessment_title", &[("period", &period_label)]),
        period: spec.period.to_string(),
        period_label,
        as_of: spec.as_of.format("%Y-%m-%d").to_string(),
        data_through: spec
            .data_through
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| locale.not_available().into()),
        partial: spec.partial,
        version: env!("CARGO_PKG_VERSION"),
        department,
        department_score,
        method,
        teams,
    })
}
