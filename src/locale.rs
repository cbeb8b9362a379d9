//! Numbers as people read them, per locale. This is the only place values are
//! rounded: everything before it carries exact decimals, everything after it
//! is text.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::assets;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::indicators::{ChangeKind, Unit};

/// A language: its tag and how it writes numbers, from the `[format]` table
/// of its message catalogue (`report-templates/messages/<tag>.toml`, or a
/// user's templates folder). Adding a language is adding that file.
#[derive(Clone, Copy)]
pub struct Locale(&'static LocaleData);

#[derive(Debug)]
struct LocaleData {
    tag: String,
    not_available: String,
    points: String,
    days: String,
    hours: String,
    /// Shorter forms of large amounts, largest first: (size, suffix).
    large_amounts: Vec<(Decimal, String)>,
    text_lang: String,
    text_region: String,
}

impl PartialEq for Locale {
    fn eq(&self, other: &Locale) -> bool {
        self.0.tag == other.0.tag
    }
}

impl Eq for Locale {}

impl std::fmt::Debug for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Locale({})", self.0.tag)
    }
}

/// The built-in languages, read once from their catalogues.
static BUILTIN: std::sync::LazyLock<Vec<Locale>> = std::sync::LazyLock::new(|| {
    assets::TEMPLATES
        .iter()
        .filter_map(|(name, text)| {
            let tag = name.strip_prefix("messages/")?.strip_suffix(".toml")?;
            let data =
                locale_data(tag, text, name).expect("the built-in catalogues are valid (tested)");
            Some(Locale(Box::leak(Box::new(data))))
        })
        .collect()
});

/// Languages read from users' folders, kept for the process's life.
static USER: std::sync::Mutex<Vec<Locale>> = std::sync::Mutex::new(Vec::new());

/// Checks a user's message catalogue's `[format]` table as a language
/// would read it (`file` names it in errors).
pub fn check_catalogue(tag: &str, text: &str, file: &str) -> Result<()> {
    check_tag(tag)?;
    locale_data(tag, text, file).map(|_| ())
}

fn locale_data(tag: &str, text: &str, file: &str) -> Result<LocaleData> {
    let bad = |what: String| {
        Error::config_hint(
            format!("`{file}`: {what}"),
            "copy the `[format]` table of messages/en.toml (`opskpi templates DIR`) and change its values",
        )
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
    let format = table
        .get("format")
        .and_then(|f| f.as_table())
        .ok_or_else(|| bad("has no `[format]` table".into()))?;
    let text_of = |key: &str| -> Result<String> {
        format
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| bad(format!("`format.{key}` is missing or not text")))
    };
    let mut large_amounts = Vec::new();
    for step in format
        .get("large_amounts")
        .and_then(|v| v.as_array())
        .ok_or_else(|| bad("`format.large_amounts` is missing".into()))?
    {
        let pair = step.as_array().filter(|p| p.len() == 2);
        let size = pair.and_then(|p| p[0].as_integer()).filter(|n| *n > 0);
        let suffix = pair.and_then(|p| p[1].as_str());
        match (size, suffix) {
            (Some(size), Some(suffix)) => {
                large_amounts.push((Decimal::from(size), suffix.to_string()))
            }
            _ => {
                return Err(bad(
                    "`format.large_amounts` takes pairs like [1000000, \"M\"]".into(),
                ))
            }
        }
    }
    large_amounts.sort_by_key(|step| std::cmp::Reverse(step.0));
    Ok(LocaleData {
        tag: tag.to_string(),
        not_available: text_of("not_available")?,
        points: text_of("points")?,
        days: text_of("days")?,
        hours: text_of("hours")?,
        large_amounts,
        text_lang: text_of("text_lang")?,
        text_region: text_of("text_region")?,
    })
}

