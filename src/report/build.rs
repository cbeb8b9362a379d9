//! Building a report's context: every number it shows, asked of the
//! indicator layer through `rows`, formatted in the report's language.

use chrono::Datelike;
use rust_decimal::Decimal;

use super::charts::{self, Series};
use super::language::Language;
use super::loaded::{self, Loaded};
use super::messages::Messages;
use super::rows::Rows;
use super::sections::{self, to_f64};
use super::{
    duties, highlights, quality, Definition, EditionLabel, ReportContext, ReportKind, ReportSpec,
    Section, TableRow, Tile,
};
use crate::calendar::{Part, Period};
use crate::error::{Error, Result};
use crate::indicators::compute::Context;
use crate::indicators::{Catalogue, Engine, Indicator, Kind, KpiRow, Status, Unit};
use crate::locale;

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
    check_kind(spec.kind, spec.period)?;
    let lang = Language {
        locale: spec.locale,
        messages: Messages::load(spec.locale, spec.templates.as_deref())?,
    };
    let builder = Builder {
        spec,
        catalogue,
        lang: &lang,
        rows: Rows {
            engine,
            catalogue,
            context,
            edition: spec.edition.as_ref(),
        },
        period: spec.period,
        kind: spec.kind,
    };
    let headline: Vec<&str> = catalogue
        .indicators
        .iter()
        .filter(|i| i.headline)
        .map(|i| i.id.as_str())
        .collect();
    let history = builder.run(&headline, spec.period.series(spec.kind.history()), &[])?;
    let loaded = Loaded::from_coverage(&spec.quality.coverage);
    let tiles = builder.tiles(&headline, &history);
    let (sales_trend_title, sales_trend_chart) = builder.sales_trend(&history)?;
    let breakdowns = builder.breakdowns(&loaded)?;
    let years = builder.years(&headline, &history);
    // The other duties of the department, and the forecast.
    let not_by_edition = builder.not_by();
    let (duties, duty_rows) = duties::build(
        &builder.rows,
        &lang,
        catalogue,
        spec.kind,
        spec.period,
        &not_by_edition,
        &loaded,
    )?;
    let forecast = match spec.kind {
        ReportKind::Monthly => Some(forecast(&builder.rows, &lang, spec.period, &history)?),
        _ => None,
    };
    let mut highlights = builder.highlights(&history, &breakdowns, &duty_rows);
    // The definitions of what the report shows: the tiles kept, the
    // breakdowns and duty rows present.
    let mut shown: Vec<&str> = tiles.iter().map(|tile| tile.id.as_str()).collect();
    for (present, ids) in [
        (
            breakdowns.market.is_some(),
            &["market_share", "relative_market_share"][..],
        ),
        (
            breakdowns.satisfaction.is_some(),
            &["csat", "average_rating", "nps"][..],
        ),
        (
            breakdowns.inventory.is_some(),
            &[
                "inventory_turnover",
                "inventory_turnover_annualised",
                "days_inventory_outstanding",
                "inventory_to_sales",
            ][..],
        ),
    ] {
        if present {
            shown.extend(ids);
        }
    }
    shown.extend(duty_rows.iter().map(|row| row.indicator.as_str()));
    let definitions = builder.definitions(&headline, &shown);
    let mut appendix = quality::appendix(&lang, &spec.quality, builder.period_gaps(&breakdowns));
    appendix.not_loaded = loaded.not_loaded(&lang);
    // The first page shows the most telling; the full list is in the appendix.
    let more_highlights = if highlights.len() > spec.highlights {
        let more = highlights.len() - spec.highlights;
        appendix.highlights = highlights.clone();
        highlights.truncate(spec.highlights);
        lang.messages
            .fill("more_highlights", &[("n", &more.to_string())])
    } else {
        String::new()
    };
    let parts = Parts {
        history,
        highlights,
        more_highlights,
        tiles,
        sales_trend_title,
        sales_trend_chart,
        breakdowns,
        years,
        duties,
        forecast,
        definitions,
        appendix,
    };
    Ok(builder.context(context, parts))
}

/// A report of `kind` covers a period of its grain.
fn check_kind(kind: ReportKind, period: Period) -> Result<()> {
    if kind.fits(period) {
        return Ok(());
    }
    Err(Error::config_hint(
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
    ))
}

/// What every section of one report is built from.
struct Builder<'a> {
    spec: &'a ReportSpec,
    catalogue: &'a Catalogue,
    lang: &'a Language,
    rows: Rows<'a>,
    period: Period,
    kind: ReportKind,
}

