//! Highlights in words: what moved most and what is red, as sentences made
//! deterministically from the report's own KPI rows, in the report's
//! language. A change is only ever stated against a base that exists and is
//! not zero. Reds are grouped by indicator (one sentence for market share
//! in every red region), and every highlight carries its effect on the
//! headline in money — a move or shortfall of net sales as it is, of the
//! gross margin in points times the net sales of its scope — by which the
//! report ranks them; then the headline's other indicators; ties keep the
//! catalogue's order.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::language::Language;
use crate::indicators::{ChangeKind, Direction, KpiRow, Status, Unit};
use crate::locale;

/// One sentence and what kind of news it is: `improved`, `worsened`,
/// `gain`, `loss` or `bad`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Highlight {
    pub kind: &'static str,
    pub text: String,
    /// Its effect on net sales or gross margin, in money, for ranking only.
    #[serde(skip)]
    pub effect: Decimal,
    /// It is about a headline indicator (ranked before the others of no
    /// money effect).
    #[serde(skip)]
    pub headline: bool,
}

/// Net sales of the report's scopes: the whole (`None`) and each group of a
/// dimension (`("region", "北區")`), for the effect of a move or a red.
#[derive(Debug, Default)]
pub struct Scopes {
    pub total: Option<Decimal>,
    pub groups: BTreeMap<(String, String), Decimal>,
    /// The headline indicators (the tiles).
    pub headline: Vec<String>,
}

impl Scopes {
    /// The net sales of the scope of `row` (its first dimension's group, or
    /// the whole); zero when unknown.
    fn sales_of(&self, row: &KpiRow) -> Decimal {
        let found = match row.dims.first() {
            None => self.total,
            Some((dim, group)) => self
                .groups
                .get(&(dim.clone(), group.clone().unwrap_or_default()))
                .copied(),
        };
        found.unwrap_or_default()
    }

    /// What moving `row` by `size` does to the headline in money: net
    /// sales by the money itself, the gross margin by its points times the
    /// scope's net sales; any other indicator nothing directly.
    fn effect(&self, row: &KpiRow, size: Decimal) -> Decimal {
        match row.indicator.as_str() {
            "net_sales" => size.abs(),
            "gross_margin" => size.abs() * self.sales_of(row),
            _ => Decimal::ZERO,
        }
    }

    fn is_headline(&self, row: &KpiRow) -> bool {
        self.headline.contains(&row.indicator)
    }
}

/// Ranks `highlights`: by effect in money, biggest first; then those about
/// a headline indicator; ties in their order.
pub fn rank(highlights: &mut [Highlight]) {
    highlights.sort_by(|a, b| b.effect.cmp(&a.effect).then(b.headline.cmp(&a.headline)));
}

/// The size of a move from `base` to `value` relative to the base, for
/// ranking only; `None` without both or with a zero base.
fn relative_move(value: Option<Decimal>, base: Option<Decimal>) -> Option<Decimal> {
    let (value, base) = (value?, base?);
    if base.is_zero() {
        return None;
    }
    ((value - base) / base).abs().into()
}

/// Whether going from `base` to `value` is better, for the direction.
fn improves(direction: Direction, value: Decimal, base: Decimal) -> bool {
    match direction {
        Direction::Higher => value > base,
        Direction::Lower => value < base,
    }
}

/// A comparison's base value and the change against it, from a row.
type Comparison = fn(&KpiRow) -> (Option<Decimal>, Option<Decimal>);

/// How big a move is, to rank movers: a relative change as it is, a change
/// of a ratio in points read like one in percent (3 points ≈ 3 %), any
/// other difference relative to its base.
fn size(row: &KpiRow, value: Decimal, base: Decimal, change: Decimal) -> Option<Decimal> {
    match (row.change_kind, row.unit) {
        (ChangeKind::Relative, _) | (ChangeKind::Difference, Unit::Ratio) => Some(change.abs()),
        (ChangeKind::Difference, _) => relative_move(Some(value), Some(base)),
    }
}

