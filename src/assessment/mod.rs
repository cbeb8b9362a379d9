//! The employee assessment: per employee and period (month, quarter, year), a
//! score from 0 to 100 that combines quantitative results with the ratings of
//! supervisor, peer, self and customers, a grade band and a rank within the
//! team — and the same for the department as a whole.
//!
//! Each part of the score is worth 0–100 points:
//!
//! - **sales attainment**: 100 × net sales ÷ the employee's sales target,
//!   at most 100 (`target_attainment` by salesperson);
//! - **gross margin**: 100 × the employee's gross margin ÷ the gross-margin
//!   target, at most 100;
//! - **customer satisfaction**: 100 × CSAT of the answers about the
//!   employee's orders;
//! - **project progress**: 100 × the department's development projects on
//!   schedule (the canonical model names no project owner, so everyone shares
//!   the department's figure);
//! - **ratings**: the ratings' 0–100 scores, each rater's mean per criterion
//!   (results, ability, attitude) weighted by criterion, then weighted by
//!   rater (supervisor, peer, self, customer).
//!
//! The score is the weighted mean of the parts an employee has: a part
//! without a value (no target, no survey answer, no rating of that rater in
//! the period) is left out and the remaining weights are scaled up to their
//! sum, and the scorecard says which parts counted. All of it is exact
//! decimal arithmetic; the report rounds for display.

use std::collections::BTreeMap;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::calendar::{Period, Slot, Window};
pub use crate::config::{AssessmentConfig, Grade, CRITERIA, PARTS, RATERS};
use crate::error::{Error, Result};
use crate::indicators::compute::{compute, Context};
use crate::indicators::{Catalogue, Engine, KpiRequest, KpiRow, TargetRule};
use crate::warehouse::Warehouse;

/// What an employee (or the department) brings to a score: each part's
/// measure before it becomes points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// Net sales ÷ target.
    pub attainment: Option<Decimal>,
    pub gross_margin: Option<Decimal>,
    /// Share of satisfied answers.
    pub csat: Option<Decimal>,
    /// Share of project stages on time.
    pub projects: Option<Decimal>,
    /// Mean 0–100 rating per (rater, criterion).
    pub ratings: BTreeMap<(String, String), Decimal>,
}

/// A score with its parts in points (0–100).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Points per part of `PARTS`; `None` when the part has no value.
    pub parts: Vec<Option<Decimal>>,
    /// Per rater of the config: its criterion-weighted mean.
    pub raters: BTreeMap<String, Option<Decimal>>,
    pub score: Option<Decimal>,
}

/// Scores `inputs`; `margin_target` is the gross margin worth 100 points.
pub fn score(config: &AssessmentConfig, inputs: &Inputs, margin_target: Option<Decimal>) -> Score {
    let hundred = Decimal::ONE_HUNDRED;
    let capped = |ratio: Decimal| (ratio * hundred).min(hundred);
    let raters: BTreeMap<String, Option<Decimal>> = config
        .raters
        .keys()
        .map(|rater| {
            let by_criterion = config.criteria.iter().filter_map(|(criterion, weight)| {
                inputs
                    .ratings
                    .get(&(rater.clone(), criterion.clone()))
                    .map(|mean| (*weight, *mean))
            });
            (rater.clone(), weighted_mean(by_criterion))
        })
        .collect();
    let ratings = weighted_mean(
        config
            .raters
            .iter()
            .filter_map(|(rater, weight)| raters[rater].map(|mean| (*weight, mean))),
    );
    let parts = vec![
        inputs.attainment.map(capped),
        inputs
            .gross_margin
            .zip(margin_target.filter(|t| *t > Decimal::ZERO))
            .map(|(margin, target)| capped(margin / target).max(Decimal::ZERO)),
        inputs.csat.map(|csat| csat * hundred),
        inputs.projects.map(|share| share * hundred),
        ratings,
    ];
    let score = weighted_mean(
        PARTS
            .iter()
            .zip(&parts)
            .filter_map(|(part, points)| points.map(|p| (config.weight(part), p))),
    );
    Score {
        parts,
        raters,
        score,
    }
}

