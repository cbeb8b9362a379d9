//! Numbers as people read them, per locale. This is the only place values are
//! rounded: everything before it carries exact decimals, everything after it
//! is text.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{Error, Result};
use crate::indicators::{ChangeKind, Unit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    ZhHant,
}

impl Locale {
    pub fn parse(text: &str) -> Result<Locale> {
        match text {
            "en" => Ok(Locale::En),
            "zh-Hant" | "zh-TW" | "zh-HK" => Ok(Locale::ZhHant),
            _ => Err(Error::config_hint(
                format!("unknown locale `{text}`"),
                "use `en` or `zh-Hant`",
            )),
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhHant => "zh-Hant",
        }
    }

    /// What a missing value reads as.
    pub fn not_available(self) -> &'static str {
        match self {
            Locale::En => "n/a",
            Locale::ZhHant => "無資料",
        }
    }

    fn points(self) -> &'static str {
        match self {
            Locale::En => " pp",
            Locale::ZhHant => " 個百分點",
        }
    }

    fn days(self) -> &'static str {
        match self {
            Locale::En => " days",
            Locale::ZhHant => " 天",
        }
    }
}

/// Rounds half away from zero, as people round by hand.
pub fn round(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// `1234567.891` with 2 places → `1,234,567.89`.
pub fn grouped(value: Decimal, places: u32) -> String {
    let rounded = round(value, places);
    let text = format!("{:.*}", places as usize, rounded.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole.to_string(), Some(fraction.to_string())),
        None => (text.clone(), None),
    };
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(&fraction);
    }
    if rounded.is_sign_negative() && !rounded.is_zero() {
        out.insert(0, '−');
    }
    out
}

/// A value in its unit, in full (tables).
pub fn value(locale: Locale, unit: Unit, value: Option<Decimal>) -> String {
    let Some(value) = value else {
        return locale.not_available().to_string();
    };
    match unit {
        Unit::Money | Unit::Count => grouped(value, 0),
        Unit::Ratio => format!("{}%", grouped(value * Decimal::ONE_HUNDRED, 1)),
        Unit::Score => grouped(value, 2),
        Unit::Nps => signed(grouped(value, 0), value),
        Unit::Turns | Unit::Multiple => format!("{}×", grouped(value, 2)),
        Unit::Days => format!("{}{}", grouped(value, 0), locale.days()),
    }
}

/// A value shortened for a headline tile: `58.1M` in English, `5,807萬` in Chinese.
pub fn compact(locale: Locale, unit: Unit, amount: Option<Decimal>) -> String {
    let Some(amount) = amount else {
        return locale.not_available().to_string();
    };
    if !matches!(unit, Unit::Money | Unit::Count) {
        return value(locale, unit, Some(amount));
    }
    let steps: &[(Decimal, &str)] = match locale {
        Locale::En => &[
            (Decimal::from(1_000_000_000), "B"),
            (Decimal::from(1_000_000), "M"),
            (Decimal::from(1_000), "K"),
        ],
        Locale::ZhHant => &[
            (Decimal::from(100_000_000), "億"),
            (Decimal::from(10_000), "萬"),
        ],
    };
    for (size, suffix) in steps {
        if amount.abs() >= *size {
            return format!("{}{suffix}", grouped(amount / size, 1));
        }
    }
    grouped(amount, 0)
}

/// A change against a comparison: `+4.5%` (relative) or `+1.2 pp` (difference of ratios).
pub fn change(locale: Locale, unit: Unit, kind: ChangeKind, change: Option<Decimal>) -> String {
    let Some(change) = change else {
        return locale.not_available().to_string();
    };
    match (kind, unit) {
        (ChangeKind::Relative, _) => signed(
            format!("{}%", grouped(change * Decimal::ONE_HUNDRED, 1)),
            change,
        ),
        (ChangeKind::Difference, Unit::Ratio) => signed(
            format!(
                "{}{}",
                grouped(change * Decimal::ONE_HUNDRED, 1),
                locale.points()
            ),
            change,
        ),
        (ChangeKind::Difference, Unit::Score | Unit::Multiple) => {
            signed(grouped(change, 2), change)
        }
        (ChangeKind::Difference, _) => signed(grouped(change, 1), change),
    }
}

/// A difference in the unit's own terms, with its sign: `+5,000`, `−3,600`.
pub fn difference(locale: Locale, unit: Unit, difference: Option<Decimal>) -> String {
    match difference {
        Some(d) => signed(value(locale, unit, Some(d)), d),
        None => locale.not_available().to_string(),
    }
}

fn signed(text: String, value: Decimal) -> String {
    if value > Decimal::ZERO && !text.starts_with('+') {
        format!("+{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn groups_thousands_and_rounds_half_away_from_zero() {
        assert_eq!(grouped(d("1234567.895"), 2), "1,234,567.90");
        assert_eq!(grouped(d("-1234.5"), 0), "−1,235");
        assert_eq!(grouped(d("999"), 0), "999");
        assert_eq!(grouped(d("-0.004"), 2), "0.00");
    }

    #[test]
    fn units_read_naturally() {
        assert_eq!(value(Locale::En, Unit::Ratio, Some(d("0.12345"))), "12.3%");
        assert_eq!(value(Locale::En, Unit::Nps, Some(d("32.4"))), "+32");
        assert_eq!(value(Locale::En, Unit::Money, None), "n/a");
        assert_eq!(value(Locale::ZhHant, Unit::Days, Some(d("67.6"))), "68 天");
        assert_eq!(
            change(
                Locale::En,
                Unit::Ratio,
                ChangeKind::Difference,
                Some(d("0.012"))
            ),
            "+1.2 pp"
        );
        assert_eq!(
            change(
                Locale::En,
                Unit::Money,
                ChangeKind::Relative,
                Some(d("-0.045"))
            ),
            "−4.5%"
        );
    }

    #[test]
    fn compact_money_uses_the_locale_s_steps() {
        assert_eq!(
            compact(Locale::En, Unit::Money, Some(d("58073715.99"))),
            "58.1M"
        );
        assert_eq!(
            compact(Locale::ZhHant, Unit::Money, Some(d("58073715.99"))),
            "5,807.4萬"
        );
        assert_eq!(
            compact(Locale::ZhHant, Unit::Money, Some(d("312000000"))),
            "3.1億"
        );
    }
}
