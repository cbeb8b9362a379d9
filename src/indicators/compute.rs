//! From a request (indicators × periods × dimensions) to rows of values,
//! comparisons, targets and status.
//!
//! Work happens in two steps. *Planning* walks every value a row needs (the
//! period, the previous one, last year, and for growth indicators the windows
//! they compare) and collects the windows per component query. *Fetching*
//! asks the engine once per query for all of its windows. Evaluation then
//! walks the same values again, now reading the fetched components. One walk
//! (`Walk`) serves both steps, so the plan can never miss what the
//! evaluation reads.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use serde::Serialize;

use super::formula::Overflow;
use super::{
    Catalogue, ChangeKind, Compare, Components, Direction, Engine, Group, Indicator, Kind,
    TargetRule, Unit,
};
use crate::calendar::{Calendar, Period, Slot, Window};
use crate::error::{Error, Result};

/// What to compute.
#[derive(Debug, Clone)]
pub struct KpiRequest {
    pub indicators: Vec<String>,
    pub periods: Vec<Period>,
    /// Dimension names to break the values down by (empty: the company total).
    pub dims: Vec<String>,
}

/// The facts a computation depends on besides the data.
#[derive(Debug, Clone)]
pub struct Context {
    pub as_of: NaiveDate,
    pub calendar: Calendar,
    /// Below this many answers a survey indicator is flagged low-sample.
    pub min_sample: u64,
    /// Per-indicator (target, warning) overriding the catalogue's fixed ones.
    pub targets: BTreeMap<String, (Decimal, Decimal)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Good,
    Warning,
    Bad,
}

impl Status {
    /// The status as reports and `opskpi kpi` write it.
    pub fn name(self) -> &'static str {
        match self {
            Status::Good => "good",
            Status::Warning => "warning",
            Status::Bad => "bad",
        }
    }
}

/// Dimension name and value (`None`: the data left it empty).
pub type Dimensions = Vec<(String, Option<String>)>;

/// One indicator for one period and one combination of dimension values.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiRow {
    pub indicator: String,
    pub label: String,
    pub unit: Unit,
    pub direction: Direction,
    pub change_kind: ChangeKind,
    pub period: Period,
    pub partial: bool,
    pub dims: Dimensions,
    pub value: Option<Decimal>,
    pub previous: Option<Decimal>,
    pub change_vs_previous: Option<Decimal>,
    pub last_year: Option<Decimal>,
    pub change_vs_last_year: Option<Decimal>,
    pub target: Option<Decimal>,
    pub status: Option<Status>,
    pub sample_size: Option<Decimal>,
    pub low_sample: bool,
}

/// Computes every requested indicator for every requested period.
pub fn compute(
    engine: &dyn Engine,
    catalogue: &Catalogue,
    context: &Context,
    request: &KpiRequest,
) -> Result<Vec<KpiRow>> {
    let indicators: Vec<&Indicator> = request
        .indicators
        .iter()
        .map(|id| catalogue.indicator(id))
        .collect::<Result<_>>()?;
    check_dimensions(catalogue, &indicators, &request.dims)?;
    let slots: Vec<Slot> = request
        .periods
        .iter()
        .map(|period| Slot::new(*period, context.as_of))
        .collect::<Result<_>>()?;

    // Plan: every (query, window) any value of any row needs.
    let planner = Walk::planning(catalogue, context, &request.dims);
    for indicator in &indicators {
        for slot in &slots {
            planner.row(indicator, slot, &[]);
        }
    }
    let plan = planner.needs.into_inner();
    let wanted = planner.wanted.into_inner();

    // Fetch: one engine call per query, for the components some formula reads.
    let mut fetched = BTreeMap::new();
    for (query, windows) in plan {
        let def = &catalogue.queries[&query];
        let windows: Vec<Window> = windows.into_iter().collect();
        let names: Vec<String> = wanted
            .get(&query)
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default();
        fetched.insert(
            query,
            engine.components(def, &request.dims, &windows, &names)?,
        );
    }

    // Evaluate.
    let walk = Walk::evaluating(catalogue, context, &request.dims, &fetched);
    let mut rows = Vec::new();
    for indicator in &indicators {
        for slot in &slots {
            for group in walk.groups(indicator, slot) {
                rows.push(
                    walk.row(indicator, slot, &group)
                        .expect("evaluation yields a row"),
                );
            }
        }
    }
    // An overflow anywhere is an error, never a value read as n/a.
    if let Some(overflow) = walk.overflow.into_inner() {
        return Err(overflow);
    }
    Ok(rows)
}

