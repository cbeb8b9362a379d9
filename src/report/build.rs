//! Building a report's context: every number it shows, asked of the
//! indicator layer through `rows`, formatted in the report's language.

use chrono::Datelike;
use rust_decimal::Decimal;

use super::charts::{self, Series};
use super::language::Language;
use super::messages::Messages;
use super::rows::Rows;
use super::sections::{self, to_f64};
use super::{
    duties, highlights, quality, Definition, EditionLabel, ReportContext, ReportKind, ReportSpec,
    Section, TableRow,
};
use crate::calendar::{Part, Period};
use crate::error::{Error, Result};
use crate::format;
use crate::indicators::compute::Context;
use crate::indicators::{Catalogue, Engine, KpiRow, Status, Unit};

/// The values of `dimension` that get an edition of `spec`'s report: those
/// with sales in its period.
pub fn editions(
    engine: &dyn Engine,
    catalogue: &Catalogue,
    context: &Context,
    dimension: &str,
    period: Period,
) -> Result<Vec<String>> {
    Rows {
        engine,
        catalogue,
        context,
        edition: None,
    }
    .values(dimension, period)
}

/// Gathers every number of the report `spec` asks for.
pub fn build(
    engine: &dyn Engine,
    catalogue: &Catalogue,
    context: &Context,
    spec: &ReportSpec,
) -> Result<ReportContext> {
    let period = spec.period;
    let kind = spec.kind;
    if !kind.fits(period) {
        return Err(Error::config_hint(
            format!(
                "the {} report needs a {} period, not `{period}`",
                kind.name(),
                match kind {
                    ReportKind::Monthly => "month",
                    ReportKind::Quarterly => "quarter",
                    ReportKind::Yearly => "year",
                }
            ),
            kind.period_hint(),
        ));
    }
    let lang = Language {
        locale: spec.locale,
        messages: Messages::load(spec.locale, spec.templates.as_deref())?,
    };
    let locale = lang.locale;
    let rows = Rows {
        engine,
        catalogue,
        context,
        edition: spec.edition.as_ref(),
    };
    let run = |ids: &[&str], periods: Vec<Period>, dims: &[&str]| rows.run(ids, periods, dims);
    // In an edition, a breakdown by its own dimension is its one row; the
    // movers by that dimension would be trivial, so they are left out.
    let by = |dim: &'static str| spec.edition.as_ref().is_none_or(|e| e.dimension != dim);

    // Headline tiles with a sparkline each.
    let headline: Vec<&str> = catalogue
        .indicators
        .iter()
        .filter(|i| i.headline)
        .map(|i| i.id.as_str())
        .collect();
    let history = run(&headline, period.series(kind.history()), &[])?;
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
            let mut tile = sections::tile(&lang, current, charts::sparkline(&values, color));
            tile.label = lang.label(catalogue, id);
            if !rows.supported(id) {
                tile.note = not_by(&lang, spec);
            }
            tile
        })
        .collect();

    // Net sales: this year against last year by month or quarter; five years.
    let year = match period {
        Period::Retail { year, .. } => year,
        _ => period.start().year(),
    };
    let money = |y: f64| format::compact(locale, Unit::Money, Decimal::from_f64_retain(y));
    let (sales_trend_title, sales_trend_chart) = match kind {
        ReportKind::Monthly | ReportKind::Quarterly => {
            let (per_year, index) = match period {
                Period::Month { month, .. } => (12, month as usize),
                Period::Quarter { quarter, .. } => (4, quarter as usize),
                Period::Retail {
                    part: Part::Month(month),
                    ..
                } => (12, month as usize),
                Period::Retail {
                    part: Part::Quarter(quarter),
                    ..
                } => (4, quarter as usize),
                _ => unreachable!("checked above"),
            };
            let trend = run(&["net_sales"], period.series(per_year + index), &[])?;
            // The period numbered `i` of year `y`, in the report period's calendar.
            let unit = |y: i32, i: u32| match (kind, period) {
                (ReportKind::Monthly, Period::Retail { calendar, .. }) => Period::Retail {
                    year: y,
                    part: Part::Month(i),
                    calendar,
                },
                (_, Period::Retail { calendar, .. }) => Period::Retail {
                    year: y,
                    part: Part::Quarter(i),
                    calendar,
                },
                (ReportKind::Monthly, _) => Period::Month { year: y, month: i },
                _ => Period::Quarter {
                    year: y,
                    quarter: i,
                },
            };
            let by_unit = |y: i32| -> Vec<Option<f64>> {
                (1..=per_year as u32)
                    .map(|i| {
                        trend
                            .iter()
                            .find(|row| row.period == unit(y, i))
                            .and_then(|row| to_f64(row.value))
                    })
                    .collect()
            };
            let labels: Vec<String> = (1..=per_year as u32)
                .map(|i| lang.axis(unit(year, i)))
                .collect();
            let (this_label, last_label) = (year.to_string(), (year - 1).to_string());
            let chart = charts::line_chart(
                &labels,
                &[
                    Series {
                        name: &last_label,
                        color: charts::LAST_YEAR,
                        values: by_unit(year - 1),
                    },
                    Series {
                        name: &this_label,
                        color: charts::THIS_YEAR,
                        values: by_unit(year),
                    },
                ],
                &money,
            );
            let key = if kind == ReportKind::Monthly {
                "sales_trend"
            } else {
                "sales_trend_quarters"
            };
            let title = lang.messages.fill(
                key,
                &[
                    ("this_year", &year.to_string()),
                    ("last_year", &(year - 1).to_string()),
                ],
            );
            (title, chart)
        }
        ReportKind::Yearly => {
            let years: Vec<&KpiRow> = history
                .iter()
                .filter(|row| row.indicator == "net_sales")
                .collect();
            let labels: Vec<String> = years.iter().map(|row| lang.axis(row.period)).collect();
            let chart = charts::line_chart(
                &labels,
                &[Series {
                    name: &lang.messages.text("net_sales"),
                    color: charts::THIS_YEAR,
                    values: years.iter().map(|row| to_f64(row.value)).collect(),
                }],
                &money,
            );
            (lang.messages.text("sales_trend_years"), chart)
        }
    };

    let market_rows = run(
        &["market_share", "relative_market_share"],
        vec![period],
        &["region"],
    )?;
    let mut market = sections::breakdown(
        &lang,
        catalogue,
        &market_rows,
        "market_share",
        &["market_share", "relative_market_share"],
    );
    let channel_rows = run(&["net_sales", "gross_margin"], vec![period], &["channel"])?;
    let channels = sections::mix_section(&lang, &channel_rows);
    let category_rows = run(&["net_sales", "gross_margin"], vec![period], &["category"])?;
    let categories = sections::mix_section(&lang, &category_rows);
    let satisfaction_rows = run(
        &["csat", "average_rating", "nps"],
        period.series(kind.history()),
        &[],
    )?;
    let mut satisfaction = sections::satisfaction_section(&lang, &satisfaction_rows);
    let inventory_ids = [
        "inventory_turnover_annualised",
        "days_inventory_outstanding",
        "inventory_to_sales",
        "inventory_turnover",
    ];
    let inventory_rows = run(&inventory_ids, vec![period], &["category"])?;
    let mut inventory = sections::breakdown(
        &lang,
        catalogue,
        &inventory_rows,
        "inventory_turnover_annualised",
        &[
            "inventory_turnover",
            "inventory_turnover_annualised",
            "days_inventory_outstanding",
            "inventory_to_sales",
        ],
    );
    for (section, id) in [
        (&mut market, "market_share"),
        (&mut satisfaction, "csat"),
        (&mut inventory, "inventory_turnover"),
    ] {
        if !rows.supported(id) {
            section.note = not_by(&lang, spec);
        }
    }

    // The yearly report: five years of the headline indicators side by side.
    let years = (kind == ReportKind::Yearly).then(|| {
        let periods = period.series(kind.history());
        Section {
            chart: String::new(),
            columns: periods.iter().map(|p| lang.axis(*p)).collect(),
            rows: headline
                .iter()
                .map(|id| {
                    let series: Vec<&KpiRow> =
                        history.iter().filter(|row| row.indicator == *id).collect();
                    TableRow {
                        label: lang.label(catalogue, id),
                        cells: series
                            .iter()
                            .map(|row| format::value(locale, row.unit, row.value))
                            .collect(),
                        status: sections::status_word(series.last().and_then(|row| row.status)),
                    }
                })
                .collect(),
            note: String::new(),
        }
    });

    // The other duties of the department, and the forecast.
    let not_by_edition = not_by(&lang, spec);
    let (duties, duty_rows) =
        duties::build(&rows, &lang, catalogue, kind, period, &not_by_edition)?;
    let forecast = match kind {
        ReportKind::Monthly => Some(forecast(&rows, &lang, period, &history)?),
        _ => None,
    };

    // Highlights: the headline's movers, the dimensions' movers, every red.
    let labelled = |rows| labelled(&lang, catalogue, rows);
    let current: Vec<&KpiRow> = history.iter().filter(|row| row.period == period).collect();
    let region_rows = run(&["net_sales"], vec![period], &["region"])?;
    // A yearly report's previous period is last year: said once.
    let previous_words = match kind {
        ReportKind::Monthly => Some(lang.messages.text("previous_month")),
        ReportKind::Quarterly => Some(lang.messages.text("previous_quarter")),
        ReportKind::Yearly => None,
    };
    let levels: Vec<&KpiRow> = current
        .iter()
        .copied()
        .filter(|row| {
            catalogue
                .indicator(&row.indicator)
                .is_ok_and(|i| matches!(i.kind, crate::indicators::Kind::Formula { .. }))
        })
        .collect();
    let movers: Vec<(&KpiRow, String)> = labelled(levels);
    let mut highlights = highlights::movers(&lang, &movers, previous_words.as_deref());
    for (dimension, dim_rows) in [
        ("region", &region_rows),
        ("channel", &channel_rows),
        ("category", &category_rows),
    ] {
        if by(dimension) {
            highlights.extend(highlights::dimension_movers(&lang, dimension, dim_rows));
        }
    }
    let mut all: Vec<&KpiRow> = current;
    all.extend(&duty_rows);
    for dim_rows in [
        &market_rows,
        &region_rows,
        &channel_rows,
        &category_rows,
        &inventory_rows,
    ] {
        all.extend(dim_rows.iter().filter(|row| row.period == period));
    }
    highlights.extend(highlights::red(&lang, &labelled(all)));

    let mut used: Vec<&str> = headline.clone();
    for id in [
        "relative_market_share",
        "average_rating",
        "nps",
        "inventory_turnover_annualised",
        "days_inventory_outstanding",
        "inventory_to_sales",
    ]
    .into_iter()
    .chain(duties::indicators())
    {
        if !used.contains(&id) {
            used.push(id);
        }
    }
    let definitions = used
        .iter()
        .map(|id| definition(&lang, catalogue.indicator(id).expect("known")))
        .collect();

    // Gaps of this period that make a breakdown's value n/a.
    let period_label = lang.period(period);
    let mut period_gaps = Vec::new();
    let gaps = [
        (
            "region",
            &region_rows,
            &market_rows,
            "market_share",
            "market_gap",
        ),
        (
            "category",
            &category_rows,
            &inventory_rows,
            "inventory_turnover",
            "inventory_gap",
        ),
    ];
    for (dimension, sales, figures, id, key) in gaps {
        if !rows.supported(id) {
            continue;
        }
        for row in sales
            .iter()
            .filter(|row| row.indicator == "net_sales" && row.value.is_some())
        {
            let group = lang.group(row);
            let known = figures
                .iter()
                .any(|f| f.indicator == id && f.value.is_some() && lang.group(f) == group);
            if !known {
                period_gaps.push(quality::Note {
                    text: lang
                        .messages
                        .fill(key, &[(dimension, &group), ("period", &period_label)]),
                    code: String::new(),
                });
            }
        }
    }
    let appendix = quality::appendix(&lang, &spec.quality, period_gaps);

    let partial = history
        .iter()
        .any(|row| row.period == period && row.partial);
    let (text_lang, text_region) = (locale.text_lang(), locale.text_region());
    let edition = spec.edition.as_ref().map(|edition| EditionLabel {
        dimension: lang.messages.text(&edition.dimension),
        value: lang.word(&edition.dimension, &edition.value),
    });
    let title = match &edition {
        None => lang.messages.fill("title", &[("period", &period_label)]),
        Some(edition) => lang.messages.fill(
            "title_edition",
            &[("period", &period_label), ("value", &edition.value)],
        ),
    };
    Ok(ReportContext {
        lang: locale.tag(),
        text_lang,
        text_region,
        words: lang.messages.words(),
        kind: kind.name(),
        edition,
        show_previous: kind != ReportKind::Yearly,
        sales_trend_title,
        satisfaction_title: lang.messages.fill(
            "satisfaction_trend",
            &[(
                "periods",
                &lang.messages.fill(
                    &format!("last_{}", kind.name()),
                    &[("n", &kind.history().to_string())],
                ),
            )],
        ),
        period_column: lang.messages.text(match kind {
            ReportKind::Monthly => "month",
            ReportKind::Quarterly => "quarter",
            ReportKind::Yearly => "year",
        }),
        company: spec.company.clone(),
        currency: spec.currency.clone(),
        title,
        period: period.to_string(),
        period_label,
        as_of: context.as_of.format("%Y-%m-%d").to_string(),
        data_through: spec
            .data_through
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| locale.not_available().into()),
        partial,
        version: env!("CARGO_PKG_VERSION"),
        highlights,
        tiles,
        sales_trend_chart,
        this_year: year,
        last_year: year - 1,
        market,
        channels,
        categories,
        satisfaction,
        inventory,
        years,
        duties,
        forecast,
        definitions,
        appendix,
    })
}

