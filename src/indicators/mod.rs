//! The indicator library: what each indicator is (declared once, in
//! `queries/indicators.toml`) and how its value, comparisons and status are
//! worked out from the components an [`Engine`] returns.
//!
//! This module does no I/O and runs no SQL itself: the engine (DuckDB today,
//! Polars next) computes components per window and dimension values; the
//! arithmetic, calendar logic and status rules live here, once, for every
//! engine.

pub mod compute;
pub mod formula;
mod project;
mod template;

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::assets;
use crate::calendar::Window;
use crate::config::Config;
use crate::error::{Error, Result};
pub use compute::{compute, Dimensions, KpiRequest, KpiRow, Status};
use formula::Formula;

/// The catalogue shipped with opskpi.
pub const CATALOGUE_TOML: &str = include_str!("../../queries/indicators.toml");

/// What an indicator's number means, which decides how it is formatted and
/// how a change is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Money,
    Count,
    /// A fraction: 0.123 is 12.3 %.
    Ratio,
    /// A ratio read as "times": 0.61×, 1.27×.
    Multiple,
    /// A mean on a rating scale.
    Score,
    /// Net promoter score, −100…100.
    Nps,
    Turns,
    Days,
    /// A duration in hours.
    Hours,
}

/// How a value moves against a comparison value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// (value − base) ÷ base; n/a when the base is zero, missing or negative.
    Relative,
    /// value − base: percentage points for ratios, points for scores and NPS.
    Difference,
}

impl Unit {
    /// The unit's name in the catalogue and in `opskpi kpi` output.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Money => "money",
            Unit::Count => "count",
            Unit::Ratio => "ratio",
            Unit::Multiple => "multiple",
            Unit::Score => "score",
            Unit::Nps => "nps",
            Unit::Turns => "turns",
            Unit::Days => "days",
            Unit::Hours => "hours",
        }
    }

    pub fn change_kind(self) -> ChangeKind {
        match self {
            Unit::Ratio | Unit::Multiple | Unit::Score | Unit::Nps => ChangeKind::Difference,
            Unit::Money | Unit::Count | Unit::Turns | Unit::Days | Unit::Hours => {
                ChangeKind::Relative
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Higher => "higher",
            Direction::Lower => "lower",
        }
    }
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Relative => "relative",
            ChangeKind::Difference => "difference",
        }
    }
}

/// Which window a growth indicator compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    Previous,
    LastYear,
    YearToDate,
    /// The twelve months up to the period's end against the twelve before.
    TrailingYear,
    Cagr,
}

/// How an indicator's value is obtained.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A formula over the components of one query.
    Formula { query: String, formula: Formula },
    /// The growth of another indicator between a window and its comparison.
    Growth {
        base: String,
        compare: Compare,
        years: u32,
    },
}

/// Where an indicator's target comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetRule {
    Fixed {
        target: Decimal,
        warning: Decimal,
    },
    /// From a component query (sales targets); warning at `warning_ratio` of it.
    Query {
        query: String,
        warning_ratio: Decimal,
    },
    /// Last year's value moved by these fractions.
    VsLastYear {
        target: Decimal,
        warning: Decimal,
    },
    None,
}

#[derive(Debug, Clone)]
pub struct Indicator {
    pub id: String,
    pub label: String,
    pub unit: Unit,
    pub direction: Direction,
    pub kind: Kind,
    pub definition: String,
    pub target: TargetRule,
    /// The component that counts the answers behind the value, for the
    /// low-sample flag.
    pub sample: Option<String>,
    pub headline: bool,
}

/// A component query: its dimensions and the components it returns.
#[derive(Debug, Clone, Deserialize)]
pub struct QueryDef {
    #[serde(skip)]
    pub name: String,
    pub description: String,
    pub dimensions: Vec<String>,
    pub components: Vec<String>,
    /// A project's own query: the file it came from (as shown in errors)
    /// and its SQL template; `None` for the built-in `queries/components/`.
    #[serde(skip)]
    pub project_sql: Option<(String, String)>,
}

impl QueryDef {
    /// Refuses a dimension or component that is not the query's own: both
    /// reach SQL or a frame by name.
    pub fn check_request(&self, dims: &[String], wanted: &[String]) -> Result<()> {
        for dim in dims {
            if !self.dimensions.contains(dim) {
                return Err(Error::Internal(format!(
                    "query `{}` has no dimension `{dim}`",
                    self.name
                )));
            }
        }
        for component in wanted {
            if !self.components.contains(component) {
                return Err(Error::Internal(format!(
                    "query `{}` has no component `{component}`",
                    self.name
                )));
            }
        }
        Ok(())
    }

    /// The query's SQL for `dims` and the `wanted` components (validated
    /// against the query by the caller).
    pub fn render(
        &self,
        dims: &[String],
        wanted: &[String],
        offset_seconds: i32,
    ) -> Result<String> {
        match &self.project_sql {
            None => {
                let name = format!("components/{}", self.name);
                let text = assets::sql(&name)?;
                template::render(
                    &format!("queries/{name}.sql"),
                    text,
                    dims,
                    wanted,
                    offset_seconds,
                )
            }
            Some((shown, text)) => template::render(shown, text, dims, wanted, offset_seconds),
        }
    }
}