/// Whether `indicators` exist and can all be cut by `dims`, before anything
/// is computed (a pipeline checks every step this way before it starts).
pub fn check_request(catalogue: &Catalogue, indicators: &[String], dims: &[String]) -> Result<()> {
    let indicators: Vec<&Indicator> = indicators
        .iter()
        .map(|id| catalogue.indicator(id))
        .collect::<Result<_>>()?;
    check_dimensions(catalogue, &indicators, dims)
}

fn check_dimensions(
    catalogue: &Catalogue,
    indicators: &[&Indicator],
    dims: &[String],
) -> Result<()> {
    for (i, dim) in dims.iter().enumerate() {
        if dims[..i].contains(dim) {
            return Err(Error::config(format!(
                "dimension `{dim}` is asked for twice"
            )));
        }
        for indicator in indicators {
            let allowed = catalogue.dimensions(indicator);
            if !allowed.contains(dim) {
                let known: BTreeSet<&str> = catalogue
                    .queries
                    .values()
                    .flat_map(|q| q.dimensions.iter().map(String::as_str))
                    .collect();
                let (message, hint) = if known.contains(dim.as_str()) {
                    (
                        format!("indicator `{}` cannot be cut by `{dim}`", indicator.id),
                        format!(
                            "`{}` can be cut by: {}",
                            indicator.id,
                            list_or_none(allowed)
                        ),
                    )
                } else {
                    (
                        format!("unknown dimension `{dim}`"),
                        crate::error::unknown_hint(
                            dim,
                            &known.iter().copied().collect::<Vec<_>>(),
                            "dimensions",
                        ),
                    )
                };
                return Err(Error::config_hint(message, hint));
            }
        }
    }
    Ok(())
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "nothing (company total only)".into()
    } else {
        items.join(", ")
    }
}

/// One walk over the values of a row, either collecting what it needs
/// (planning) or reading fetched components (evaluating).
struct Walk<'a> {
    catalogue: &'a Catalogue,
    context: &'a Context,
    dims: &'a [String],
    fetched: Option<&'a BTreeMap<String, Components>>,
    needs: RefCell<BTreeMap<String, BTreeSet<Window>>>,
    /// The components read, per query.
    wanted: RefCell<BTreeMap<String, BTreeSet<String>>>,
    /// The first result too large for exact decimals.
    overflow: RefCell<Option<Error>>,
}

impl<'a> Walk<'a> {
    fn planning(catalogue: &'a Catalogue, context: &'a Context, dims: &'a [String]) -> Self {
        Walk {
            catalogue,
            context,
            dims,
            fetched: None,
            needs: RefCell::default(),
            wanted: RefCell::default(),
            overflow: RefCell::default(),
        }
    }

    fn evaluating(
        catalogue: &'a Catalogue,
        context: &'a Context,
        dims: &'a [String],
        fetched: &'a BTreeMap<String, Components>,
    ) -> Self {
        Walk {
            catalogue,
            context,
            dims,
            fetched: Some(fetched),
            needs: RefCell::default(),
            wanted: RefCell::default(),
            overflow: RefCell::default(),
        }
    }

