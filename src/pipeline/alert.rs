//! Alert rules: a condition on one indicator in one scope for the run's
//! period, evaluated on its KPI row. Three outcomes — fired, clear, and no
//! data (the value or the change it compares is n/a, or the scope has no
//! row): a missing value is never read as 0.
//!
//! Boundaries: `above`/`below` are strict (> and <), `at_least`/`at_most`
//! inclusive (≥ and ≤); `falls_by_more_than`/`rises_by_more_than` are strict
//! on the change (a fall of exactly x does not fire). A change is relative
//! ((value − base) ÷ base, 0.10 = 10 %) or, for ratios, a difference in
//! points as a fraction (0.02 = 2 pp) — the indicator's `change_kind`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::Period;
use crate::indicators::{KpiRow, Status};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A name for messages; the indicator and condition when absent.
    #[serde(default)]
    pub name: Option<String>,
    pub indicator: String,
    /// Dimension values the rule watches (`{ region = "North" }`); the whole
    /// company when empty.
    #[serde(default, rename = "where")]
    pub scope: BTreeMap<String, String>,
    #[serde(default)]
    pub above: Option<Decimal>,
    #[serde(default)]
    pub at_least: Option<Decimal>,
    #[serde(default)]
    pub below: Option<Decimal>,
    #[serde(default)]
    pub at_most: Option<Decimal>,
    /// The comparison a change condition reads: `previous` or `last_year`.
    #[serde(default)]
    pub change: Option<Comparison>,
    #[serde(default)]
    pub falls_by_more_than: Option<Decimal>,
    #[serde(default)]
    pub rises_by_more_than: Option<Decimal>,
    /// Fires at this status or worse: `warning` (warning or bad) or `bad`.
    #[serde(default)]
    pub status: Option<StatusName>,
    /// With `status`: fire only when the status turned to it — the period
    /// before was better (or had no status).
    #[serde(default)]
    pub newly: bool,
    /// What no data means: `report` (its own outcome; default) or `fire`.
    #[serde(default)]
    pub on_no_data: NoData,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Previous,
    LastYear,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StatusName {
    Warning,
    Bad,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum NoData {
    #[default]
    Report,
    Fire,
}

/// What a rule found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Fired,
    Clear,
    NoData,
}

/// A rule's outcome, as the alert file carries it.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub rule: String,
    pub indicator: String,
    #[serde(rename = "where")]
    pub scope: BTreeMap<String, String>,
    pub period: String,
    /// The condition in words (`value < 5000000`).
    pub condition: String,
    pub outcome: Outcome,
    /// Whether this outcome makes the run's alert exit code.
    pub fires: bool,
    /// What the condition compared: the value, a change, or the status.
    pub observed: Option<String>,
    pub message: String,
}

impl Rule {
    /// The one condition a rule must have, or why not.
    pub fn check(&self) -> std::result::Result<(), String> {
        let thresholds = [self.above, self.at_least, self.below, self.at_most]
            .iter()
            .filter(|t| t.is_some())
            .count();
        let changes = [self.falls_by_more_than, self.rises_by_more_than]
            .iter()
            .filter(|t| t.is_some())
            .count();
        let status = usize::from(self.status.is_some());
        if thresholds + changes + status != 1 {
            return Err("give exactly one condition: above, at_least, below, at_most, falls_by_more_than, rises_by_more_than or status".into());
        }
        if changes == 1 && self.change.is_none() {
            return Err(
                "a change condition needs `change = \"previous\"` or `\"last_year\"`".into(),
            );
        }
        if self.newly && self.status.is_none() {
            return Err("`newly` goes with `status`".into());
        }
        if changes == 0 && self.change.is_some() {
            return Err("`change` goes with falls_by_more_than or rises_by_more_than".into());
        }
        if [self.falls_by_more_than, self.rises_by_more_than]
            .iter()
            .flatten()
            .any(|x| x.is_sign_negative())
        {
            return Err("a fall or rise is a positive amount (0.10 = 10 %)".into());
        }
        Ok(())
    }

    /// The dimensions a KPI request needs for this rule's scope.
    pub fn dims(&self) -> Vec<String> {
        self.scope.keys().cloned().collect()
    }

    fn condition(&self) -> String {
        let change = match self.change {
            Some(Comparison::Previous) => "change vs previous period",
            _ => "change vs last year",
        };
        if let Some(x) = self.above {
            format!("value > {x}")
        } else if let Some(x) = self.at_least {
            format!("value ≥ {x}")
        } else if let Some(x) = self.below {
            format!("value < {x}")
        } else if let Some(x) = self.at_most {
            format!("value ≤ {x}")
        } else if let Some(x) = self.falls_by_more_than {
            format!("{change} < −{x}")
        } else if let Some(x) = self.rises_by_more_than {
            format!("{change} > {x}")
        } else {
            let turned = if self.newly {
                " (turned this period)"
            } else {
                ""
            };
            match self.status {
                Some(StatusName::Bad) => format!("status is bad{turned}"),
                _ => format!("status is warning or bad{turned}"),
            }
        }
    }