/// Σ weight × value ÷ Σ weight over the pairs given; `None` when their
/// weights sum to nothing.
fn weighted_mean(pairs: impl Iterator<Item = (Decimal, Decimal)>) -> Option<Decimal> {
    let (mut sum, mut weights) = (Decimal::ZERO, Decimal::ZERO);
    for (weight, value) in pairs {
        sum += weight * value;
        weights += weight;
    }
    (weights > Decimal::ZERO).then(|| sum / weights)
}

/// One employee of the roster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Employee {
    pub id: String,
    pub name: Option<String>,
    pub team: Option<String>,
    pub role: Option<String>,
}

/// One line of the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub employee: Employee,
    pub inputs: InputsView,
    pub score: Score,
    pub grade: Option<String>,
    /// 1 = best in the team; ties share a rank; `None` without a score.
    pub rank: Option<usize>,
    pub team_size: usize,
}

/// The measures as the scorecard shows them beside the points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputsView {
    pub attainment: Option<Decimal>,
    pub gross_margin: Option<Decimal>,
    pub csat: Option<Decimal>,
    pub csat_answers: Option<Decimal>,
    pub projects: Option<Decimal>,
    pub ratings: usize,
}

/// The scorecard of a period: the department, then every employee.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub period: String,
    pub department: Score,
    pub department_grade: Option<String>,
    pub lines: Vec<Line>,
}

/// Ranks within each team by score, best first; equal scores share the
/// better rank (1, 2, 2, 4); lines without a score are not ranked.
pub fn rank(lines: &mut [Line]) {
    let teams: Vec<Option<String>> = lines.iter().map(|l| l.employee.team.clone()).collect();
    let scores: Vec<Option<Decimal>> = lines.iter().map(|l| l.score.score).collect();
    for (i, line) in lines.iter_mut().enumerate() {
        let mates = || (0..teams.len()).filter(|j| teams[*j] == teams[i]);
        line.team_size = mates().count();
        line.rank = scores[i].map(|mine| {
            1 + mates()
                .filter(|j| scores[*j].is_some_and(|theirs| theirs > mine))
                .count()
        });
    }
}