    /// The components of `query` for `window` and `group`: recorded when
    /// planning (and `None`), read when evaluating.
    fn components(
        &self,
        query: &str,
        names: &[&str],
        window: Window,
        group: &[Option<String>],
    ) -> Option<&'a [Option<Decimal>]> {
        match self.fetched {
            None => {
                let mut wanted = self.wanted.borrow_mut();
                let wanted = wanted.entry(query.to_string()).or_default();
                wanted.extend(
                    names
                        .iter()
                        .filter(|name| **name != "days")
                        .map(|name| name.to_string()),
                );
                self.needs
                    .borrow_mut()
                    .entry(query.to_string())
                    .or_default()
                    .insert(window);
                None
            }
            Some(fetched) => fetched
                .get(query)?
                .rows
                .get(&window)?
                .get(group)
                .map(Vec::as_slice),
        }
    }

    /// An indicator's value over a slot, with its sample size where it has one.
    fn value(
        &self,
        indicator: &Indicator,
        slot: &Slot,
        group: &[Option<String>],
    ) -> (Option<Decimal>, Option<Decimal>) {
        match &indicator.kind {
            Kind::Formula { query, formula } => {
                let def = &self.catalogue.queries[query];
                let mut names = formula.names();
                names.extend(indicator.sample.as_deref());
                let Some(values) = self.components(query, &names, slot.window, group) else {
                    return (None, None);
                };
                let lookup = |name: &str| -> Option<Decimal> {
                    if name == "days" {
                        return Some(Decimal::from(slot.window.days()));
                    }
                    let at = def.components.iter().position(|c| c == name)?;
                    values.get(at).copied().flatten()
                };
                let sample = indicator.sample.as_deref().and_then(lookup);
                let value = formula.eval(&lookup);
                (self.exact(indicator, slot, value), sample)
            }
            Kind::Growth {
                base,
                compare,
                years,
            } => {
                let base = self
                    .catalogue
                    .indicator(base)
                    .expect("checked when loading");
                let (current, earlier) = match compare {
                    Compare::Previous => (Some(*slot), Some(slot.previous())),
                    Compare::LastYear => (Some(*slot), slot.years_back(1)),
                    Compare::YearToDate => {
                        let to_date = slot.year_to_date(self.context.calendar.fiscal_first_month);
                        (Some(to_date), to_date.years_back(1))
                    }
                    Compare::TrailingYear => (
                        Some(slot.trailing_year()),
                        slot.years_back(1).map(|slot| slot.trailing_year()),
                    ),
                    Compare::Cagr => (Some(*slot), slot.years_back(*years)),
                };
                let now = current.and_then(|slot| self.value(base, &slot, group).0);
                let then = earlier.and_then(|slot| self.value(base, &slot, group).0);
                let growth = match compare {
                    Compare::Cagr => cagr(now, then, *years),
                    _ => relative_change(now, then),
                };
                (self.exact(indicator, slot, growth), None)
            }
        }
    }

    /// The dimension-value combinations that have data for this indicator
    /// in the slot, the previous period or last year.
    fn groups(&self, indicator: &Indicator, slot: &Slot) -> Vec<Group> {
        if self.dims.is_empty() {
            return vec![Vec::new()];
        }
        let query = &self.catalogue.base_query(indicator).name;
        let mut windows = vec![slot.window, slot.previous().window];
        windows.extend(slot.years_back(1).map(|slot| slot.window));
        let mut groups = BTreeSet::new();
        if let Some(components) = self.fetched.and_then(|fetched| fetched.get(query)) {
            for window in windows {
                if let Some(rows) = components.rows.get(&window) {
                    groups.extend(rows.keys().cloned());
                }
            }
        }
        groups.into_iter().collect()
    }

    /// A value, or `None` with the overflow kept to be the answer's error.
    fn exact(
        &self,
        indicator: &Indicator,
        slot: &Slot,
        value: std::result::Result<Option<Decimal>, Overflow>,
    ) -> Option<Decimal> {
        match value {
            Ok(value) => value,
            Err(Overflow(what)) => {
                let mut overflow = self.overflow.borrow_mut();
                if overflow.is_none() {
                    *overflow = Some(Error::config_hint(
                        format!(
                            "`{}` for {}: {what} is beyond the 28 digits of exact decimals",
                            indicator.id, slot.period
                        ),
                        "check the loaded amounts for a value far too large (a unit mistake, a wrong column)",
                    ));
                }
                None
            }
        }
    }

    fn row(&self, indicator: &Indicator, slot: &Slot, group: &[Option<String>]) -> Option<KpiRow> {
        let (value, sample_size) = self.value(indicator, slot, group);
        let previous = self.value(indicator, &slot.previous(), group).0;
        let last_year = slot
            .years_back(1)
            .and_then(|ly| self.value(indicator, &ly, group).0);
        let (target, warning) = self.target(indicator, slot, group, last_year);
        let (target, warning) = (
            self.exact(indicator, slot, target),
            self.exact(indicator, slot, warning),
        );
        self.fetched?;
        let kind = indicator.unit.change_kind();
        Some(KpiRow {
            indicator: indicator.id.clone(),
            label: indicator.label.clone(),
            unit: indicator.unit,
            direction: indicator.direction,
            change_kind: kind,
            period: slot.period,
            partial: slot.is_partial(),
            dims: self
                .dims
                .iter()
                .cloned()
                .zip(group.iter().cloned())
                .collect(),
            value,
            previous,
            change_vs_previous: self.exact(indicator, slot, change(kind, value, previous)),
            last_year,
            change_vs_last_year: self.exact(indicator, slot, change(kind, value, last_year)),
            target,
            status: status(indicator.direction, value, target, warning),
            sample_size,
            low_sample: sample_size.is_some_and(|n| n < Decimal::from(self.context.min_sample)),
        })
    }

    fn target(
        &self,
        indicator: &Indicator,
        slot: &Slot,
        group: &[Option<String>],
        last_year: Option<Decimal>,
    ) -> (Exact, Exact) {
        if let Some((target, warning)) = self.context.targets.get(&indicator.id) {
            return (Ok(Some(*target)), Ok(Some(*warning)));
        }
        match &indicator.target {
            TargetRule::Fixed { target, warning } => (Ok(Some(*target)), Ok(Some(*warning))),
            TargetRule::Query {
                query,
                warning_ratio,
            } => {
                let def = &self.catalogue.queries[query];
                if !self.dims.iter().all(|dim| def.dimensions.contains(dim)) || self.dims.len() > 1
                {
                    return (Ok(None), Ok(None));
                }
                // A target query's first component is the target.
                let name = def.components[0].as_str();
                let target = self
                    .components(query, &[name], slot.window, group)
                    .and_then(|values| values[0]);
                let warning = target
                    .map(|target| match indicator.direction {
                        Direction::Higher => multiply(target, *warning_ratio).map(Some),
                        Direction::Lower => divide(target, *warning_ratio),
                    })
                    .transpose()
                    .map(Option::flatten);
                (Ok(target), warning)
            }
            TargetRule::VsLastYear { target, warning } => {
                let Some(base) = last_year.filter(|base| *base > Decimal::ZERO) else {
                    return (Ok(None), Ok(None));
                };
                (
                    multiply(base, Decimal::ONE + target).map(Some),
                    multiply(base, Decimal::ONE + warning).map(Some),
                )
            }
            TargetRule::None => (Ok(None), Ok(None)),
        }
    }
}

