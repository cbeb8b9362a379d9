//! Reports: the monthly operations report as one self-contained HTML page.
//!
//! Building a report is two steps: `build` asks the indicator layer for every
//! number the report shows and turns them into a plain, pre-formatted
//! context; `templates` renders that context with the minijinja templates of
//! `report-templates/` (or a user's copies). The report never runs SQL and
//! never reads the clock: the as-of date comes in with the context.

pub mod charts;
pub mod messages;
pub mod templates;

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::calendar::{Grain, Period};
use crate::error::{Error, Result};
use crate::format::{self, Locale};
use crate::indicators::compute::Context;
use crate::indicators::{compute, Catalogue, Engine, KpiRequest, KpiRow, Status, Unit};
use charts::Series;
use messages::Messages;

/// What the report is about and for whom; everything the data does not say.
#[derive(Debug, Clone)]
pub struct ReportSpec {
    pub company: String,
    pub currency: String,
    pub locale: Locale,
    pub period: Period,
    /// The last day with sales data, shown as the data's freshness.
    pub data_through: Option<NaiveDate>,
    /// A folder of templates and message catalogues overriding the built-in ones.
    pub templates: Option<std::path::PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct ReportContext {
    pub lang: &'static str,
    pub company: String,
    pub currency: String,
    pub title: String,
    pub period: String,
    pub period_label: String,
    pub as_of: String,
    pub data_through: String,
    pub partial: bool,
    pub version: &'static str,
    pub tiles: Vec<Tile>,
    pub sales_trend_chart: String,
    pub this_year: i32,
    pub last_year: i32,
    pub market: Section,
    pub channels: Section,
    pub categories: Section,
    pub satisfaction: Section,
    pub inventory: Section,
    pub definitions: Vec<Definition>,
}

/// A headline number with its comparisons.
#[derive(Debug, Serialize)]
pub struct Tile {
    pub id: String,
    pub label: String,
    pub value: String,
    pub value_full: String,
    pub previous: String,
    pub change_vs_previous: String,
    pub last_year: String,
    pub change_vs_last_year: String,
    pub target: String,
    pub status: &'static str,
    /// Why there is no status: no data or no target (empty with a status).
    pub no_status: String,
    pub sparkline: String,
    pub note: String,
}

/// A breakdown: a chart and a table.
#[derive(Debug, Serialize)]
pub struct Section {
    pub chart: String,
    pub columns: Vec<String>,
    pub rows: Vec<TableRow>,
    pub note: String,
}

#[derive(Debug, Serialize)]
pub struct TableRow {
    pub label: String,
    pub cells: Vec<String>,
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Definition {
    pub id: String,
    pub label: String,
    pub definition: String,
    pub unit: String,
    pub direction: String,
    pub target: String,
}

/// The status as the templates see it: `none` without a target or value.
fn status_word(status: Option<Status>) -> &'static str {
    status.map(Status::name).unwrap_or("none")
}

fn to_f64(value: Option<Decimal>) -> Option<f64> {
    value.and_then(|v| v.to_f64())
}

/// The language of a report: how numbers are written and the words around them.
struct Language {
    locale: Locale,
    messages: Messages,
}

impl Language {
    /// The row's (first) dimension value as a table shows it.
    fn group(&self, row: &KpiRow) -> String {
        row.dims
            .first()
            .and_then(|(_, value)| value.clone())
            .unwrap_or_else(|| self.messages.text("empty_value"))
    }

    fn month(&self, key: &str, period: Period) -> String {
        let start = period.start();
        let index = start.month0() as usize;
        self.messages.fill(
            key,
            &[
                ("month_name", &self.messages.item("month_names", index)),
                ("month_abbr", &self.messages.item("month_abbrs", index)),
                ("month", &start.month().to_string()),
                ("year", &start.year().to_string()),
                ("yy", &format!("{:02}", start.year() % 100)),
            ],
        )
    }