/// The rows and sections of the breakdowns by region, channel, category.
struct Breakdowns {
    market_rows: Vec<KpiRow>,
    channel_rows: Vec<KpiRow>,
    category_rows: Vec<KpiRow>,
    inventory_rows: Vec<KpiRow>,
    region_rows: Vec<KpiRow>,
    market: Option<Section>,
    channels: Section,
    categories: Section,
    satisfaction: Option<Section>,
    inventory: Option<Section>,
}

/// The sections built, waiting to become the report's context.
struct Parts {
    history: Vec<KpiRow>,
    highlights: Vec<highlights::Highlight>,
    more_highlights: String,
    tiles: Vec<Tile>,
    sales_trend_title: String,
    sales_trend_chart: String,
    breakdowns: Breakdowns,
    years: Option<Section>,
    duties: Vec<duties::DutySection>,
    forecast: Option<duties::ForecastSection>,
    definitions: Vec<Definition>,
    appendix: quality::Appendix,
}

impl Builder<'_> {
    fn run(&self, ids: &[&str], periods: Vec<Period>, dims: &[&str]) -> Result<Vec<KpiRow>> {
        self.rows.run(ids, periods, dims)
    }

    /// Why an edition shows n/a: the figures are not kept by its dimension.
    fn not_by(&self) -> String {
        not_by(self.lang, self.spec)
    }

    /// The report's year: the calendar year of its period's start, or the
    /// retail year.
    fn year(&self) -> i32 {
        match self.period {
            Period::Retail { year, .. } => year,
            _ => self.period.start().year(),
        }
    }

    /// Headline tiles with a sparkline each.
    fn tiles(&self, headline: &[&str], history: &[KpiRow]) -> Vec<Tile> {
        headline
            .iter()
            // A tile with no value in the whole history is dropped, not n/a
            // (an edition keeps the tile that says it is not kept by its
            // dimension).
            .filter(|id| {
                !self.rows.supported(id)
                    || history
                        .iter()
                        .any(|row| row.indicator == **id && row.value.is_some())
            })
            .map(|id| {
                let series: Vec<&KpiRow> =
                    history.iter().filter(|row| row.indicator == *id).collect();
                let current = *series.last().expect("a row per period");
                let color = match current.status {
                    Some(Status::Good) => charts::THIS_YEAR,
                    Some(Status::Bad) => plotters::style::RGBColor(198, 40, 40),
                    _ => charts::ACCENT,
                };
                let values: Vec<Option<f64>> = series.iter().map(|row| to_f64(row.value)).collect();
                let mut tile =
                    sections::tile(self.lang, current, charts::sparkline(&values, color));
                tile.label = self.lang.label(self.catalogue, id);
                if !self.rows.supported(id) {
                    tile.note = self.not_by();
                }
                tile
            })
            .collect()
    }

    /// Net sales: this year against last year by month or quarter; or five
    /// years. The title and the chart.
    fn sales_trend(&self, history: &[KpiRow]) -> Result<(String, String)> {
        match self.kind {
            ReportKind::Monthly | ReportKind::Quarterly => self.sales_by_year(),
            ReportKind::Yearly => Ok(self.sales_years(history)),
        }
    }

    /// This year's months (or quarters) of net sales against last year's.
    fn sales_by_year(&self) -> Result<(String, String)> {
        let (kind, period, lang) = (self.kind, self.period, self.lang);
        let year = self.year();
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
            _ => unreachable!("checked by check_kind"),
        };
        let trend = self.run(&["net_sales"], period.series(per_year + index), &[])?;
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
            &|y| self.money(y),
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
        Ok((title, chart))
    }

    /// The yearly report's net sales of five years.
    fn sales_years(&self, history: &[KpiRow]) -> (String, String) {
        let lang = self.lang;
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
            &|y| self.money(y),
        );
        (lang.messages.text("sales_trend_years"), chart)
    }

    /// An amount of money as a chart's axis writes it.
    fn money(&self, amount: f64) -> String {
        locale::compact(
            self.lang.locale,
            Unit::Money,
            Decimal::from_f64_retain(amount),
        )
    }

    /// Market share by region, sales by region, channel and category, the
    /// satisfaction trend and inventory by category.
    fn breakdowns(&self, loaded: &Loaded) -> Result<Breakdowns> {
        let (lang, catalogue, period) = (self.lang, self.catalogue, self.period);
        let market_rows = self.run(
            &["market_share", "relative_market_share"],
            vec![period],
            &["region"],
        )?;
        let mut market = sections::breakdown(
            lang,
            catalogue,
            &market_rows,
            "market_share",
            &["market_share", "relative_market_share"],
        );
        // Net sales by region: its movers and the regions without market data.
        let region_rows = self.run(&["net_sales"], vec![period], &["region"])?;
        let channel_rows = self.run(&["net_sales", "gross_margin"], vec![period], &["channel"])?;
        let channels = sections::mix_section(lang, &channel_rows);
        let category_rows =
            self.run(&["net_sales", "gross_margin"], vec![period], &["category"])?;
        let categories = sections::mix_section(lang, &category_rows);
        let satisfaction_rows = self.run(
            &["csat", "average_rating", "nps"],
            period.series(self.kind.history()),
            &[],
        )?;
        let mut satisfaction = sections::satisfaction_section(lang, &satisfaction_rows);
        let inventory_ids = [
            "inventory_turnover_annualised",
            "days_inventory_outstanding",
            "inventory_to_sales",
            "inventory_turnover",
        ];
        let inventory_rows = self.run(&inventory_ids, vec![period], &["category"])?;
        let mut inventory = sections::breakdown(
            lang,
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
            if !self.rows.supported(id) {
                section.note = self.not_by();
            }
        }
        let has_values = |rows: &[KpiRow]| rows.iter().any(|row| row.value.is_some());
        let shown = |section: Section, tables: &[&str], rows: &[KpiRow]| {
            loaded.shows(tables, has_values(rows)).then_some(section)
        };
        let market = shown(market, loaded::MARKET, &market_rows);
        let satisfaction = shown(satisfaction, loaded::SATISFACTION, &satisfaction_rows);
        let inventory = shown(inventory, loaded::INVENTORY, &inventory_rows);
        Ok(Breakdowns {
            market_rows,
            channel_rows,
            category_rows,
            inventory_rows,
            region_rows,
            market,
            channels,
            categories,
            satisfaction,
            inventory,
        })
    }

    /// The yearly report: five years of the headline indicators side by side.
    fn years(&self, headline: &[&str], history: &[KpiRow]) -> Option<Section> {
        if self.kind != ReportKind::Yearly {
            return None;
        }
        let lang = self.lang;
        let periods = self.period.series(self.kind.history());
        Some(Section {
            chart: String::new(),
            columns: periods.iter().map(|p| lang.axis(*p)).collect(),
            rows: headline
                .iter()
                .map(|id| {
                    let series: Vec<&KpiRow> =
                        history.iter().filter(|row| row.indicator == *id).collect();
                    TableRow {
                        label: lang.label(self.catalogue, id),
                        cells: series
                            .iter()
                            .map(|row| locale::value(lang.locale, row.unit, row.value))
                            .collect(),
                        status: sections::status_word(series.last().and_then(|row| row.status)),
                    }
                })
                .collect(),
            note: String::new(),
        })
    }

    /// Highlights: the headline's movers, the dimensions' movers, every red.
    fn highlights(
        &self,
        history: &[KpiRow],
        breakdowns: &Breakdowns,
        duty_rows: &[KpiRow],
    ) -> Vec<highlights::Highlight> {
        let (lang, catalogue, period) = (self.lang, self.catalogue, self.period);
        let labelled = |rows| labelled(lang, catalogue, rows);
        let current: Vec<&KpiRow> = history.iter().filter(|row| row.period == period).collect();
        // A yearly report's previous period is last year: said once.
        let previous_words = match self.kind {
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
                    .is_ok_and(|i| matches!(i.kind, Kind::Formula { .. }))
            })
            .collect();
        let movers: Vec<(&KpiRow, String)> = labelled(levels);
        let scopes = scopes(catalogue, period, &current, breakdowns);
        let mut highlights = highlights::movers(lang, &movers, previous_words.as_deref(), &scopes);
        // In an edition, a breakdown by its own dimension is its one row; the
        // movers by that dimension would be trivial, so they are left out.
        let by = |dim: &str| {
            self.spec
                .edition
                .as_ref()
                .is_none_or(|e| e.dimension != dim)
        };
        for (dimension, dim_rows) in [
            ("region", &breakdowns.region_rows),
            ("channel", &breakdowns.channel_rows),
            ("category", &breakdowns.category_rows),
        ] {
            if by(dimension) {
                highlights.extend(highlights::dimension_movers(lang, dimension, dim_rows));
            }
        }
        let mut all: Vec<&KpiRow> = current;
        all.extend(duty_rows);
        for dim_rows in [
            &breakdowns.market_rows,
            &breakdowns.region_rows,
            &breakdowns.channel_rows,
            &breakdowns.category_rows,
            &breakdowns.inventory_rows,
        ] {
            all.extend(dim_rows.iter().filter(|row| row.period == period));
        }
        highlights.extend(highlights::red(lang, &labelled(all), &scopes));
        highlights::rank(&mut highlights);
        highlights
    }

    /// The definitions of every indicator the report shows.
    fn definitions(&self, headline: &[&str], shown: &[&str]) -> Vec<Definition> {
        let mut used: Vec<&str> = headline.to_vec();
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
        used.iter()
            .filter(|id| shown.contains(id))
            .map(|id| definition(self.lang, self.catalogue.indicator(id).expect("known")))
            .collect()
    }

    /// Gaps of this period that make a breakdown's value n/a: a region with
    /// sales but no market data, a category with sales but no inventory.
    fn period_gaps(&self, breakdowns: &Breakdowns) -> Vec<quality::Note> {
        let lang = self.lang;
        let period_label = lang.period(self.period);
        let mut period_gaps = Vec::new();
        let gaps = [
            (
                "region",
                &breakdowns.region_rows,
                &breakdowns.market_rows,
                "market_share",
                "market_gap",
                breakdowns.market.is_some(),
            ),
            (
                "category",
                &breakdowns.category_rows,
                &breakdowns.inventory_rows,
                "inventory_turnover",
                "inventory_gap",
                breakdowns.inventory.is_some(),
            ),
        ];
        for (dimension, sales, figures, id, key, shown) in gaps {
            // A table never loaded is said once, in "not loaded", not per group.
            if !self.rows.supported(id) || !shown {
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
        period_gaps
    }

    /// The report's context: its words, labels and the sections built.
    fn context(&self, context: &Context, parts: Parts) -> ReportContext {
        let (lang, kind, period) = (self.lang, self.kind, self.period);
        let locale = lang.locale;
        let year = self.year();
        let period_label = lang.period(period);
        let partial = parts
            .history
            .iter()
            .any(|row| row.period == period && row.partial);
        let edition = self.spec.edition.as_ref().map(|edition| EditionLabel {
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
        let breakdowns = parts.breakdowns;
        ReportContext {
            lang: locale.tag(),
            text_lang: locale.text_lang(),
            text_region: locale.text_region(),
            words: lang.messages.words(),
            kind: kind.name(),
            edition,
            show_previous: kind != ReportKind::Yearly,
            sales_trend_title: parts.sales_trend_title,
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
            company: self.spec.company.clone(),
            currency: self.spec.currency.clone(),
            title,
            period: period.to_string(),
            period_label,
            as_of: context.as_of.format("%Y-%m-%d").to_string(),
            data_through: self
                .spec
                .data_through
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| locale.not_available().into()),
            partial,
            version: env!("CARGO_PKG_VERSION"),
            highlights: parts.highlights,
            more_highlights: parts.more_highlights,
            tiles: parts.tiles,
            sales_trend_chart: parts.sales_trend_chart,
            this_year: year,
            last_year: year - 1,
            market: breakdowns.market,
            channels: breakdowns.channels,
            categories: breakdowns.categories,
            satisfaction: breakdowns.satisfaction,
            inventory: breakdowns.inventory,
            years: parts.years,
            duties: parts.duties,
            forecast: parts.forecast,
            definitions: parts.definitions,
            appendix: parts.appendix,
        }
    }
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

/// The net sales of the whole and of each region, channel and category in
/// `period`, and the headline indicators, for the effect of a highlight on
/// the headline.
fn scopes(
    catalogue: &Catalogue,
    period: Period,
    current: &[&KpiRow],
    breakdowns: &Breakdowns,
) -> highlights::Scopes {
    let mut scopes = highlights::Scopes {
        total: current
            .iter()
            .find(|row| row.indicator == "net_sales" && row.dims.is_empty())
            .and_then(|row| row.value),
        headline: catalogue
            .indicators
            .iter()
            .filter(|i| i.headline)
            .map(|i| i.id.clone())
            .collect(),
        ..Default::default()
    };
    for rows in [
        &breakdowns.region_rows,
        &breakdowns.channel_rows,
        &breakdowns.category_rows,
    ] {
        for row in rows
            .iter()
            .filter(|row| row.indicator == "net_sales" && row.period == period)
        {
            if let (Some((dim, group)), Some(value)) = (row.dims.first(), row.value) {
                scopes
                    .groups
                    .insert((dim.clone(), group.clone().unwrap_or_default()), value);
            }
        }
    }
    scopes
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

fn definition(lang: &Language, indicator: &Indicator) -> Definition {
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