/// The values of one dimension combination (in request order; `None` where
/// the data left a dimension empty).
pub type Group = Vec<Option<String>>;

/// A query's components for one group, in catalogue order (`None`: no value).
pub type Values = Vec<Option<Decimal>>;

/// The engine's answer for one query: components per window and group.
#[derive(Debug, Default, Clone)]
pub struct Components {
    pub rows: BTreeMap<Window, BTreeMap<Group, Values>>,
}

/// Computes components. Implemented by the warehouse (DuckDB); a second
/// engine implements the same contract.
pub trait Engine {
    /// For each window and each combination of `dims` values that has data,
    /// the values of `query.components`, in that order. Only the components
    /// named in `wanted` need computing; the others may be `None`.
    fn components(
        &self,
        query: &QueryDef,
        dims: &[String],
        windows: &[Window],
        wanted: &[String],
    ) -> Result<Components>;
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIndicator {
    id: String,
    label: String,
    unit: Unit,
    direction: Direction,
    definition: String,
    query: Option<String>,
    formula: Option<String>,
    growth_of: Option<String>,
    compare: Option<Compare>,
    years: Option<u32>,
    target: Option<Decimal>,
    warning: Option<Decimal>,
    target_query: Option<String>,
    warning_ratio: Option<Decimal>,
    target_vs_last_year: Option<Decimal>,
    warning_vs_last_year: Option<Decimal>,
    sample: Option<String>,
    #[serde(default)]
    headline: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    queries: BTreeMap<String, QueryDef>,
    indicator: Vec<RawIndicator>,
}

/// Every indicator and component query, checked for consistency.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub indicators: Vec<Indicator>,
    pub queries: BTreeMap<String, QueryDef>,
}

impl Catalogue {
    /// The project's catalogue: the built-in indicators and its own
    /// (`[indicators] file`).
    pub fn of(config: &Config) -> Result<Catalogue> {
        match &config.indicators.file {
            Some(file) => Catalogue::with_project(&config.resolve(file)),
            None => Ok(Catalogue::builtin()),
        }
    }

    /// The catalogue shipped with opskpi.
    pub fn builtin() -> Catalogue {
        Catalogue::parse(CATALOGUE_TOML).expect("the built-in catalogue is valid (tested)")
    }

    pub fn parse(text: &str) -> Result<Catalogue> {
        let raw: RawCatalogue = toml::from_str(text)
            .map_err(|error| Error::config(format!("indicator catalogue: {error}")))?;
        let mut queries = raw.queries;
        for (name, query) in queries.iter_mut() {
            query.name = name.clone();
        }
        let ids: Vec<String> = raw.indicator.iter().map(|raw| raw.id.clone()).collect();
        let mut indicators = Vec::new();
        for raw in raw.indicator {
            indicators.push(resolve(raw, &queries, &ids)?);
        }
        Ok(Catalogue {
            indicators,
            queries,
        })
    }

    pub fn indicator(&self, id: &str) -> Result<&Indicator> {
        self.indicators
            .iter()
            .find(|indicator| indicator.id == id)
            .ok_or_else(|| {
                Error::config_hint(
                    format!("unknown indicator `{id}`"),
                    crate::error::unknown_hint(id, &self.ids(), "indicators"),
                )
            })
    }

    pub fn ids(&self) -> Vec<&str> {
        self.indicators
            .iter()
            .map(|indicator| indicator.id.as_str())
            .collect()
    }

    /// The query whose components an indicator's value is computed from.
    pub fn base_query(&self, indicator: &Indicator) -> &QueryDef {
        match &indicator.kind {
            Kind::Formula { query, .. } => &self.queries[query],
            Kind::Growth { base, .. } => {
                self.base_query(self.indicator(base).expect("checked when loading"))
            }
        }
    }