    /// `October 2026` for a month; other periods as they are written.
    fn period(&self, period: Period) -> String {
        match period {
            Period::Month { .. } => self.month("month_label", period),
            _ => period.to_string(),
        }
    }
}

/// Gathers every number of the monthly report for `spec.period`.
pub fn build(
    engine: &dyn Engine,
    catalogue: &Catalogue,
    context: &Context,
    spec: &ReportSpec,
) -> Result<ReportContext> {
    let period = spec.period;
    if period.grain() != Grain::Month {
        return Err(Error::config_hint(
            format!("the monthly report needs a month, not `{period}`"),
            "give `--period YYYY-MM`",
        ));
    }
    let lang = Language {
        locale: spec.locale,
        messages: Messages::load(spec.locale, spec.templates.as_deref())?,
    };
    let locale = lang.locale;
    let run = |ids: &[&str], periods: Vec<Period>, dims: &[&str]| {
        compute(
            engine,
            catalogue,
            context,
            &KpiRequest {
                indicators: ids.iter().map(|id| id.to_string()).collect(),
                periods,
                dims: dims.iter().map(|dim| dim.to_string()).collect(),
            },
        )
    };

    // Headline tiles with a 13-month sparkline each.
    let headline: Vec<&str> = catalogue
        .indicators
        .iter()
        .filter(|i| i.headline)
        .map(|i| i.id.as_str())
        .collect();
    let history = run(&headline, period.series(13), &[])?;
    let tiles = headline
        .iter()
        .map(|id| {
            let series: Vec<&KpiRow> = history.iter().filter(|row| row.indicator == *id).collect();
            let current = *series.last().expect("a row per period");
            let color = match current.status {
                Some(Status::Good) => charts::THIS_YEAR,
                Some(Status::Bad) => plotters::style::RGBColor(198, 40, 40),
                _ => charts::ACCENT,
            };
            let values: Vec<Option<f64>> = series.iter().map(|row| to_f64(row.value)).collect();
            tile(&lang, current, charts::sparkline(&values, color))
        })
        .collect();

    // Net sales this year against last year, month by month.
    let year = period.start().year();
    let first = Period::Month {
        year: year - 1,
        month: 1,
    };
    let months_back = 12 + period.start().month() as usize;
    let monthly = run(&["net_sales"], period.series(months_back), &[])?;
    debug_assert_eq!(monthly.first().map(|row| row.period), Some(first));
    let by_month = |y: i32| -> Vec<Option<f64>> {
        (1..=12)
            .map(|m| {
                monthly
                    .iter()
                    .find(|row| row.period == Period::Month { year: y, month: m })
                    .and_then(|row| to_f64(row.value))
            })
            .collect()
    };
    let month_labels: Vec<String> = (1..=12)
        .map(|month| lang.month("month_axis", Period::Month { year, month }))
        .collect();
    let (this_label, last_label) = (year.to_string(), (year - 1).to_string());
    let sales_trend_chart = charts::line_chart(
        &month_labels,
        &[
            Series {
                name: &last_label,
                color: charts::LAST_YEAR,
                values: by_month(year - 1),
            },
            Series {
                name: &this_label,
                color: charts::THIS_YEAR,
                values: by_month(year),
            },
        ],
        &|y| format::compact(locale, Unit::Money, Decimal::from_f64_retain(y)),
    );

    let market = breakdown(
        &lang,
        &run(
            &["market_share", "relative_market_share"],
            vec![period],
            &["region"],
        )?,
        "market_share",
        &["market_share", "relative_market_share"],
    );
    let channels = mix_section(
        &lang,
        &run(&["net_sales", "gross_margin"], vec![period], &["channel"])?,
    );
    let categories = mix_section(
        &lang,
        &run(&["net_sales", "gross_margin"], vec![period], &["category"])?,
    );
    let satisfaction = satisfaction_section(
        &lang,
        &run(&["csat", "average_rating", "nps"], period.series(13), &[])?,
    );
    let inventory = breakdown(
        &lang,
        &run(
            &[
                "inventory_turnover_annualised",
                "days_inventory_outstanding",
                "inventory_to_sales",
                "inventory_turnover",
            ],
            vec![period],
            &["category"],
        )?,
        "inventory_turnover_annualised",
        &[
            "inventory_turnover",
            "inventory_turnover_annualised",
            "days_inventory_outstanding",
            "inventory_to_sales",
        ],
    );

    let mut used: Vec<&str> = headline.clone();
    for id in [
        "relative_market_share",
        "average_rating",
        "nps",
        "inventory_turnover_annualised",
        "days_inventory_outstanding",
        "inventory_to_sales",
    ] {
        if !used.contains(&id) {
            used.push(id);
        }
    }
    let definitions = used
        .iter()
        .map(|id| {
            let indicator = catalogue.indicator(id).expect("known");
            Definition {
                id: indicator.id.clone(),
                label: indicator.label.clone(),
                definition: indicator.definition.clone(),
                unit: indicator.unit.name().into(),
                direction: indicator.direction.name().into(),
                target: target_words(&lang, indicator),
            }
        })
        .collect();

    let partial = history
        .iter()
        .any(|row| row.period == period && row.partial);
    Ok(ReportContext {
        lang: locale.tag(),
        company: spec.company.clone(),
        currency: spec.currency.clone(),
        title: lang
            .messages
            .fill("title", &[("period", &lang.period(period))]),
        period: period.to_string(),
        period_label: lang.period(period),
        as_of: context.as_of.format("%Y-%m-%d").to_string(),
        data_through: spec
            .data_through
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| locale.not_available().into()),
        partial,
        version: env!("CARGO_PKG_VERSION"),
        tiles,
        sales_trend_chart,
        this_year: year,
        last_year: year - 1,
        market,
        channels,
        categories,
        satisfaction,
        inventory,
        definitions,
    })
}