/// The biggest improvement and the biggest deterioration of the headline
/// indicators against last year, then against the previous period (named
/// by `previous_words`; `None` when it is last year). Pass
/// levels, not growth rates: a growth rate's move is an acceleration.
pub fn movers(
    lang: &Language,
    headline: &[(&KpiRow, String)],
    previous_words: Option<&str>,
    scopes: &Scopes,
) -> Vec<Highlight> {
    let mut out = Vec::new();
    let comparisons: [(&str, Comparison); 2] = [
        ("last_year_words", |row| {
            (row.last_year, row.change_vs_last_year)
        }),
        ("", |row| (row.previous, row.change_vs_previous)),
    ];
    for (words_key, pick) in comparisons {
        let comparison = match (words_key.is_empty(), previous_words) {
            (false, _) => lang.messages.text(words_key),
            (true, Some(words)) => words.to_string(),
            // The previous period is last year (a yearly report): said once.
            (true, None) => continue,
        };
        let mut best: [Option<(Decimal, &KpiRow, &String)>; 2] = [None, None];
        for (row, label) in headline {
            let (base, change) = pick(row);
            let (Some(value), Some(base_value), Some(change)) = (row.value, base, change) else {
                continue;
            };
            // Never a change from a missing or zero base.
            if relative_move(Some(value), Some(base_value)).is_none() {
                continue;
            }
            let Some(size) = size(row, value, base_value, change) else {
                continue;
            };
            if size.is_zero() {
                continue;
            }
            let slot = usize::from(!improves(row.direction, value, base_value));
            if best[slot].as_ref().is_none_or(|(s, _, _)| size > *s) {
                best[slot] = Some((size, row, label));
            }
        }
        for (slot, kind) in [(0, "improved"), (1, "worsened")] {
            if let Some((size, row, label)) = best[slot] {
                let (base, change) = pick(row);
                let moved = match (row.unit, row.value, base) {
                    (Unit::Money, Some(value), Some(base)) => value - base,
                    _ => size,
                };
                out.push(Highlight {
                    kind,
                    effect: scopes.effect(row, moved),
                    headline: scopes.is_headline(row),
                    text: lang.messages.fill(
                        &format!("highlight_{kind}"),
                        &[
                            ("indicator", label),
                            ("comparison", &comparison),
                            ("value", &locale::value(lang.locale, row.unit, row.value)),
                            (
                                "change",
                                &locale::change(lang.locale, row.unit, row.change_kind, change),
                            ),
                        ],
                    ),
                });
            }
        }
    }
    out
}

/// By one dimension: the value that added most to net sales against last
/// year and the one that lost most, in money. Groups without sales last
/// year (no base) are left out.
pub fn dimension_movers(lang: &Language, dimension: &str, rows: &[KpiRow]) -> Vec<Highlight> {
    let mut gain: Option<(Decimal, &KpiRow)> = None;
    let mut loss: Option<(Decimal, &KpiRow)> = None;
    for row in rows.iter().filter(|row| row.indicator == "net_sales") {
        let (Some(value), Some(base)) = (row.value, row.last_year) else {
            continue;
        };
        if base <= Decimal::ZERO || row.change_vs_last_year.is_none() {
            continue;
        }
        let difference = value - base;
        if difference > Decimal::ZERO && gain.is_none_or(|(d, _)| difference > d) {
            gain = Some((difference, row));
        }
        if difference < Decimal::ZERO && loss.is_none_or(|(d, _)| difference < d) {
            loss = Some((difference, row));
        }
    }
    let mut out = Vec::new();
    for (kind, found) in [("gain", gain), ("loss", loss)] {
        if let Some((difference, row)) = found {
            out.push(Highlight {
                kind,
                effect: difference.abs(),
                headline: true,
                text: lang.messages.fill(
                    &format!("highlight_{kind}"),
                    &[
                        (
                            "dimension",
                            &lang.messages.text(&format!("dim_{dimension}")),
                        ),
                        ("group", &lang.group(row)),
                        (
                            "difference",
                            &locale::difference(lang.locale, Unit::Money, Some(difference)),
                        ),
                        (
                            "change",
                            &locale::change(
                                lang.locale,
                                Unit::Money,
                                ChangeKind::Relative,
                                row.change_vs_last_year,
                            ),
                        ),
                    ],
                ),
            });
        }
    }
    out
}

/// Every red status among `rows` (with the indicator's name in the
/// report's language): one sentence per indicator and dimension, its red
/// groups listed in the rows' order, with the target once when they share
/// it.
pub fn red(lang: &Language, rows: &[(&KpiRow, String)], scopes: &Scopes) -> Vec<Highlight> {
    // (indicator, dimension) → its label and red rows, once per group.
    let mut groups: Vec<RedGroup> = Vec::new();
    for (row, label) in rows {
        if row.status != Some(Status::Bad) {
            continue;
        }
        let key = (
            row.indicator.clone(),
            row.dims.first().map(|(d, _)| d.clone()),
        );
        let at = match groups.iter().position(|(k, ..)| *k == key) {
            Some(at) => at,
            None => {
                groups.push((key, label.clone(), Vec::new()));
                groups.len() - 1
            }
        };
        let reds = &mut groups[at].2;
        if !reds.iter().any(|r| r.dims == row.dims) {
            reds.push(row);
        }
    }
    groups
        .into_iter()
        .map(|((_, dimension), label, reds)| {
            let effect = reds
                .iter()
                .map(|row| scopes.effect(row, gap(row)))
                .sum::<Decimal>();
            let text = match (dimension, reds.as_slice()) {
                (None, [row, ..]) | (Some(_), [row]) => one_red(lang, row, &label),
                _ => grouped_reds(lang, &reds, &label),
            };
            Highlight {
                kind: "bad",
                headline: scopes.is_headline(reds[0]),
                text,
                effect,
            }
        })
        .collect()
}