    /// The canonical tables computing the indicators `ids` reads: those their
    /// component queries name, through growth bases and targets taken from
    /// a query. A template's SQL depends on the dimensions and components
    /// asked for (by contact channel the service query joins no orders), so
    /// each query is rendered without a dimension, with each, with all, and
    /// for all its components and each alone, and the names of all count.
    pub fn tables_read(&self, ids: &[String]) -> Result<BTreeSet<&'static str>> {
        let mut queries: BTreeSet<&str> = BTreeSet::new();
        let mut todo: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        while let Some(id) = todo.pop() {
            if !seen.insert(id) {
                continue;
            }
            let indicator = self.indicator(id)?;
            match &indicator.kind {
                Kind::Formula { query, .. } => {
                    queries.insert(query);
                }
                Kind::Growth { base, .. } => todo.push(base),
            }
            if let TargetRule::Query { query, .. } = &indicator.target {
                queries.insert(query);
            }
        }
        let mut tables = BTreeSet::new();
        for name in queries {
            let query = self
                .queries
                .get(name)
                .ok_or_else(|| Error::Internal(format!("no query `{name}`")))?;
            let mut dims: Vec<Vec<String>> = vec![Vec::new(), query.dimensions.clone()];
            dims.extend(query.dimensions.iter().map(|d| vec![d.clone()]));
            let mut wanted: Vec<Vec<String>> = vec![query.components.clone()];
            wanted.extend(query.components.iter().map(|c| vec![c.clone()]));
            for dims in &dims {
                for wanted in &wanted {
                    let sql = query.render(dims, wanted, 0)?;
                    let words: BTreeSet<&str> = sql
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .collect();
                    tables.extend(
                        crate::model::TABLES
                            .iter()
                            .map(|table| table.name)
                            .filter(|name| words.contains(name)),
                    );
                }
            }
        }
        Ok(tables)
    }

    /// The dimensions an indicator can be cut by.
    pub fn dimensions(&self, indicator: &Indicator) -> &[String] {
        &self.base_query(indicator).dimensions
    }
}

pub(crate) fn resolve(
    raw: RawIndicator,
    queries: &BTreeMap<String, QueryDef>,
    ids: &[String],
) -> Result<Indicator> {
    let bad = |message: String| Error::config(format!("indicator `{}`: {message}", raw.id));
    let kind = match (&raw.query, &raw.formula, &raw.growth_of) {
        (Some(query), Some(formula), None) => {
            let def = queries
                .get(query)
                .ok_or_else(|| bad(format!("no query `{query}`")))?;
            let formula = Formula::parse(formula)?;
            for name in formula.names() {
                if name != "days" && !def.components.iter().any(|c| c == name) {
                    return Err(bad(format!(
                        "`{name}` is not a component of query `{query}`"
                    )));
                }
            }
            Kind::Formula {
                query: query.clone(),
                formula,
            }
        }
        (None, None, Some(base)) => {
            if !ids.contains(base) {
                return Err(bad(format!("grows from unknown indicator `{base}`")));
            }
            let compare = raw
                .compare
                .ok_or_else(|| bad("a growth needs `compare`".into()))?;
            let years = raw.years.unwrap_or(1);
            if compare == Compare::Cagr && years < 2 {
                return Err(bad("a CAGR needs `years` of 2 or more".into()));
            }
            Kind::Growth {
                base: base.clone(),
                compare,
                years,
            }
        }
        _ => {
            return Err(bad(
                "needs either `query` and `formula`, or `growth_of`".into()
            ))
        }
    };
    let target = match (raw.target, raw.target_query, raw.target_vs_last_year) {
        (Some(target), None, None) => TargetRule::Fixed {
            target,
            warning: raw.warning.unwrap_or(target),
        },
        (None, Some(query), None) => {
            if !queries.contains_key(&query) {
                return Err(bad(format!("no target query `{query}`")));
            }
            TargetRule::Query {
                query,
                warning_ratio: raw.warning_ratio.unwrap_or(Decimal::ONE),
            }
        }
        (None, None, Some(target)) => TargetRule::VsLastYear {
            target,
            warning: raw.warning_vs_last_year.unwrap_or(target),
        },
        (None, None, None) => TargetRule::None,
        _ => return Err(bad("give one kind of target".into())),
    };
    if let (Some(sample), Kind::Formula { query, .. }) = (&raw.sample, &kind) {
        if !queries[query].components.contains(sample) {
            return Err(bad(format!(
                "sample `{sample}` is not a component of `{query}`"
            )));
        }
    }
    Ok(Indicator {
        id: raw.id,
        label: raw.label,
        unit: raw.unit,
        direction: raw.direction,
        kind,
        definition: raw.definition,
        target,
        sample: raw.sample,
        headline: raw.headline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_loads_and_every_indicator_has_a_status_rule() {
        let catalogue = Catalogue::builtin();
        for indicator in &catalogue.indicators {
            assert_ne!(
                indicator.target,
                TargetRule::None,
                "{} has no target",
                indicator.id
            );
        }
        assert!(catalogue.indicator("market_share").is_ok());
    }

    #[test]
    fn unknown_indicator_lists_what_exists() {
        let error = Catalogue::builtin()
            .indicator("markt_share")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown indicator `markt_share`"));
        assert!(error.contains("market_share"), "{error}");
    }

    #[test]
    fn a_formula_naming_a_missing_component_is_refused() {
        let text = r#"
            [queries.q]
            description = "d"
            dimensions = []
            components = ["a"]
            [[indicator]]
            id = "x"
            label = "X"
            unit = "count"
            direction = "higher"
            definition = "d"
            query = "q"
            formula = "a / b"
        "#;
        let error = Catalogue::parse(text).unwrap_err().to_string();
        assert!(
            error.contains("`b` is not a component of query `q`"),
            "{error}"
        );
    }
}