fn tile(lang: &Language, row: &KpiRow, sparkline: String) -> Tile {
    let locale = lang.locale;
    let value = |v| format::value(locale, row.unit, v);
    let change = |c| format::change(locale, row.unit, row.change_kind, c);
    let mut notes = Vec::new();
    if row.partial {
        notes.push(lang.messages.text("partial_period"));
    }
    if row.low_sample {
        let answers = row.sample_size.map(|n| n.to_string()).unwrap_or_default();
        notes.push(lang.messages.fill("low_sample", &[("n", &answers)]));
    }
    Tile {
        id: row.indicator.clone(),
        label: row.label.clone(),
        value: format::compact(locale, row.unit, row.value),
        value_full: value(row.value),
        previous: value(row.previous),
        change_vs_previous: change(row.change_vs_previous),
        last_year: value(row.last_year),
        change_vs_last_year: change(row.change_vs_last_year),
        target: value(row.target),
        status: status_word(row.status),
        no_status: match (row.status, row.value) {
            (Some(_), _) => String::new(),
            (None, None) => lang.messages.text("no_data"),
            (None, Some(_)) => lang.messages.text("no_target"),
        },
        sparkline,
        note: notes.join(", "),
    }
}

/// A table of several indicators by one dimension, charted on `chart_id`,
/// whose change against last year gets a column of its own.
fn breakdown(lang: &Language, rows: &[KpiRow], chart_id: &str, columns: &[&str]) -> Section {
    let locale = lang.locale;
    let groups: std::collections::BTreeSet<String> =
        rows.iter().map(|row| lang.group(row)).collect();
    let find = |group: &str, id: &str| {
        rows.iter()
            .find(|row| row.indicator == id && lang.group(row) == group)
    };
    let unit_of = |id: &str| {
        rows.iter()
            .find(|row| row.indicator == id)
            .map(|row| row.unit)
    };
    let mut headers = Vec::new();
    for id in columns {
        if let Some(row) = rows.iter().find(|row| row.indicator == *id) {
            headers.push(row.label.clone());
            if *id == chart_id {
                headers.push(lang.messages.text("vs_last_year"));
            }
        }
    }
    let mut table = Vec::new();
    let mut bars = Vec::new();
    for group in &groups {
        let mut cells = Vec::new();
        for id in columns {
            let Some(unit) = unit_of(id) else { continue };
            let row = find(group, id);
            cells.push(format::value(locale, unit, row.and_then(|row| row.value)));
            if *id == chart_id {
                cells.push(match row {
                    Some(row) => {
                        format::change(locale, row.unit, row.change_kind, row.change_vs_last_year)
                    }
                    None => locale.not_available().into(),
                });
            }
        }
        let lead = find(group, chart_id);
        bars.push((group.clone(), lead.and_then(|row| to_f64(row.value))));
        table.push(TableRow {
            label: group.clone(),
            cells,
            status: status_word(lead.and_then(|row| row.status)),
        });
    }
    let chart_unit = unit_of(chart_id).unwrap_or(Unit::Ratio);
    let chart = charts::bar_chart(&bars, &|v| {
        format::value(locale, chart_unit, Decimal::from_f64_retain(v))
    });
    Section {
        chart,
        columns: headers,
        rows: table,
        note: String::new(),
    }
}