/// An indicator and dimension, its label, and its red rows.
type RedGroup<'a> = ((String, Option<String>), String, Vec<&'a KpiRow>);

/// How far a red row is from its target, in its unit; zero without one.
fn gap(row: &KpiRow) -> Decimal {
    match (row.value, row.target) {
        (Some(value), Some(target)) => (value - target).abs(),
        _ => Decimal::ZERO,
    }
}

/// One red: the whole, or one group.
fn one_red(lang: &Language, row: &KpiRow, label: &str) -> String {
    let group = row.dims.first().map(|_| lang.group(row));
    let value = locale::value(lang.locale, row.unit, row.value);
    let target = locale::value(lang.locale, row.unit, row.target);
    let message = match (&group, row.target.is_some()) {
        (None, true) => "highlight_bad",
        (None, false) => "highlight_bad_no_target",
        (Some(_), true) => "highlight_bad_group",
        (Some(_), false) => "highlight_bad_group_no_target",
    };
    lang.messages.fill(
        message,
        &[
            ("indicator", label),
            ("group", group.as_deref().unwrap_or_default()),
            ("value", &value),
            ("target", &target),
        ],
    )
}

/// Several red groups of one indicator: `市場占有率不佳：東區 4.8%、南區
/// 8.3%（目標 10.0%）`; each group with its own target when they differ.
fn grouped_reds(lang: &Language, reds: &[&KpiRow], label: &str) -> String {
    let shared = reds.iter().all(|row| row.target == reds[0].target);
    let target_of = |row: &KpiRow| match row.target {
        Some(_) => lang.messages.fill(
            "highlight_target",
            &[("target", &locale::value(lang.locale, row.unit, row.target))],
        ),
        None => String::new(),
    };
    let listed: Vec<String> = reds
        .iter()
        .map(|row| {
            let own = if shared {
                String::new()
            } else {
                target_of(row)
            };
            format!(
                "{} {}{own}",
                lang.group(row),
                locale::value(lang.locale, row.unit, row.value)
            )
        })
        .collect();
    let target = if shared {
        target_of(reds[0])
    } else {
        String::new()
    };
    lang.messages.fill(
        "highlight_bad_groups",
        &[
            ("indicator", label),
            (
                "groups",
                &listed.join(&lang.messages.text("list_separator")),
            ),
            ("target", &target),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Period;
    use crate::indicators::Status;
    use crate::locale::Locale;
    use crate::report::messages::Messages;

    fn language(tag: &str) -> Language {
        let locale = Locale::parse(tag).unwrap();
        Language {
            locale,
            messages: Messages::load(locale, None).unwrap(),
        }
    }

    /// A red or good row of `indicator` in one region (or the whole).
    fn row(
        indicator: &str,
        unit: Unit,
        region: Option<&str>,
        value: &str,
        target: &str,
        bad: bool,
    ) -> KpiRow {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        KpiRow {
            indicator: indicator.into(),
            label: indicator.into(),
            unit,
            direction: Direction::Higher,
            change_kind: unit.change_kind(),
            period: Period::parse("2026-10", 1).unwrap(),
            partial: false,
            dims: region
                .map(|r| vec![("region".to_string(), Some(r.to_string()))])
                .unwrap_or_default(),
            value: Some(d(value)),
            previous: None,
            change_vs_previous: None,
            last_year: None,
            change_vs_last_year: None,
            target: Some(d(target)),
            status: Some(if bad { Status::Bad } else { Status::Good }),
            sample_size: None,
            low_sample: false,
        }
    }

    #[test]
    fn reds_of_one_indicator_are_one_sentence_in_both_languages() {
        let share = |region, value, bad| {
            row(
                "market_share",
                Unit::Ratio,
                Some(region),
                value,
                "0.10",
                bad,
            )
        };
        let rows = [
            share("東區", "0.048", true),
            share("北區", "0.12", false),
            share("南區", "0.083", true),
            // A second red row of the same region (another breakdown) once.
            share("東區", "0.048", true),
        ];
        let scopes = Scopes::default();
        for (tag, label, expected) in [
            (
                "zh-Hant",
                "市場占有率",
                "市場占有率不佳：東區 4.8%、南區 8.3%（目標 10.0%）。",
            ),
            (
                "en",
                "Market share",
                "Market share is red: 東區 4.8%, 南區 8.3% (target 10.0%).",
            ),
        ] {
            let lang = language(tag);
            let labelled: Vec<(&KpiRow, String)> =
                rows.iter().map(|r| (r, label.to_string())).collect();
            let reds = red(&lang, &labelled, &scopes);
            assert_eq!(reds.len(), 1, "{reds:?}");
            assert_eq!(reds[0].text, expected);
        }
        // Targets that differ are said per group; one red group keeps its own sentence.
        let rows = [
            row(
                "market_share",
                Unit::Ratio,
                Some("East"),
                "0.048",
                "0.10",
                true,
            ),
            row(
                "market_share",
                Unit::Ratio,
                Some("South"),
                "0.083",
                "0.12",
                true,
            ),
            row("csat", Unit::Ratio, Some("South"), "0.70", "0.78", true),
        ];
        let lang = language("en");
        let labelled: Vec<(&KpiRow, String)> = rows
            .iter()
            .map(|r| {
                (
                    r,
                    if r.indicator == "csat" {
                        "CSAT"
                    } else {
                        "Market share"
                    }
                    .to_string(),
                )
            })
            .collect();
        let texts: Vec<String> = red(&lang, &labelled, &scopes)
            .into_iter()
            .map(|h| h.text)
            .collect();
        assert_eq!(
            texts,
            [
                "Market share is red: East 4.8% (target 10.0%), South 8.3% (target 12.0%).",
                "CSAT is red in South: 70.0% against a target of 78.0%.",
            ]
        );
    }

    #[test]
    fn highlights_rank_by_their_money_effect_on_net_sales_and_margin() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let mut scopes = Scopes {
            total: Some(d("1000000")),
            headline: vec!["net_sales".into(), "gross_margin".into(), "csat".into()],
            ..Default::default()
        };
        scopes
            .groups
            .insert(("region".into(), "East".into()), d("200000"));
        let rows = [
            // Net sales 30,000 short of target in East: 30,000.
            row(
                "net_sales",
                Unit::Money,
                Some("East"),
                "200000",
                "230000",
                true,
            ),
            // Margin 5 points short in East (200,000 of sales): 10,000.
            row(
                "gross_margin",
                Unit::Ratio,
                Some("East"),
                "0.35",
                "0.40",
                true,
            ),
            // Margin 4 points short for the whole (1,000,000): 40,000.
            row("gross_margin", Unit::Ratio, None, "0.36", "0.40", true),
            // Satisfaction: a headline indicator of no money effect.
            row("csat", Unit::Ratio, None, "0.70", "0.78", true),
            // Pass rate: neither.
            row(
                "inspection_pass_rate",
                Unit::Ratio,
                None,
                "0.80",
                "0.95",
                true,
            ),
        ];
        let lang = language("en");
        let labelled: Vec<(&KpiRow, String)> =
            rows.iter().map(|r| (r, r.indicator.clone())).collect();
        let mut highlights = red(&lang, &labelled, &scopes);
        let effects: Vec<Decimal> = highlights.iter().map(|h| h.effect).collect();
        assert_eq!(
            effects,
            [d("30000"), d("10000"), d("40000"), d("0"), d("0")]
        );
        rank(&mut highlights);
        let order: Vec<&str> = highlights
            .iter()
            .map(|h| h.text.split(' ').next().unwrap())
            .collect();
        assert_eq!(
            order,
            [
                "gross_margin",
                "net_sales",
                "gross_margin",
                "csat",
                "inspection_pass_rate"
            ]
        );
        assert!(highlights[0].text.contains("36.0%"), "{:?}", highlights[0]);
    }

    #[test]
    fn a_move_needs_both_values_and_a_base_other_than_zero() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            relative_move(Some(d("120")), Some(d("100"))),
            Some(d("0.2"))
        );
        assert_eq!(
            relative_move(Some(d("80")), Some(d("-100"))),
            Some(d("1.8"))
        );
        assert_eq!(relative_move(Some(d("5")), Some(Decimal::ZERO)), None);
        assert_eq!(relative_move(None, Some(d("1"))), None);
        assert_eq!(relative_move(Some(d("1")), None), None);
    }

    #[test]
    fn better_follows_the_direction() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert!(improves(Direction::Higher, d("2"), d("1")));
        assert!(!improves(Direction::Higher, d("1"), d("2")));
        assert!(improves(Direction::Lower, d("1"), d("2")));
    }
}