    /// The periods a rule reads: the run's, and the one before for `newly`.
    pub fn periods(&self, period: Period) -> Vec<Period> {
        if self.newly {
            period.series(2)
        } else {
            vec![period]
        }
    }

    /// The row of `period` whose dimensions match the scope.
    fn row<'a>(&self, rows: &'a [KpiRow], period: &str) -> Option<&'a KpiRow> {
        rows.iter().find(|row| {
            row.indicator == self.indicator
                && row.period.to_string() == period
                && row.dims.len() == self.scope.len()
                && row
                    .dims
                    .iter()
                    .all(|(dim, value)| self.scope.get(dim) == value.as_ref())
        })
    }

    /// Evaluates the rule on the rows of its indicator for the run's period
    /// (and, for `newly`, the period before).
    pub fn evaluate(&self, rows: &[KpiRow], period: Period) -> Evaluation {
        let before = self.row(rows, &period.previous().to_string());
        let period = period.to_string();
        let period = period.as_str();
        let row = self.row(rows, period);
        let condition = self.condition();
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| format!("{}: {condition}", self.indicator));
        let scope = if self.scope.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = self.scope.iter().map(|(k, v)| format!("{k} {v}")).collect();
            format!(" ({})", parts.join(", "))
        };
        let what = format!("{}{scope} {period}", self.indicator);
        let en = crate::locale::Locale::en();
        // Machine text keeps 15 significant digits (as kpi's CSV and JSON do).
        let exact = |v: Decimal| v.round_sf(15).unwrap_or(v).normalize().to_string();
        // (observed, shown in words, fired)
        let found: Option<(String, String, bool)> = row.and_then(|row| {
            if let Some(status) = self.status {
                let reaches = |s: Option<Status>| match status {
                    StatusName::Bad => matches!(s, Some(Status::Bad)),
                    StatusName::Warning => matches!(s, Some(Status::Bad | Status::Warning)),
                };
                let fired =
                    reaches(row.status) && !(self.newly && reaches(before.and_then(|b| b.status)));
                return row
                    .status
                    .map(|s| (s.name().to_string(), format!("status {}", s.name()), fired));
            }
            if self.change.is_some() {
                let change = match self.change {
                    Some(Comparison::Previous) => row.change_vs_previous,
                    _ => row.change_vs_last_year,
                }?;
                let fired = match (self.falls_by_more_than, self.rises_by_more_than) {
                    (Some(x), _) => change < -x,
                    (_, Some(x)) => change > x,
                    _ => false,
                };
                let shown = crate::locale::change(en, row.unit, row.change_kind, Some(change));
                return Some((exact(change), shown, fired));
            }
            let value = row.value?;
            let fired = if let Some(x) = self.above {
                value > x
            } else if let Some(x) = self.at_least {
                value >= x
            } else if let Some(x) = self.below {
                value < x
            } else if let Some(x) = self.at_most {
                value <= x
            } else {
                false
            };
            Some((
                exact(value),
                crate::locale::value(en, row.unit, Some(value)),
                fired,
            ))
        });
        let (outcome, observed, message) = match found {
            Some((observed, shown, true)) => (
                Outcome::Fired,
                Some(observed),
                format!("ALERT {what}: {shown} — {condition}"),
            ),
            Some((observed, shown, false)) => (
                Outcome::Clear,
                Some(observed),
                format!("clear {what}: {shown} — not {condition}"),
            ),
            None => (
                Outcome::NoData,
                None,
                format!(
                    "no data {what}: {} is n/a, so `{condition}` cannot be judged",
                    if row.is_none() {
                        "the indicator in this scope"
                    } else if self.status.is_some() {
                        "the status"
                    } else if self.change.is_some() {
                        "the change"
                    } else {
                        "the value"
                    }
                ),
            ),
        };
        let fires = outcome == Outcome::Fired
            || (outcome == Outcome::NoData && self.on_no_data == NoData::Fire);
        Evaluation {
            rule: name,
            indicator: self.indicator.clone(),
            scope: self.scope.clone(),
            period: period.to_string(),
            condition,
            outcome,
            fires,
            observed,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Period;
    use crate::indicators::{ChangeKind, Direction, Unit};

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    /// Net sales for the North in October 2026.
    fn north(
        value: Option<&str>,
        change_vs_last_year: Option<&str>,
        status: Option<Status>,
    ) -> KpiRow {
        KpiRow {
            indicator: "net_sales".into(),
            label: "Net sales".into(),
            unit: Unit::Money,
            direction: Direction::Higher,
            change_kind: ChangeKind::Relative,
            period: Period::parse("2026-10", 1).unwrap(),
            partial: false,
            dims: vec![("region".into(), Some("North".into()))],
            value: value.map(dec),
            previous: None,
            change_vs_previous: None,
            last_year: None,
            change_vs_last_year: change_vs_last_year.map(dec),
            target: None,
            status,
            sample_size: None,
            low_sample: false,
        }
    }

    fn rule(toml_text: &str) -> Rule {
        let rule: Rule = toml::from_str(&format!(
            "indicator = \"net_sales\"\nwhere = {{ region = \"North\" }}\n{toml_text}"
        ))
        .unwrap();
        rule.check().unwrap();
        rule
    }

    fn october() -> Period {
        Period::parse("2026-10", 1).unwrap()
    }

    fn outcome(rule: &Rule, row: KpiRow) -> (Outcome, bool) {
        let e = rule.evaluate(&[row], october());
        (e.outcome, e.fires)
    }

    #[test]
    fn thresholds_state_their_boundaries() {
        let at = |v: &str| north(Some(v), None, None);
        // below / above are strict, at_most / at_least inclusive.
        assert_eq!(
            outcome(&rule("below = 100"), at("100")),
            (Outcome::Clear, false)
        );
        assert_eq!(
            outcome(&rule("below = 100"), at("99.9999")),
            (Outcome::Fired, true)
        );
        assert_eq!(
            outcome(&rule("at_most = 100"), at("100")),
            (Outcome::Fired, true)
        );
        assert_eq!(
            outcome(&rule("at_most = 100"), at("100.0001")),
            (Outcome::Clear, false)
        );
        assert_eq!(
            outcome(&rule("above = 100"), at("100")),
            (Outcome::Clear, false)
        );
        assert_eq!(
            outcome(&rule("at_least = 100"), at("100")),
            (Outcome::Fired, true)
        );
        // A value of 0 is a value: it fires `below`, it is not "no data".
        assert_eq!(outcome(&rule("below = 1"), at("0")), (Outcome::Fired, true));
    }

    #[test]
    fn changes_fire_only_past_the_amount() {
        let change = |c: &str| north(Some("1000"), Some(c), None);
        let falls = rule("change = \"last_year\"\nfalls_by_more_than = 0.10");
        assert_eq!(outcome(&falls, change("-0.10")), (Outcome::Clear, false));
        assert_eq!(
            outcome(&falls, change("-0.1000001")),
            (Outcome::Fired, true)
        );
        assert_eq!(outcome(&falls, change("0.5")), (Outcome::Clear, false));
        let rises = rule("change = \"last_year\"\nrises_by_more_than = 0.10");
        assert_eq!(outcome(&rises, change("0.10")), (Outcome::Clear, false));
        assert_eq!(outcome(&rises, change("0.11")), (Outcome::Fired, true));
        // No comparison base: the change is n/a, which is no data, not 0.
        assert_eq!(
            outcome(&falls, north(Some("1000"), None, None)),
            (Outcome::NoData, false)
        );
    }

    #[test]
    fn no_data_is_its_own_outcome() {
        // The value is n/a.
        assert_eq!(
            outcome(&rule("below = 100"), north(None, None, None)),
            (Outcome::NoData, false)
        );
        // No row for the scope at all (the South has none here).
        let south: Rule = toml::from_str(
            "indicator = \"net_sales\"\nwhere = { region = \"South\" }\nbelow = 100",
        )
        .unwrap();
        let e = south.evaluate(&[north(Some("1"), None, None)], october());
        assert_eq!((e.outcome, e.fires), (Outcome::NoData, false));
        assert!(e.message.contains("n/a"), "{}", e.message);
        // …unless the rule says no data is an alert.
        let strict = rule("below = 100\non_no_data = \"fire\"");
        assert_eq!(
            outcome(&strict, north(None, None, None)),
            (Outcome::NoData, true)
        );
    }

    #[test]
    fn status_rules_read_the_traffic_light() {
        let bad = rule("status = \"bad\"");
        let warning = rule("status = \"warning\"");
        let with = |s: Status| north(Some("1"), None, Some(s));
        assert_eq!(
            outcome(&bad, with(Status::Warning)),
            (Outcome::Clear, false)
        );
        assert_eq!(outcome(&bad, with(Status::Bad)), (Outcome::Fired, true));
        assert_eq!(
            outcome(&warning, with(Status::Warning)),
            (Outcome::Fired, true)
        );
        assert_eq!(
            outcome(&warning, with(Status::Good)),
            (Outcome::Clear, false)
        );
        // No target, no status: no data.
        assert_eq!(
            outcome(&bad, north(Some("1"), None, None)),
            (Outcome::NoData, false)
        );
    }

    #[test]
    fn a_rule_has_exactly_one_condition() {
        let parse =
            |t: &str| toml::from_str::<Rule>(&format!("indicator = \"net_sales\"\n{t}")).unwrap();
        assert!(parse("").check().is_err());
        assert!(parse("below = 1\nabove = 2").check().is_err());
        assert!(parse("falls_by_more_than = 0.1")
            .check()
            .unwrap_err()
            .contains("change ="));
        assert!(parse("change = \"previous\"\nfalls_by_more_than = -0.1")
            .check()
            .is_err());
        assert!(parse("change = \"previous\"\nfalls_by_more_than = 0.1")
            .check()
            .is_ok());
        assert!(toml::from_str::<Rule>("indicator = \"x\"\nbellow = 1").is_err());
    }
}
