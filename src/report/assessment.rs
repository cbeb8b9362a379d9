//! The employee assessment report: the scorecard in a report's language,
//! kept apart from the management report because it holds personal ratings.
//! Rendered with `assessment.html.j2` and `assessment.typ`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::language::Language;
use super::messages::Messages;
use super::{Section, TableRow};
use crate::assessment::{AssessmentConfig, Line, Scorecard, CRITERIA, PARTS, RATERS};
use crate::calendar::Period;
use crate::error::Result;
use crate::indicators::Unit;
use crate::locale::{self, Locale};

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

/// The assessment report's context: the scorecard in `spec`'s language.
pub fn context(
    spec: &AssessmentSpec,
    config: &AssessmentConfig,
    scorecard: &Scorecard,
) -> Result<AssessmentContext> {
    let lang = Language {
        locale: spec.locale,
        messages: Messages::load(spec.locale, spec.templates)?,
    };
    let writer = Writer::new(&lang, config);
    let words = &lang.messages;
    let locale = spec.locale;
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
        department: writer.department(scorecard),
        department_score: writer.department_score(scorecard),
        method: writer.method(),
        teams: writer.teams(scorecard),
    })
}

/// How the assessment writes its numbers and names, in one language.
struct Writer<'a> {
    lang: &'a Language,
    config: &'a AssessmentConfig,
    /// Each part of `PARTS` in the report's words.
    part_names: Vec<String>,
    /// The raters the configuration weighs, in the scorecard's order.
    raters: Vec<&'static str>,
}