/// A value (or n/a), or an overflow of exact decimals.
type Exact = std::result::Result<Option<Decimal>, Overflow>;

fn multiply(a: Decimal, b: Decimal) -> std::result::Result<Decimal, Overflow> {
    a.checked_mul(b)
        .ok_or_else(|| Overflow(format!("{a} * {b}")))
}

fn divide(a: Decimal, b: Decimal) -> Exact {
    if b.is_zero() {
        return Ok(None);
    }
    a.checked_div(b)
        .map(Some)
        .ok_or_else(|| Overflow(format!("{a} / {b}")))
}

fn subtract(a: Decimal, b: Decimal) -> std::result::Result<Decimal, Overflow> {
    a.checked_sub(b)
        .ok_or_else(|| Overflow(format!("{a} - {b}")))
}

/// (now − then) ÷ then; n/a for a missing, zero or negative base.
fn relative_change(now: Option<Decimal>, then: Option<Decimal>) -> Exact {
    let (Some(now), Some(then)) = (now, then) else {
        return Ok(None);
    };
    if then <= Decimal::ZERO {
        return Ok(None);
    }
    divide(subtract(now, then)?, then)
}

fn change(kind: ChangeKind, value: Option<Decimal>, base: Option<Decimal>) -> Exact {
    match kind {
        ChangeKind::Relative => relative_change(value, base),
        ChangeKind::Difference => match (value, base) {
            (Some(value), Some(base)) => subtract(value, base).map(Some),
            _ => Ok(None),
        },
    }
}

