//! The report's sections for the department's other duties — customers and
//! service, supply chain, product — and the sales forecast. Each duty shows
//! its indicators for the period (value, changes, target, status), a trend
//! of its key rates over the report's history, and a breakdown by the
//! dimension that explains them (carrier, supplier, category).

use rust_decimal::Decimal;
use serde::Serialize;

use super::charts::{self, Series};
use super::language::Language;
use super::rows::Rows;
use super::sections::{self, status_word, to_f64};
use super::{ReportKind, Section, TableRow};
use crate::calendar::Period;
use crate::error::Result;
use crate::forecast::{Method, NoForecast, SeriesForecast};
use crate::indicators::{Catalogue, KpiRow, Unit};
use crate::locale;

/// What a duty's section shows.
struct Duty {
    /// Message key of the title.
    title: &'static str,
    indicators: &'static [&'static str],
    /// Rates drawn over the report's history, on one scale.
    trend: &'static [&'static str],
    by: &'static str,
    columns: &'static [&'static str],
    /// The breakdown's charted column.
    chart: &'static str,
    /// The tables it reads beyond sales (`loaded`), and those its
    /// breakdown reads.
    tables: &'static [&'static str],
    by_tables: &'static [&'static str],
}

const DUTIES: [Duty; 3] = [
    Duty {
        title: "duty_service",
        indicators: &[
            "active_customers",
            "new_customers",
            "repeat_purchase_rate",
            "complaint_rate",
            "first_response_hours",
            "resolution_hours",
            "sla_compliance",
            "on_time_delivery",
            "freight_cost_per_order",
        ],
        trend: &["complaint_rate"],
        by: "carrier",
        columns: &["on_time_delivery", "freight_cost_per_order"],
        chart: "on_time_delivery",
        tables: super::loaded::SERVICE,
        by_tables: &["deliveries"],
    },
    Duty {
        title: "duty_supply",
        indicators: &[
            "sell_through",
            "stock_out_rate",
            "supplier_on_time",
            "fill_rate",
            "supplier_defect_rate",
            "purchase_price_variance",
        ],
        trend: &["stock_out_rate", "supplier_defect_rate"],
        by: "supplier",
        columns: &[
            "supplier_defect_rate",
            "supplier_on_time",
            "fill_rate",
            "purchase_price_variance",
        ],
        chart: "supplier_defect_rate",
        tables: super::loaded::SUPPLY,
        by_tables: &["purchase_orders", "quality_inspections"],
    },
    Duty {
        title: "duty_product",
        indicators: &[
            "new_product_share",
            "inspection_pass_rate",
            "defects_per_million",
            "projects_on_schedule",
        ],
        trend: &["new_product_share"],
        by: "category",
        columns: &[
            "new_product_share",
            "inspection_pass_rate",
            "defects_per_million",
            "projects_on_schedule",
        ],
        chart: "new_product_share",
        tables: super::loaded::PRODUCT,
        by_tables: &["products", "quality_inspections", "product_projects"],
    },
];

/// Every indicator the duty sections show, for the definitions appendix.
pub fn indicators() -> impl Iterator<Item = &'static str> {
    DUTIES
        .iter()
        .flat_map(|duty| duty.indicators.iter().copied())
}

#[derive(Debug, Serialize)]
pub struct DutySection {
    pub title: String,
    /// The duty's indicators in the period; its chart is the trend.
    pub indicators: Section,
    pub trend_title: String,
    pub breakdown_title: String,
    /// The breakdown's first column: the dimension's name.
    pub dimension: String,
    pub breakdown: Option<Section>,
}