impl<'a> Writer<'a> {
    fn new(lang: &'a Language, config: &'a AssessmentConfig) -> Writer<'a> {
        Writer {
            lang,
            config,
            part_names: PARTS
                .iter()
                .map(|part| lang.messages.text(&format!("part_{part}")))
                .collect(),
            raters: RATERS
                .into_iter()
                .filter(|r| config.raters.contains_key(*r))
                .collect(),
        }
    }

    fn words(&self) -> &Messages {
        &self.lang.messages
    }

    fn not_available(&self) -> String {
        self.lang.locale.not_available().to_string()
    }

    /// Points with one decimal, as the grade bands read them.
    fn points(&self, points: Option<Decimal>) -> String {
        match points {
            None => self.not_available(),
            Some(p) => locale::grouped(p, 1),
        }
    }

    fn ratio(&self, value: Option<Decimal>) -> String {
        locale::value(self.lang.locale, Unit::Ratio, value)
    }

    fn weight(&self, weight: Decimal) -> String {
        format!("{}%", locale::grouped(weight * Decimal::ONE_HUNDRED, 0))
    }

    fn part_weight(&self, part: &str) -> String {
        self.weight(self.config.weight(part))
    }

    /// The department's parts: points and weight.
    fn department(&self, scorecard: &Scorecard) -> Section {
        let words = self.words();
        Section {
            chart: String::new(),
            columns: vec![words.text("points"), words.text("weight")],
            rows: PARTS
                .iter()
                .zip(&self.part_names)
                .zip(&scorecard.department.parts)
                .map(|((part, name), p)| TableRow {
                    label: name.clone(),
                    cells: vec![self.points(*p), self.part_weight(part)],
                    status: "none",
                })
                .collect(),
            note: String::new(),
        }
    }

    /// The department's score and grade in a sentence.
    fn department_score(&self, scorecard: &Scorecard) -> String {
        let words = self.words();
        match scorecard.department.score {
            Some(score) => words.fill(
                "assessment_department_score",
                &[
                    ("score", &self.points(Some(score))),
                    (
                        "grade",
                        scorecard.department_grade.as_deref().unwrap_or_default(),
                    ),
                ],
            ),
            None => words.text("assessment_no_score"),
        }
    }

    /// One table of scores and one of measures per team, teams in order.
    fn teams(&self, scorecard: &Scorecard) -> Vec<Team> {
        let mut teams: BTreeMap<Option<String>, Vec<&Line>> = BTreeMap::new();
        for line in &scorecard.lines {
            teams
                .entry(line.employee.team.clone())
                .or_default()
                .push(line);
        }
        teams
            .into_iter()
            .map(|(team, lines)| {
                let name = team.unwrap_or_else(|| self.words().text("empty_value"));
                Team {
                    title: self.words().fill("assessment_team", &[("team", &name)]),
                    name,
                    scores: self.scores(&lines),
                    measures: self.measures(&lines),
                }
            })
            .collect()
    }

    /// Score, grade, rank and each part's points per employee.
    fn scores(&self, lines: &[&Line]) -> Section {
        let words = self.words();
        let mut columns = vec![words.text("score"), words.text("grade"), words.text("rank")];
        columns.extend(self.part_names.iter().cloned());
        let rows = lines
            .iter()
            .map(|line| {
                let mut cells = vec![
                    self.points(line.score.score),
                    line.grade.clone().unwrap_or_else(|| self.not_available()),
                    match line.rank {
                        Some(rank) => words.fill(
                            "rank_of",
                            &[
                                ("rank", &rank.to_string()),
                                ("size", &line.team_size.to_string()),
                            ],
                        ),
                        None => self.not_available(),
                    },
                ];
                cells.extend(line.score.parts.iter().map(|p| self.points(*p)));
                TableRow {
                    label: name_of(line),
                    cells,
                    status: "none",
                }
            })
            .collect();
        Section {
            chart: String::new(),
            columns,
            rows,
            note: String::new(),
        }
    }

    /// The measures behind the points and each rater's mean per employee.
    fn measures(&self, lines: &[&Line]) -> Section {
        let words = self.words();
        let mut columns = vec![
            words.text("part_sales_attainment"),
            words.text("gross_margin"),
            words.text("csat"),
        ];
        columns.extend(
            self.raters
                .iter()
                .map(|r| words.text(&format!("rater_{r}"))),
        );
        columns.push(words.text("ratings_count"));
        let rows = lines
            .iter()
            .map(|line| {
                let answers = line
                    .inputs
                    .csat_answers
                    .map(|n| format!(" ({})", locale::grouped(n, 0)))
                    .unwrap_or_default();
                let mut cells = vec![
                    self.ratio(line.inputs.attainment),
                    self.ratio(line.inputs.gross_margin),
                    format!("{}{answers}", self.ratio(line.inputs.csat)),
                ];
                cells.extend(
                    self.raters
                        .iter()
                        .map(|r| self.points(line.score.raters[*r])),
                );
                cells.push(line.inputs.ratings.to_string());
                TableRow {
                    label: name_of(line),
                    cells,
                    status: "none",
                }
            })
            .collect();
        Section {
            chart: String::new(),
            columns,
            rows,
            note: String::new(),
        }
    }

    /// How the score is made, in sentences: parts and weights, points,
    /// raters and criteria, what a missing part does, the grade bands.
    fn method(&self) -> Vec<String> {
        let (words, config) = (self.words(), self.config);
        let separator = words.text("list_separator");
        let list = |map: &BTreeMap<String, Decimal>, order: &[&str], prefix: &str| {
            order
                .iter()
                .filter_map(|name| map.get(*name).map(|weight| (name, weight)))
                .map(|(name, weight)| {
                    format!(
                        "{} {}",
                        words.text(&format!("{prefix}_{name}")),
                        self.weight(*weight)
                    )
                })
                .collect::<Vec<_>>()
                .join(separator.as_str())
        };
        let parts_list = PARTS
            .iter()
            .zip(&self.part_names)
            .map(|(part, name)| format!("{name} {}", self.part_weight(part)))
            .collect::<Vec<_>>()
            .join(separator.as_str());
        let grades = config
            .grades
            .iter()
            .map(|g| {
                words.fill(
                    "grade_from",
                    &[("grade", &g.grade), ("from", &locale::grouped(g.from, 0))],
                )
            })
            .collect::<Vec<_>>()
            .join(separator.as_str());
        vec![
            words.fill("assessment_parts", &[("parts", &parts_list)]),
            words.text("assessment_points"),
            words.fill(
                "assessment_ratings",
                &[
                    ("raters", &list(&config.raters, &RATERS, "rater")),
                    ("criteria", &list(&config.criteria, &CRITERIA, "criterion")),
                ],
            ),
            words.text("assessment_missing"),
            words.fill("assessment_grades", &[("grades", &grades)]),
        ]
    }
}

/// An employee as the tables name them: `name (id)`, or the id alone.
fn name_of(line: &Line) -> String {
    match &line.employee.name {
        Some(name) => format!("{name} ({})", line.employee.id),
        None => line.employee.id.clone(),
    }
}
