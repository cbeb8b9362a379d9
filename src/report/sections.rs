//! The parts of a report built from KPI rows: headline tiles, breakdown
//! tables with their bar charts, the satisfaction trend, the words of a
//! status rule. Values are formatted here, in the report's language.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::charts::{self, Series};
use super::language::Language;
use super::{Section, TableRow, Tile};
use crate::indicators::{Catalogue, KpiRow, Status, Unit};
use crate::locale;

/// The status as the templates see it: `none` without a target or value.
pub fn status_word(status: Option<Status>) -> &'static str {
    status.map(Status::name).unwrap_or("none")
}

pub fn to_f64(value: Option<Decimal>) -> Option<f64> {
    value.and_then(|v| v.to_f64())
}

pub fn tile(lang: &Language, row: &KpiRow, sparkline: String) -> Tile {
    let locale = lang.locale;
    let value = |v| locale::value(locale, row.unit, v);
    let change = |c| locale::change(locale, row.unit, row.change_kind, c);
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
        value: locale::compact(locale, row.unit, row.value),
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
pub fn breakdown(
    lang: &Language,
    catalogue: &Catalogue,
    rows: &[KpiRow],
    chart_id: &str,
    columns: &[&str],
) -> Section {
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
        if rows.iter().any(|row| row.indicator == *id) {
            headers.push(lang.label(catalogue, id));
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
            cells.push(locale::value(locale, unit, row.and_then(|row| row.value)));
            if *id == chart_id {
                cells.push(match row {
                    Some(row) => {
                        locale::change(locale, row.unit, row.change_kind, row.change_vs_last_year)
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
    let (chart, note) = bar_section_chart(lang, bars, &|v| {
        locale::value(locale, chart_unit, Decimal::from_f64_retain(v))
    });
    Section {
        chart,
        columns: headers,
        rows: table,
        note,
    }
}

/// The most bars a chart draws; the table below it has every row.
const MAX_BARS: usize = 15;

/// A bar chart of a section, largest value first (n/a last), with at most
/// `MAX_BARS` bars; with fewer than two values to compare there is no chart
/// and the note says why.
pub fn bar_section_chart(
    lang: &Language,
    mut bars: Vec<(String, Option<f64>)>,
    format_value: &dyn Fn(f64) -> String,
) -> (String, String) {
    let known = bars.iter().filter(|(_, v)| v.is_some()).count();
    if bars.is_empty() {
        return (String::new(), String::new());
    }
    if known == 0 {
        return (String::new(), lang.messages.text("chart_no_values"));
    }
    if bars.len() == 1 {
        return (String::new(), lang.messages.text("chart_one_value"));
    }
    // Stable: equal values keep the table's order.
    bars.sort_by(|(_, a), (_, b)| match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(a),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let total = bars.len();
    let note = if total > MAX_BARS {
        bars.truncate(MAX_BARS);
        lang.messages.fill(
            "chart_largest",
            &[("n", &MAX_BARS.to_string()), ("total", &total.to_string())],
        )
    } else {
        String::new()
    };
    let chart = charts::bar_chart(&bars, format_value, lang.locale.not_available());
    (chart, note)
}

/// Net sales by one dimension with its mix, growth and margin.
pub fn mix_section(lang: &Language, rows: &[KpiRow]) -> Section {
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
                locale::value(locale, Unit::Money, row.value),
                locale::value(locale, Unit::Ratio, mix),
                locale::change(
                    locale,
                    Unit::Money,
                    row.change_kind,
                    row.change_vs_last_year,
                ),
                locale::value(locale, Unit::Ratio, margin.and_then(|m| m.value)),
            ],
            status: status_word(row.status),
        });
        bars.push((group, to_f64(row.value)));
    }
    let (chart, note) = bar_section_chart(lang, bars, &|v| {
        locale::compact(locale, Unit::Money, Decimal::from_f64_retain(v))
    });
    Section {
        chart,
        columns: ["net_sales", "mix", "vs_last_year", "gross_margin"]
            .map(|key| lang.messages.text(key))
            .to_vec(),
        rows: table,
        note,
    }
}

pub fn satisfaction_section(lang: &Language, rows: &[KpiRow]) -> Section {
    let locale = lang.locale;
    let csat: Vec<&KpiRow> = rows.iter().filter(|row| row.indicator == "csat").collect();
    let labels: Vec<String> = csat.iter().map(|row| lang.short(row.period)).collect();
    let name = lang.messages.text("csat");
    let chart = charts::line_chart(
        &labels,
        &[Series {
            name: &name,
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
            .map(|n| locale::grouped(n, 0))
            .unwrap_or_else(|| "0".into());
        let flag = if row.low_sample {
            lang.messages.text("low_sample_flag")
        } else {
            String::new()
        };
        table.push(TableRow {
            label: lang.short(row.period),
            cells: vec![
                locale::value(locale, Unit::Ratio, row.value),
                locale::value(locale, Unit::Score, rating.and_then(|r| r.value)),
                locale::value(locale, Unit::Nps, nps.and_then(|r| r.value)),
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

pub fn target_words(lang: &Language, indicator: &crate::indicators::Indicator) -> String {
    use crate::indicators::{ChangeKind, TargetRule};
    let locale = lang.locale;
    let value = |v: &Decimal| locale::value(locale, indicator.unit, Some(*v));
    // A change of exactly nothing reads better as ±0%.
    let relative = |v: &Decimal| {
        let text = locale::change(locale, Unit::Money, ChangeKind::Relative, Some(*v));
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
                &locale::value(locale, Unit::Ratio, Some(*warning_ratio)),
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