/// The duty sections of a report for `period`, with the rows they read (for
/// the highlights).
pub fn build(
    rows: &Rows,
    lang: &Language,
    catalogue: &Catalogue,
    kind: ReportKind,
    period: Period,
    not_by: &str,
    loaded: &super::loaded::Loaded,
) -> Result<(Vec<DutySection>, Vec<KpiRow>)> {
    let mut sections = Vec::new();
    let mut current = Vec::new();
    for duty in &DUTIES {
        let history = rows.run(duty.indicators, period.series(kind.history()), &[])?;
        let has_values = history.iter().any(|row| row.value.is_some());
        if !loaded.shows(duty.tables, has_values) {
            // Never loaded: named in the appendix, not a page of n/a.
            continue;
        }
        // An indicator with no value in the whole history is left out of
        // the table (the appendix says which tables were never loaded).
        let now: Vec<&KpiRow> = history
            .iter()
            .filter(|row| row.period == period)
            .filter(|row| {
                history
                    .iter()
                    .any(|h| h.indicator == row.indicator && h.value.is_some())
            })
            .collect();
        let mut indicators = indicator_table(lang, catalogue, &now, kind);
        indicators.chart = trend_chart(lang, catalogue, &history, duty.trend);
        if duty.indicators.iter().any(|id| !rows.supported(id)) {
            indicators.note = not_by.to_string();
        }
        let by_rows = if rows.supported(duty.chart) {
            rows.run(duty.columns, vec![period], &[duty.by])?
        } else {
            Vec::new()
        };
        let mut breakdown =
            sections::breakdown(lang, catalogue, &by_rows, duty.chart, duty.columns);
        if !rows.supported(duty.chart) {
            breakdown.note = not_by.to_string();
        }
        let breakdown_values = by_rows.iter().any(|row| row.value.is_some());
        let breakdown = loaded
            .shows(duty.by_tables, breakdown_values)
            .then_some(breakdown);
        let dimension = lang.messages.text(&format!("dim_{}", duty.by));
        sections.push(DutySection {
            title: lang.messages.text(duty.title),
            indicators,
            trend_title: lang.messages.fill(
                "duty_trend",
                &[(
                    "periods",
                    &lang.messages.fill(
                        &format!("last_{}", kind.name()),
                        &[("n", &kind.history().to_string())],
                    ),
                )],
            ),
            breakdown_title: lang.messages.fill("duty_by", &[("dimension", &dimension)]),
            dimension,
            breakdown,
        });
        current.extend(now.into_iter().cloned());
    }
    Ok((sections, current))
}

/// One row per indicator: value, change against the previous period (not in
/// a yearly report, where that is last year), against last year, target.
fn indicator_table(
    lang: &Language,
    catalogue: &Catalogue,
    rows: &[&KpiRow],
    kind: ReportKind,
) -> Section {
    let locale = lang.locale;
    let with_previous = kind != ReportKind::Yearly;
    let mut columns = vec![lang.messages.text("value")];
    if with_previous {
        columns.push(lang.messages.text("vs_previous"));
    }
    columns.push(lang.messages.text("vs_last_year"));
    columns.push(lang.messages.text("target"));
    let table = rows
        .iter()
        .map(|row| {
            let change = |c| locale::change(locale, row.unit, row.change_kind, c);
            let mut cells = vec![locale::value(locale, row.unit, row.value)];
            if with_previous {
                cells.push(change(row.change_vs_previous));
            }
            cells.push(change(row.change_vs_last_year));
            cells.push(locale::value(locale, row.unit, row.target));
            TableRow {
                label: lang.label(catalogue, &row.indicator),
                cells,
                status: status_word(row.status),
            }
        })
        .collect();
    Section {
        chart: String::new(),
        columns,
        rows: table,
        note: String::new(),
    }
}

/// The duty's key rates over the report's history, one line each.
fn trend_chart(lang: &Language, catalogue: &Catalogue, rows: &[KpiRow], ids: &[&str]) -> String {
    let colors = [charts::THIS_YEAR, charts::ACCENT, charts::LAST_YEAR];
    let mut periods: Vec<Period> = rows.iter().map(|row| row.period).collect();
    periods.sort();
    periods.dedup();
    let names: Vec<String> = ids.iter().map(|id| lang.label(catalogue, id)).collect();
    let series: Vec<Series> = ids
        .iter()
        .zip(&names)
        .zip(colors)
        .map(|((id, name), color)| Series {
            name,
            color,
            values: periods
                .iter()
                .map(|period| {
                    rows.iter()
                        .find(|row| row.indicator == *id && row.period == *period)
                        .and_then(|row| to_f64(row.value))
                })
                .collect(),
        })
        .collect();
    if series.iter().all(|s| s.values.iter().all(Option::is_none)) {
        return String::new();
    }
    let labels: Vec<String> = periods.iter().map(|p| lang.short(*p)).collect();
    let locale = lang.locale;
    charts::line_chart(&labels, &series, &|y| {
        locale::value(locale, Unit::Ratio, Decimal::from_f64_retain(y))
    })
}

/// The forecast section: net sales of the months after the report's, with
/// the last two years of actuals, for the company and by category.
#[derive(Debug, Serialize)]
pub struct ForecastSection {
    pub title: String,
    /// Why there is no forecast; empty when there is one.
    pub missing: String,
    pub chart: String,
    /// Method and back-tested error.
    pub method: String,
    /// Month, forecast, 95 % low and high.
    pub months: Section,
    /// Per category: the months' forecasts and the back-test's error.
    pub by_category: Section,
}

