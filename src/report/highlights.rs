//! Highlights in words: what moved most and what is red, as sentences made
//! deterministically from the report's own KPI rows, in the report's
//! language. A change is only ever stated against a base that exists and is
//! not zero; ties keep the catalogue's order.

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
            if let Some((_, row, label)) = best[slot] {
                let (_, change) = pick(row);
                out.push(Highlight {
                    kind,
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
/// report's language), once per indicator and group.
pub fn red(lang: &Language, rows: &[(&KpiRow, String)]) -> Vec<Highlight> {
    let mut seen: Vec<(String, Option<String>)> = Vec::new();
    let mut out = Vec::new();
    for (row, label) in rows {
        if row.status != Some(Status::Bad) {
            continue;
        }
        let group = row.dims.first().map(|_| lang.group(row));
        let key = (row.indicator.clone(), group.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let value = locale::value(lang.locale, row.unit, row.value);
        let target = locale::value(lang.locale, row.unit, row.target);
        let message = match (&group, row.target.is_some()) {
            (None, true) => "highlight_bad",
            (None, false) => "highlight_bad_no_target",
            (Some(_), true) => "highlight_bad_group",
            (Some(_), false) => "highlight_bad_group_no_target",
        };
        out.push(Highlight {
            kind: "bad",
            text: lang.messages.fill(
                message,
                &[
                    ("indicator", label),
                    ("group", group.as_deref().unwrap_or_default()),
                    ("value", &value),
                    ("target", &target),
                ],
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