/// The scorecard for `period` of the `employees` (`employees`), every
/// number — sales, targets, surveys, projects, ratings and their counts —
/// computed by `engine`.
pub fn scorecard(
    engine: &dyn Engine,
    employees: Vec<Employee>,
    catalogue: &Catalogue,
    context: &Context,
    config: &AssessmentConfig,
    period: Period,
) -> Result<Scorecard> {
    let run = |ids: &[&str], dims: &[&str]| -> Result<Vec<KpiRow>> {
        compute(
            engine,
            catalogue,
            context,
            &KpiRequest {
                indicators: ids.iter().map(|s| s.to_string()).collect(),
                periods: vec![period],
                dims: dims.iter().map(|s| s.to_string()).collect(),
            },
        )
    };
    let measures = ["target_attainment", "gross_margin", "csat"];
    let by_person = run(&measures, &["salesperson"])?;
    let company = run(&[&measures[..], &["projects_on_schedule"]].concat(), &[])?;
    let ratings = run(&["employee_rating"], &["salesperson", "rater", "criterion"])?;
    let all_ratings = run(&["employee_rating"], &["rater", "criterion"])?;
    let margin_target = context
        .targets
        .get("gross_margin")
        .map(|(target, _)| *target)
        .or_else(|| match catalogue.indicator("gross_margin").ok()?.target {
            TargetRule::Fixed { target, .. } => Some(target),
            _ => None,
        });
    let dim = |row: &KpiRow, at: usize| row.dims.get(at).and_then(|(_, v)| v.clone());
    let value = |rows: &[KpiRow], id: &str, who: Option<&str>| {
        rows.iter()
            .find(|r| r.indicator == id && (who.is_none() || dim(r, 0).as_deref() == who))
            .and_then(|r| r.value)
    };
    let projects = value(&company, "projects_on_schedule", None);
    let rating_map = |rows: &[KpiRow], offset: usize, who: Option<&str>| {
        rows.iter()
            .filter(|r| who.is_none() || dim(r, 0).as_deref() == who)
            .filter_map(|r| {
                let key = (dim(r, offset)?, dim(r, offset + 1)?);
                Some((key, r.value?))
            })
            .collect::<BTreeMap<_, _>>()
    };
    let department_inputs = Inputs {
        attainment: value(&company, "target_attainment", None),
        gross_margin: value(&company, "gross_margin", None),
        csat: value(&company, "csat", None),
        projects,
        ratings: rating_map(&all_ratings, 0, None),
    };
    let department = score(config, &department_inputs, margin_target);
    let window = Slot::new(period, context.as_of)?.window;
    let counts = rating_counts(engine, catalogue, window)?;
    let mut lines: Vec<Line> = employees
        .into_iter()
        .map(|employee| {
            let count = counts.get(&employee.id).copied().unwrap_or(0);
            let who = Some(employee.id.as_str());
            let inputs = Inputs {
                attainment: value(&by_person, "target_attainment", who),
                gross_margin: value(&by_person, "gross_margin", who),
                csat: value(&by_person, "csat", who),
                projects,
                ratings: rating_map(&ratings, 1, who),
            };
            let score = score(config, &inputs, margin_target);
            Line {
                inputs: InputsView {
                    attainment: inputs.attainment,
                    gross_margin: inputs.gross_margin,
                    csat: inputs.csat,
                    csat_answers: by_person
                        .iter()
                        .find(|r| r.indicator == "csat" && dim(r, 0).as_deref() == who)
                        .and_then(|r| r.sample_size),
                    projects,
                    ratings: count,
                },
                grade: score.score.map(|s| config.grade(s).to_string()),
                score,
                employee,
                rank: None,
                team_size: 0,
            }
        })
        .collect();
    rank(&mut lines);
    lines.sort_by(|a, b| {
        (&a.employee.team, a.rank.is_none(), a.rank, &a.employee.id).cmp(&(
            &b.employee.team,
            b.rank.is_none(),
            b.rank,
            &b.employee.id,
        ))
    });
    Ok(Scorecard {
        period: period.to_string(),
        department_grade: department.score.map(|s| config.grade(s).to_string()),
        department,
        lines,
    })
}

/// How many ratings each employee has in `window` (a rating counts in the
/// window that holds its period's first day), by the engine.
fn rating_counts(
    engine: &dyn Engine,
    catalogue: &Catalogue,
    window: Window,
) -> Result<BTreeMap<String, usize>> {
    let query = catalogue
        .queries
        .get("ratings")
        .ok_or_else(|| Error::Internal("the catalogue has no `ratings` query".into()))?;
    let ratings = query
        .components
        .iter()
        .position(|name| name == "ratings")
        .ok_or_else(|| Error::Internal("the `ratings` query counts no ratings".into()))?;
    let answer = engine.components(
        query,
        &["salesperson".to_string()],
        &[window],
        &["ratings".to_string()],
    )?;
    let mut counts = BTreeMap::new();
    for (group, values) in answer.rows.get(&window).into_iter().flatten() {
        let (Some(Some(employee)), Some(Some(count))) = (group.first(), values.get(ratings)) else {
            continue;
        };
        let count = count
            .to_usize()
            .ok_or_else(|| Error::Internal(format!("a count of ratings `{count}`")))?;
        counts.insert(employee.clone(), count);
    }
    Ok(counts)
}

/// Every employee of the `employees` table, by id: who the scorecard is of
/// (a list, no number).
pub fn employees(warehouse: &Warehouse) -> Result<Vec<Employee>> {
    let sql = "SELECT employee_id, name, team, role FROM employees ORDER BY employee_id";
    let mut statement = warehouse
        .connection()
        .prepare(sql)
        .map_err(Error::query("employees"))?;
    let rows = statement
        .query_map([], |row| {
            Ok(Employee {
                id: row.get(0)?,
                name: row.get(1)?,
                team: row.get(2)?,
                role: row.get(3)?,
            })
        })
        .map_err(Error::query("employees"))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::query("employees"))
}

#[cfg(test)]
mod tests;