/// Months forecast in the report.
pub const FORECAST_MONTHS: usize = 3;

pub fn forecast_section(
    lang: &Language,
    company: &SeriesForecast,
    history: &[KpiRow],
    by_category: &[SeriesForecast],
) -> ForecastSection {
    let locale = lang.locale;
    let money = |v: f64| locale::value(locale, Unit::Money, Decimal::from_f64_retain(v));
    let title = lang.messages.text("forecast_title");
    let empty = || Section {
        chart: String::new(),
        columns: Vec::new(),
        rows: Vec::new(),
        note: String::new(),
    };
    let forecast = match &company.forecast {
        Ok(forecast) => forecast,
        Err(why) => {
            return ForecastSection {
                title,
                missing: no_forecast(lang, why),
                chart: String::new(),
                method: String::new(),
                months: empty(),
                by_category: empty(),
            }
        }
    };
    // The chart: two years of actuals, then the forecast and its interval.
    let actuals: Vec<&KpiRow> = history.iter().rev().take(24).rev().collect();
    let mut labels: Vec<String> = actuals.iter().map(|row| lang.short(row.period)).collect();
    labels.extend(company.months.iter().map(|p| lang.short(*p)));
    let points: Vec<(f64, f64, f64)> = forecast
        .points
        .iter()
        .map(|p| (p.value, p.low, p.high))
        .collect();
    let chart = charts::forecast_chart(
        &labels,
        &actuals
            .iter()
            .map(|row| to_f64(row.value))
            .collect::<Vec<_>>(),
        &points,
        &lang.messages.text("forecast_actual"),
        &lang.messages.text("forecast_forecast"),
        &lang.messages.text("forecast_interval"),
        &|y| locale::compact(locale, Unit::Money, Decimal::from_f64_retain(y)),
    );
    let months = Section {
        chart: String::new(),
        columns: ["forecast_forecast", "forecast_low", "forecast_high"]
            .map(|key| lang.messages.text(key))
            .to_vec(),
        rows: company
            .months
            .iter()
            .zip(&forecast.points)
            .map(|(period, point)| TableRow {
                label: lang.short(*period),
                cells: vec![money(point.value), money(point.low), money(point.high)],
                status: "none",
            })
            .collect(),
        note: String::new(),
    };
    let mut columns: Vec<String> = company.months.iter().map(|p| lang.short(*p)).collect();
    columns.push(lang.messages.text("forecast_mape"));
    let by_category = Section {
        chart: String::new(),
        columns,
        rows: by_category
            .iter()
            .map(|series| {
                let label = series
                    .group
                    .clone()
                    .unwrap_or_else(|| lang.messages.text("empty_value"));
                let cells = match &series.forecast {
                    Ok(f) => f
                        .points
                        .iter()
                        .map(|p| money(p.value))
                        .chain([mape(lang, f.mape)])
                        .collect(),
                    Err(why) => {
                        let mut cells =
                            vec![locale.not_available().to_string(); series.months.len()];
                        cells.push(no_forecast_short(lang, why));
                        cells
                    }
                };
                TableRow {
                    label,
                    cells,
                    status: "none",
                }
            })
            .collect(),
        note: String::new(),
    };
    ForecastSection {
        title,
        missing: String::new(),
        chart,
        method: lang.messages.fill(
            "forecast_method",
            &[
                ("method", &method_name(lang, forecast.method)),
                ("mape", &mape(lang, forecast.mape)),
            ],
        ),
        months,
        by_category,
    }
}

fn method_name(lang: &Language, method: Method) -> String {
    lang.messages.text(match method {
        Method::SeasonalNaiveDrift => "forecast_seasonal_naive",
        Method::HoltWinters => "forecast_holt_winters",
    })
}

fn mape(lang: &Language, mape: Option<f64>) -> String {
    locale::value(
        lang.locale,
        Unit::Ratio,
        mape.and_then(Decimal::from_f64_retain),
    )
}

fn no_forecast(lang: &Language, why: &NoForecast) -> String {
    match why {
        NoForecast::TooShort { months } => lang.messages.fill(
            "forecast_too_short",
            &[
                ("months", &months.to_string()),
                ("needed", &crate::forecast::MIN_HISTORY.to_string()),
            ],
        ),
        NoForecast::Gap { month } => lang.messages.fill("forecast_gap", &[("month", month)]),
    }
}

fn no_forecast_short(lang: &Language, why: &NoForecast) -> String {
    match why {
        NoForecast::TooShort { .. } => lang.messages.text("forecast_too_short_cell"),
        NoForecast::Gap { .. } => lang.messages.text("forecast_gap_cell"),
    }
}