/// Net sales by one dimension with its mix, growth and margin.
fn mix_section(lang: &Language, rows: &[KpiRow]) -> Section {
    let locale = lang.locale;
    let sales: Vec<&KpiRow> = rows
        .iter()
        .filter(|row| row.indicator == "net_sales")
        .collect();
    let total: Decimal = sales.iter().filter_map(|row| row.value).sum();
    let mut table = Vec::new();
    let mut bars = Vec::new();
    for row in &sales {
        let group = lang.group(row);
        let margin = rows
            .iter()
            .find(|r| r.indicator == "gross_margin" && lang.group(r) == group);
        let mix = row.value.and_then(|v| v.checked_div(total));
        table.push(TableRow {
            label: group.clone(),
            cells: vec![
                format::value(locale, Unit::Money, row.value),
                format::value(locale, Unit::Ratio, mix),
                format::change(
                    locale,
                    Unit::Money,
                    row.change_kind,
                    row.change_vs_last_year,
                ),
                format::value(locale, Unit::Ratio, margin.and_then(|m| m.value)),
            ],
            status: status_word(row.status),
        });
        bars.push((group, to_f64(row.value)));
    }
    let chart = charts::bar_chart(&bars, &|v| {
        format::compact(locale, Unit::Money, Decimal::from_f64_retain(v))
    });
    Section {
        chart,
        columns: ["net_sales", "mix", "vs_last_year", "gross_margin"]
            .map(|key| lang.messages.text(key))
            .to_vec(),
        rows: table,
        note: String::new(),
    }
}

fn satisfaction_section(lang: &Language, rows: &[KpiRow]) -> Section {
    let locale = lang.locale;
    let csat: Vec<&KpiRow> = rows.iter().filter(|row| row.indicator == "csat").collect();
    let labels: Vec<String> = csat
        .iter()
        .map(|row| lang.month("month_short", row.period))
        .collect();
    let chart = charts::line_chart(
        &labels,
        &[Series {
            name: "CSAT",
            color: charts::THIS_YEAR,
            values: csat.iter().map(|row| to_f64(row.value)).collect(),
        }],
        &|y| format!("{:.0}%", y * 100.0),
    );
    let mut table = Vec::new();
    for row in csat.iter().rev() {
        let other = |id: &str| {
            rows.iter()
                .find(|r| r.indicator == id && r.period == row.period)
        };
        let nps = other("nps");
        let rating = other("average_rating");
        let answers = row
            .sample_size
            .map(|n| format::grouped(n, 0))
            .unwrap_or_else(|| "0".into());
        let flag = if row.low_sample {
            lang.messages.text("low_sample_flag")
        } else {
            String::new()
        };
        table.push(TableRow {
            label: row.period.to_string(),
            cells: vec![
                format::value(locale, Unit::Ratio, row.value),
                format::value(locale, Unit::Score, rating.and_then(|r| r.value)),
                format::value(locale, Unit::Nps, nps.and_then(|r| r.value)),
                format!("{answers}{flag}"),
            ],
            status: status_word(row.status),
        });
    }
    Section {
        chart,
        columns: ["csat", "average_rating", "nps", "answers"]
            .map(|key| lang.messages.text(key))
            .to_vec(),
        rows: table,
        note: String::new(),
    }
}

fn target_words(lang: &Language, indicator: &crate::indicators::Indicator) -> String {
    use crate::indicators::{ChangeKind, TargetRule};
    let locale = lang.locale;
    let value = |v: &Decimal| format::value(locale, indicator.unit, Some(*v));
    // A change of exactly nothing reads better as ±0%.
    let relative = |v: &Decimal| {
        let text = format::change(locale, Unit::Money, ChangeKind::Relative, Some(*v));
        if v.is_zero() {
            "±0%".to_string()
        } else {
            text
        }
    };
    match &indicator.target {
        TargetRule::Fixed { target, warning } => lang.messages.fill(
            "target_fixed",
            &[("target", &value(target)), ("warning", &value(warning))],
        ),
        TargetRule::Query { warning_ratio, .. } => lang.messages.fill(
            "target_query",
            &[(
                "ratio",
                &format::value(locale, Unit::Ratio, Some(*warning_ratio)),
            )],
        ),
        TargetRule::VsLastYear { target, warning } => lang.messages.fill(
            "target_vs_last_year",
            &[
                ("target", &relative(target)),
                ("warning", &relative(warning)),
            ],
        ),
        TargetRule::None => locale.not_available().into(),
    }
}