/// Refuses a language tag that is not of BCP 47's shape (`en`, `zh-Hant`,
/// `pt-BR`: letters, then parts of letters and digits after `-`) before it
/// becomes part of a file name.
fn check_tag(tag: &str) -> Result<()> {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    let shaped = (2..=8).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|part| {
            (1..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if shaped {
        return Ok(());
    }
    Err(Error::config_hint(
        format!("`{}` is not a language tag", tag.escape_debug()),
        "write a tag like `en`, `zh-Hant` or `pt-BR`",
    ))
}

impl Locale {
    /// The built-in language `tag` (`zh-TW` and `zh-HK` read as `zh-Hant`).
    pub fn parse(tag: &str) -> Result<Locale> {
        Locale::find(tag, None)
    }

    /// The language `tag`: built in, or `messages/<tag>.toml` in the
    /// templates folder `folder`.
    pub fn find(tag: &str, folder: Option<&std::path::Path>) -> Result<Locale> {
        check_tag(tag)?;
        let tag = match tag {
            "zh-TW" | "zh-HK" => "zh-Hant",
            other => other,
        };
        if let Some(locale) = BUILTIN.iter().find(|l| l.0.tag == tag) {
            return Ok(*locale);
        }
        if let Some(path) = folder
            .map(|f| f.join(format!("messages/{tag}.toml")))
            .filter(|p| p.is_file())
        {
            let mut user = USER.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(locale) = user.iter().find(|l| l.0.tag == tag) {
                return Ok(*locale);
            }
            let text = fs_err::read_to_string(&path)?;
            let data = locale_data(tag, &text, &path.display().to_string())?;
            let locale = Locale(Box::leak(Box::new(data)));
            user.push(locale);
            return Ok(locale);
        }
        let known: Vec<&str> = BUILTIN.iter().map(|l| l.0.tag.as_str()).collect();
        Err(Error::config_hint(
            format!("unknown language `{tag}`"),
            format!(
                "use {}, or add messages/{tag}.toml to your templates folder (copy messages/en.toml from `opskpi templates DIR`)",
                known.join(" or ")
            ),
        ))
    }

    /// The project's language: `company.locale`, built in or from its
    /// templates folder.
    pub fn of(config: &Config) -> Result<Locale> {
        Locale::find(&config.company.locale, config.templates_folder().as_deref())
    }

    /// English, built in.
    pub fn en() -> Locale {
        Locale::parse("en").expect("built in")
    }

    /// Traditional Chinese, built in.
    pub fn zh_hant() -> Locale {
        Locale::parse("zh-Hant").expect("built in")
    }

    pub fn tag(self) -> &'static str {
        &self.0.tag
    }

    /// What a missing value reads as.
    pub fn not_available(self) -> &'static str {
        &self.0.not_available
    }

    /// Typst's language and region for the text (hyphenation, quotes).
    pub fn text_lang(self) -> &'static str {
        &self.0.text_lang
    }

    pub fn text_region(self) -> &'static str {
        &self.0.text_region
    }

    fn points(self) -> &'static str {
        &self.0.points
    }

    fn days(self) -> &'static str {
        &self.0.days
    }

    fn hours(self) -> &'static str {
        &self.0.hours
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
        Unit::Hours => format!("{}{}", grouped(value, 1), locale.hours()),
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
    for (size, suffix) in &locale.0.large_amounts {
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
        assert_eq!(
            value(Locale::en(), Unit::Ratio, Some(d("0.12345"))),
            "12.3%"
        );
        assert_eq!(value(Locale::en(), Unit::Nps, Some(d("32.4"))), "+32");
        assert_eq!(value(Locale::en(), Unit::Money, None), "n/a");
        assert_eq!(
            value(Locale::zh_hant(), Unit::Days, Some(d("67.6"))),
            "68 天"
        );
        assert_eq!(
            change(
                Locale::en(),
                Unit::Ratio,
                ChangeKind::Difference,
                Some(d("0.012"))
            ),
            "+1.2 pp"
        );
        assert_eq!(
            change(
                Locale::en(),
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
            compact(Locale::en(), Unit::Money, Some(d("58073715.99"))),
            "58.1M"
        );
        assert_eq!(
            compact(Locale::zh_hant(), Unit::Money, Some(d("58073715.99"))),
            "5,807.4萬"
        );
        assert_eq!(
            compact(Locale::zh_hant(), Unit::Money, Some(d("312000000"))),
            "3.1億"
        );
    }
}