/// The next months' net sales after the report's month (after the one
/// before it when the month is still running), for the company and by
/// category. An edition forecasts its own sales.
fn forecast(
    rows: &Rows,
    lang: &Language,
    period: Period,
    history: &[KpiRow],
) -> Result<duties::ForecastSection> {
    let partial = history
        .iter()
        .any(|row| row.period == period && row.partial);
    let last = if partial { period.previous() } else { period };
    let months = duties::FORECAST_MONTHS;
    let periods = last.series(crate::forecast::HISTORY);
    let total = rows.run(&["net_sales"], periods.clone(), &[])?;
    let company = crate::forecast::from_rows(&total, last, false, months);
    let by_category = rows.run(&["net_sales"], periods, &["category"])?;
    let by_category = crate::forecast::from_rows(&by_category, last, true, months);
    Ok(duties::forecast_section(
        lang,
        &company[0],
        &total,
        &by_category,
    ))
}

/// Rows with their indicator's name in the report's language.
fn labelled<'a>(
    lang: &Language,
    catalogue: &Catalogue,
    rows: Vec<&'a KpiRow>,
) -> Vec<(&'a KpiRow, String)> {
    rows.into_iter()
        .map(|row| (row, lang.label(catalogue, &row.indicator)))
        .collect()
}

/// Why an edition shows n/a: the figures are not kept by its dimension.
fn not_by(lang: &Language, spec: &ReportSpec) -> String {
    let dimension = spec
        .edition
        .as_ref()
        .map(|e| lang.messages.text(&format!("dim_{}", e.dimension)))
        .unwrap_or_default();
    lang.messages
        .fill("not_by_dimension", &[("dimension", &dimension)])
}

fn definition(lang: &Language, indicator: &crate::indicators::Indicator) -> Definition {
    let (label, definition) = lang
        .messages
        .indicator(&indicator.id)
        .unwrap_or_else(|| (indicator.label.clone(), indicator.definition.clone()));
    let unit = lang
        .messages
        .text(&format!("unit_{}", indicator.unit.name()));
    let direction = lang
        .messages
        .text(&format!("direction_{}", indicator.direction.name()));
    let target = sections::target_words(lang, indicator);
    Definition {
        id: indicator.id.clone(),
        label,
        definition,
        details: lang.messages.fill(
            "definition_details",
            &[
                ("unit", &unit),
                ("direction", &direction),
                ("target", &target),
            ],
        ),
        unit,
        direction,
        target,
    }
}
