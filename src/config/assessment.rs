//! `[assessment]` in `opskpi.toml`: the weights of the employee
//! assessment's parts, raters and criteria, and its grade bands (the
//! scoring itself is `assessment`'s).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[assessment]` in `opskpi.toml`: the weights and the grade bands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssessmentConfig {
    pub sales_attainment: Decimal,
    pub gross_margin: Decimal,
    pub customer_satisfaction: Decimal,
    pub project_progress: Decimal,
    pub ratings: Decimal,
    /// Weights of the raters within the ratings part.
    pub raters: BTreeMap<String, Decimal>,
    /// Weights of the criteria within each rater's ratings.
    pub criteria: BTreeMap<String, Decimal>,
    /// Grade bands, best first: the first whose `from` the score reaches.
    pub grades: Vec<Grade>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub grade: String,
    pub from: Decimal,
}

impl Default for AssessmentConfig {
    fn default() -> Self {
        let d = |s: &str| s.parse::<Decimal>().expect("a decimal");
        let weights = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(name, weight)| (name.to_string(), d(weight)))
                .collect()
        };
        AssessmentConfig {
            sales_attainment: d("0.35"),
            gross_margin: d("0.10"),
            customer_satisfaction: d("0.10"),
            project_progress: d("0.05"),
            ratings: d("0.40"),
            raters: weights(&[
                ("supervisor", "0.5"),
                ("peer", "0.2"),
                ("self", "0.1"),
                ("customer", "0.2"),
            ]),
            criteria: weights(&[
                ("results", "0.5"),
                ("ability", "0.25"),
                ("attitude", "0.25"),
            ]),
            grades: [
                ("A", "90"),
                ("B", "80"),
                ("C", "70"),
                ("D", "60"),
                ("E", "0"),
            ]
            .iter()
            .map(|(grade, from)| Grade {
                grade: grade.to_string(),
                from: d(from),
            })
            .collect(),
        }
    }
}

/// Raters and criteria in the order the scorecard shows them.
pub const RATERS: [&str; 4] = ["supervisor", "peer", "self", "customer"];
pub const CRITERIA: [&str; 3] = ["results", "ability", "attitude"];

/// The parts of a score, in the order the scorecard shows them.
pub const PARTS: [&str; 5] = [
    "sales_attainment",
    "gross_margin",
    "customer_satisfaction",
    "project_progress",
    "ratings",
];

impl AssessmentConfig {
    pub fn weight(&self, part: &str) -> Decimal {
        match part {
            "sales_attainment" => self.sales_attainment,
            "gross_margin" => self.gross_margin,
            "customer_satisfaction" => self.customer_satisfaction,
            "project_progress" => self.project_progress,
            _ => self.ratings,
        }
    }

    /// Refuses negative weights, weights that sum to nothing, unknown raters
    /// or criteria, and grade bands that are not best first down to 0.
    pub fn check(&self) -> Result<()> {
        let bad = |what: String, hint: &str| Err(Error::config_hint(what, hint.to_string()));
        for part in PARTS {
            if self.weight(part) < Decimal::ZERO {
                return bad(
                    format!("`assessment.{part}` is negative"),
                    "weights are 0 or more",
                );
            }
        }
        if PARTS.iter().all(|part| self.weight(part).is_zero()) {
            return bad(
                "every weight of `[assessment]` is 0".into(),
                "give at least one part a weight",
            );
        }
        for (table, map, known) in [
            ("raters", &self.raters, &RATERS[..]),
            ("criteria", &self.criteria, &CRITERIA[..]),
        ] {
            for (name, weight) in map {
                if !known.contains(&name.as_str()) {
                    return bad(
                        format!("`assessment.{table}` has `{name}`"),
                        &format!("use {}", known.join(", ")),
                    );
                }
                if *weight < Decimal::ZERO {
                    return bad(
                        format!("`assessment.{table}.{name}` is negative"),
                        "weights are 0 or more",
                    );
                }
            }
        }
        let descending = self.grades.windows(2).all(|w| w[0].from > w[1].from);
        if self.grades.is_empty()
            || !descending
            || self.grades.last().is_some_and(|g| g.from != Decimal::ZERO)
        {
            return bad(
                "`assessment.grades` are not bands from the best down to 0".into(),
                "list them best first, each `from` lower than the one before, the last from 0",
            );
        }
        Ok(())
    }

    /// The grade band a score falls in.
    pub fn grade(&self, score: Decimal) -> &str {
        self.grades
            .iter()
            .find(|g| score >= g.from)
            .map(|g| g.grade.as_str())
            .unwrap_or("")
    }
}