/// (now ÷ then)^(1/years) − 1, for positive values only. The root is taken in
/// floating point: the result is a rate shown to a tenth of a percent.
fn cagr(now: Option<Decimal>, then: Option<Decimal>, years: u32) -> Exact {
    let (Some(now), Some(then)) = (now, then) else {
        return Ok(None);
    };
    if now <= Decimal::ZERO || then <= Decimal::ZERO {
        return Ok(None);
    }
    let Some(ratio) = divide(now, then)?.and_then(|ratio| ratio.to_f64()) else {
        return Ok(None);
    };
    Ok(Decimal::from_f64(ratio.powf(1.0 / f64::from(years)) - 1.0))
}

fn status(
    direction: Direction,
    value: Option<Decimal>,
    target: Option<Decimal>,
    warning: Option<Decimal>,
) -> Option<Status> {
    let (value, target) = (value?, target?);
    let warning = warning.unwrap_or(target);
    let (meets, near) = match direction {
        Direction::Higher => (value >= target, value >= warning),
        Direction::Lower => (value <= target, value <= warning),
    };
    Some(if meets {
        Status::Good
    } else if near {
        Status::Warning
    } else {
        Status::Bad
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn growth_from_a_zero_or_missing_base_is_not_a_number() {
        assert_eq!(relative_change(Some(d("10")), Some(d("0"))), Ok(None));
        assert_eq!(relative_change(Some(d("10")), None), Ok(None));
        assert_eq!(
            relative_change(Some(d("110")), Some(d("100"))),
            Ok(Some(d("0.1")))
        );
    }

    #[test]
    fn a_change_beyond_exact_decimals_is_an_overflow_not_n_a() {
        let (max, min) = (Decimal::MAX, Decimal::MIN);
        assert!(change(ChangeKind::Difference, Some(max), Some(min)).is_err());
        // (MAX − 1) ÷ 1 fits; (MAX − 0.5) ÷ 0.5 does not.
        assert!(relative_change(Some(max), Some(d("1"))).is_ok());
        assert!(relative_change(Some(max), Some(d("0.5"))).is_err());
    }

    #[test]
    fn cagr_of_doubling_in_three_years() {
        // 2^(1/3) − 1 = 0.259921…
        let rate = cagr(Some(d("200")), Some(d("100")), 3).unwrap().unwrap();
        assert!((rate - d("0.259921")).abs() < d("0.000001"), "{rate}");
    }

    #[test]
    fn status_respects_direction() {
        let higher = |v: &str| {
            status(
                Direction::Higher,
                Some(d(v)),
                Some(d("0.8")),
                Some(d("0.7")),
            )
        };
        assert_eq!(
            (higher("0.8"), higher("0.75"), higher("0.6")),
            (Some(Status::Good), Some(Status::Warning), Some(Status::Bad))
        );
        let lower = |v: &str| status(Direction::Lower, Some(d(v)), Some(d("75")), Some(d("90")));
        assert_eq!(
            (lower("60"), lower("80"), lower("95")),
            (Some(Status::Good), Some(Status::Warning), Some(Status::Bad))
        );
        assert_eq!(status(Direction::Higher, None, Some(d("1")), None), None);
    }
}
