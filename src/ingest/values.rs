//! Values as people and ERP systems write them, read into canonical text:
//! numbers with thousands separators, currency signs, full-width digits,
//! `(123.00)` negatives and percentages; dates in ISO, slashed, Chinese,
//! Republic of China (`115/10/03`, `民國115年10月3日`, `1151003`) and Excel
//! serial form; timestamps with or without a UTC offset.
//!
//! Everything here is a pure function of the text and the source's settings,
//! so it is tested on its own; `udf` registers these functions in DuckDB,
//! where ingest applies them to every value that is not already canonical.
//! A value whose meaning is not certain is refused with the reason, never
//! guessed: `10/03/2026` without a stated order, a two-digit year.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::config::DateOrder;

/// The most decimals an input number may have; more is refused, not rounded.
pub const MAX_DECIMALS: usize = 18;

/// Why a value could not be read: a sentence for the quarantine and errors.
pub type Problem = String;

/// Full-width ASCII (`１２３`, `，`, `／`) and the ideographic space as their
/// plain forms, so every other rule sees one alphabet.
pub fn to_ascii(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        return text.into();
    }
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '\u{2212}' => '-',
            c => c,
        })
        .collect::<String>()
        .into()
}

const CURRENCY_PREFIXES: &[&str] = &[
    "NT$", "NTD", "TWD", "US$", "USD", "HK$", "HKD", "RMB", "CNY", "EUR", "GBP", "$", "¥", "￥",
    "€", "£",
];
const CURRENCY_SUFFIXES: &[&str] = &["元", "NTD", "TWD", "USD", "RMB", "CNY", "EUR"];

/// A number as canonical decimal text (`-1234.5678`): thousands separators
/// only in groups of three, a currency sign before or after, `(12.00)` or a
/// trailing minus for negatives, `%` dividing by 100.
pub fn parse_number(text: &str) -> Result<String, Problem> {
    let ascii = to_ascii(text);
    let mut s: String = ascii.chars().filter(|c| !c.is_whitespace()).collect();
    let mut negative = false;
    if s.starts_with('(') && s.ends_with(')') && s.len() > 2 {
        negative = true;
        s = s[1..s.len() - 1].to_string();
    }
    for (sign, is_negative) in [("-", true), ("+", false)] {
        if let Some(rest) = s.strip_prefix(sign) {
            negative ^= is_negative;
            s = rest.to_string();
            break;
        }
    }
    if let Some(rest) = s.strip_suffix('-') {
        negative = !negative;
        s = rest.to_string();
    }
    let upper = s.to_ascii_uppercase();
    if let Some(prefix) = CURRENCY_PREFIXES.iter().find(|p| upper.starts_with(**p)) {
        s = s[prefix.len()..].to_string();
    }
    let upper = s.to_ascii_uppercase();
    if let Some(suffix) = CURRENCY_SUFFIXES.iter().find(|p| upper.ends_with(**p)) {
        s = s[..s.len() - suffix.len()].to_string();
    }
    // A sign may also stand after the currency: `NT$-1,200`.
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = rest.to_string();
    }
    let percent = match s.strip_suffix('%') {
        Some(rest) => {
            s = rest.to_string();
            true
        }
        None => false,
    };
    let (int, frac) = match s.split_once('.') {
        Some((int, frac)) => (int.to_string(), frac.to_string()),
        None => (s.clone(), String::new()),
    };
    let int = if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let well_formed = !groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3);
        if !well_formed {
            return Err(format!(
                "`{text}` is not a number: a comma must separate thousands (groups of three digits); decimals take `.`"
            ));
        }
        groups.concat()
    } else {
        int
    };
    let digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(&int) || !digits(&frac) {
        return Err(format!("`{text}` is not a number"));
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > MAX_DECIMALS {
        return Err(format!("`{text}` has more than {MAX_DECIMALS} decimals"));
    }
    let int = int.trim_start_matches('0');
    // Percent: shift the decimal point two places left, exactly.
    let (int, frac) = if percent {
        let padded = format!("{:0>2}", int);
        let (head, tail) = padded.split_at(padded.len() - 2);
        (
            head.trim_start_matches('0').to_string(),
            format!("{tail}{frac}").trim_end_matches('0').to_string(),
        )
    } else {
        (int.to_string(), frac.to_string())
    };
    let zero = int.is_empty() && frac.is_empty();
    let mut out = String::with_capacity(int.len() + frac.len() + 2);
    if negative && !zero {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { &int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// A number with more decimals than `scale` that lies within 1e-9 of a
/// number at `scale` — a binary float's artifact, `31.159999999999997` for
/// 31.16 — as that number; None for anything else (`31.156` at 2, text
/// that is no number). `decimals = "round"` reads with it.
pub fn round_artifact(text: &str, scale: u32) -> Option<String> {
    let canonical = parse_number(text).ok()?;
    let value: rust_decimal::Decimal = canonical.parse().ok()?;
    let rounded =
        value.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let tolerance = rust_decimal::Decimal::new(1, 9);
    ((value - rounded).abs() <= tolerance).then(|| rounded.to_string())
}

/// The decimals of a canonical number from `parse_number`.
pub fn decimals(canonical: &str) -> usize {
    canonical
        .split_once('.')
        .map(|(_, frac)| frac.len())
        .unwrap_or(0)
}

/// A plain number — `-?digits(.digits)?`, nothing else — as the whole
/// number of `scale`-th units it is exactly (`220.0464` at 4 → 2200464), or
/// None: for more non-zero decimals than `scale`, 18 digits or more in that
/// unit (past `DECIMAL(18,_)`), and any other spelling, which
/// `parse_number` reads instead. The common case of a load, read without
/// copying or rounding.
pub fn plain_number(text: &[u8], scale: u8) -> Option<i64> {
    const LIMIT: i64 = 1_000_000_000_000_000_000;
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &[][..]),
    };
    let is_digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    if int.is_empty()
        || !is_digits(int)
        || !is_digits(frac)
        || (digits.len() > int.len() && frac.is_empty())
    {
        return None;
    }
    let scale = usize::from(scale);
    let (kept, beyond) = frac.split_at(frac.len().min(scale));
    if beyond.iter().any(|&b| b != b'0') {
        return None;
    }
    let mut units: i64 = 0;
    for &digit in int.iter().chain(kept) {
        units = units
            .checked_mul(10)?
            .checked_add(i64::from(digit - b'0'))?;
    }
    for _ in kept.len()..scale {
        units = units.checked_mul(10)?;
    }
    (units < LIMIT).then_some(if negative { -units } else { units })
}

/// A date written exactly `YYYY-MM-DD`, as days since 1970-01-01 (DuckDB's
/// `DATE`), or None for any other text or no such day: the common case of a
/// load, read in place; `parse_date` reads every other spelling.
pub fn iso_date_days(text: &[u8]) -> Option<i32> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *text else {
        return None;
    };
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(
        number(&[y0, y1, y2, y3])? as i32,
        number(&[m0, m1])?,
        number(&[d0, d1])?,
    )?;
    Some(crate::calendar::days_since_epoch(date))
}

/// Days from Excel's epoch: serial 1 is 1900-01-01, with the 1900 leap-day bug.
fn excel_serial(days: i64) -> Option<NaiveDate> {
    if !(1..=2_958_465).contains(&days) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_signed(Duration::days(days))
}

fn ymd(year: i32, month: u32, day: u32, text: &str) -> Result<NaiveDate, Problem> {
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("`{text}` is not a calendar date"))
}

/// The numbers in `text` split at any non-digit, and whether anything but
/// the separators `-` `/` `.` and Chinese date words stood between them.
fn date_parts(text: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = text
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|part| !part.is_empty())
        .collect();
    parts
        .iter()
        .all(|part| part.chars().all(|c| c.is_ascii_digit()))
        .then_some(parts)
}

/// A calendar date. ROC years are written with three digits (`115/10/03`),
/// after `民國`, or in seven-digit form (`1151003`); two-digit years only with
/// `dates = "roc"`. Day-first or month-first dates need `dates = "dmy"` or
/// `"mdy"`. A five-digit number is an Excel serial date.
pub fn parse_date(text: &str, order: DateOrder) -> Result<NaiveDate, Problem> {
    let ascii = to_ascii(text.trim());
    let mut s = ascii.trim();
    // A time part after a date: midnight, or the day of an event either way.
    if let Some((date, time)) = s.split_once([' ', 'T']) {
        if time.contains(':') {
            s = date;
        }
    }
    let (roc_marked, s) = match s.strip_prefix("民國").or_else(|| s.strip_prefix("民国")) {
        Some(rest) => (true, rest.trim()),
        None => (false, s),
    };
    let parts = date_parts(s).ok_or_else(|| format!("`{text}` is not a date"))?;
    let number = |part: &str| part.parse::<i64>().unwrap_or(-1);
    match parts.as_slice() {
        [whole] if !roc_marked => {
            return match whole.len() {
                8 => ymd(
                    number(&whole[..4]) as i32,
                    number(&whole[4..6]) as u32,
                    number(&whole[6..]) as u32,
                    text,
                ),
                7 => ymd(
                    number(&whole[..3]) as i32 + 1911,
                    number(&whole[3..5]) as u32,
                    number(&whole[5..]) as u32,
                    text,
                ),
                5 => excel_serial(number(whole)).ok_or_else(|| format!("`{text}` is not a date")),
                _ => Err(format!("`{text}` is not a date")),
            };
        }
        [y, m, d] => {
            let (m, d) = (number(m) as u32, number(d) as u32);
            match y.len() {
                4 if !roc_marked => return ymd(number(y) as i32, m, d, text),
                3 => return ymd(number(y) as i32 + 1911, m, d, text),
                1 | 2 if roc_marked || order == DateOrder::Roc => {
                    return ymd(number(y) as i32 + 1911, m, d, text)
                }
                1 | 2 if parts[2].len() == 4 => {}
                1 | 2 => {
                    return Err(format!(
                        "`{text}` has a two-digit year: a Republic of China year or a short Gregorian one, and the file does not say"
                    ))
                }
                _ => return Err(format!("`{text}` is not a date")),
            }
        }
        _ => return Err(format!("`{text}` is not a date")),
    }
    // `10/03/2026`: day and month first, in an order only the source can tell.
    let (a, b, year) = (
        number(parts[0]) as u32,
        number(parts[1]) as u32,
        number(parts[2]) as i32,
    );
    match order {
        DateOrder::Mdy => ymd(year, a, b, text),
        DateOrder::Dmy => ymd(year, b, a, text),
        DateOrder::Ymd | DateOrder::Roc => Err(format!(
            "`{text}` could be day/month/year or month/day/year"
        )),
    }
}

/// The first day of a month: any date that is one, or a month written
/// `2026-10`, `2026/10`, `202610`, `2026年10月`, `115/10`, `11510`,
/// `115年10月` (the last three ROC, as Taiwan's public data writes them).
pub fn parse_month(text: &str, order: DateOrder) -> Result<NaiveDate, Problem> {
    let ascii = to_ascii(text.trim());
    let s = ascii.trim();
    let (roc_marked, rest) = match s.strip_prefix("民國").or_else(|| s.strip_prefix("民国")) {
        Some(rest) => (true, rest.trim()),
        None => (false, s),
    };
    if let Some(parts) = date_parts(rest) {
        let number = |part: &str| part.parse::<i64>().unwrap_or(-1);
        let month = match parts.as_slice() {
            [whole] if whole.len() == 6 && !roc_marked => {
                Some((number(&whole[..4]) as i32, number(&whole[4..]) as u32))
            }
            [whole] if whole.len() == 5 => Some((
                number(&whole[..3]) as i32 + 1911,
                number(&whole[3..]) as u32,
            )),
            [y, m] if y.len() == 4 && !roc_marked => Some((number(y) as i32, number(m) as u32)),
            [y, m] if y.len() == 3 || (roc_marked && y.len() <= 3) => {
                Some((number(y) as i32 + 1911, number(m) as u32))
            }
            _ => None,
        };
        if let Some((year, month)) = month {
            return ymd(year, month, 1, text);
        }
    }
    let date = parse_date(text, order)?;
    if date.day() != 1 {
        return Err(format!("`{text}` is not the first day of a month"));
    }
    Ok(date)
}

/// An instant as `YYYY-MM-DD HH:MM:SS[.ffffff]+00`: the date in any form
/// `parse_date` reads, a time, and a UTC offset (`Z`, `+08`, `+08:00`); a
/// timestamp without an offset is in `offset_seconds` east of UTC.
pub fn parse_timestamp(
    text: &str,
    order: DateOrder,
    offset_seconds: i32,
) -> Result<String, Problem> {
    let ascii = to_ascii(text.trim());
    let s = ascii.trim();
    let not_a_timestamp = || format!("`{text}` is not a timestamp");
    let (date_text, rest) = match s.split_once([' ', 'T']) {
        Some((date, rest)) => (date, rest.trim()),
        None => (s, ""),
    };
    let date = parse_date(date_text, order)?;
    // Split a trailing offset from the time.
    let (time_text, offset) = if rest.is_empty() {
        ("", None)
    } else if let Some(time) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
        (time.trim(), Some(0))
    } else if let Some(at) = rest.rfind(['+', '-']).filter(|at| *at > 0) {
        let zone = &rest[at..];
        let seconds = crate::config::parse_offset(zone).map_err(|_| not_a_timestamp())?;
        (rest[..at].trim(), Some(seconds))
    } else {
        (rest, None)
    };
    let time = if time_text.is_empty() {
        NaiveTime::MIN
    } else {
        ["%H:%M:%S%.f", "%H:%M"]
            .iter()
            .find_map(|format| NaiveTime::parse_from_str(time_text, format).ok())
            .ok_or_else(not_a_timestamp)?
    };
    let local = NaiveDateTime::new(date, time);
    let utc = local - Duration::seconds(offset.unwrap_or(offset_seconds) as i64);
    Ok(utc.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string())
}

/// A word or header folded for comparison: full-width forms made plain,
/// lower case, and spaces, `_`, `-`, `.`, `/` and brackets dropped.
pub fn fold(text: &str) -> String {
    to_ascii(text)
        .chars()
        .filter(|c| {
            !c.is_whitespace() && !matches!(c, '_' | '-' | '.' | '/' | '(' | ')' | '（' | '）')
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> String {
        parse_number(text).unwrap_or_else(|problem| panic!("{problem}"))
    }

    #[test]
    fn numbers_as_written() {
        assert_eq!(number("1,234,567.8900"), "1234567.89");
        assert_eq!(number("957.5775"), "957.5775");
        assert_eq!(number("NT$ 1,200"), "1200");
        assert_eq!(number("1,200元"), "1200");
        assert_eq!(number("(123.00)"), "-123");
        assert_eq!(number("123-"), "-123");
        assert_eq!(number("NT$-1,200"), "-1200");
        assert_eq!(number("１２３．５"), "123.5");
        assert_eq!(number("－１２"), "-12");
        assert_eq!(number("12.5%"), "0.125");
        assert_eq!(number("5%"), "0.05");
        assert_eq!(number("0.3%"), "0.003");
        assert_eq!(number("-0"), "0");
        assert_eq!(number(".5"), "0.5");
        assert_eq!(number("15243.0"), "15243");
        for bad in [
            "1900,50", "12,34", ",123", "1.2.3", "abc", "", "$", "1e5x", "(12",
        ] {
            assert!(parse_number(bad).is_err(), "{bad}");
        }
        assert!(parse_number("0.1234567890123456789").is_err());
    }

    #[test]
    fn plain_numbers_in_units_of_the_scale() {
        let plain = |text: &str, scale| plain_number(text.as_bytes(), scale);
        assert_eq!(plain("220.0464", 4), Some(2_200_464));
        assert_eq!(plain("-220.0464", 4), Some(-2_200_464));
        assert_eq!(plain("957.5", 4), Some(9_575_000));
        assert_eq!(plain("15243", 0), Some(15_243));
        assert_eq!(plain("15243.0", 0), Some(15_243));
        assert_eq!(plain("007.10", 2), Some(710));
        assert_eq!(plain("1.230000", 2), Some(123));
        assert_eq!(plain("-0", 4), Some(0));
        // 17 digits in units fit DECIMAL(18,_); 18 do not.
        assert_eq!(
            plain("99999999999999.9999", 4),
            Some(999_999_999_999_999_999)
        );
        assert_eq!(plain("100000000000000", 4), None);
        assert_eq!(
            plain("999999999999999999", 0),
            Some(999_999_999_999_999_999)
        );
        assert_eq!(plain("1000000000000000000", 0), None);
        assert_eq!(plain("99999999999999999999999", 0), None);
        // A decimal the scale cannot hold is not rounded; other spellings
        // are left to `parse_number` and DuckDB's cast.
        for other in [
            "15243.5",
            "220.04641",
            "",
            "-",
            ".5",
            "5.",
            "+5",
            " 5",
            "5 ",
            "1e5",
            "1,200",
            "1.2.3",
            "--5",
            "-.5",
            "１２",
        ] {
            let scale = if other == "15243.5" { 0 } else { 4 };
            assert_eq!(plain(other, scale), None, "{other}");
        }
    }

    #[test]
    fn iso_dates_in_days_since_1970() {
        let days = |text: &str| iso_date_days(text.as_bytes());
        assert_eq!(days("1970-01-01"), Some(0));
        assert_eq!(days("1970-01-02"), Some(1));
        assert_eq!(days("1969-12-31"), Some(-1));
        // 2000-03-01: 30 years of 365 days, 7 leap days (72…96), Jan + Feb 2000.
        assert_eq!(days("2000-03-01"), Some(30 * 365 + 7 + 31 + 29));
        assert_eq!(days("2024-02-29"), Some(19_782));
        for other in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-03",
            "2026/10/03",
            "105/11/08",
            "2026-10-03 ",
            "２０２６-10-03",
            "2026-10-0x",
            "",
        ] {
            assert_eq!(days(other), None, "{other}");
        }
    }

    fn date(text: &str, order: DateOrder) -> String {
        parse_date(text, order)
            .unwrap_or_else(|problem| panic!("{problem}"))
            .to_string()
    }

    #[test]
    fn dates_as_written() {
        let ymd = DateOrder::Ymd;
        assert_eq!(date("2026-10-03", ymd), "2026-10-03");
        assert_eq!(date("2026/10/3", ymd), "2026-10-03");
        assert_eq!(date("2026.10.03", ymd), "2026-10-03");
        assert_eq!(date("2026年10月3日", ymd), "2026-10-03");
        assert_eq!(date("20261003", ymd), "2026-10-03");
        assert_eq!(date("2026-10-03 00:00:00", ymd), "2026-10-03");
        // Republic of China years: 115 + 1911 = 2026, 105 + 1911 = 2016.
        assert_eq!(date("115/10/03", ymd), "2026-10-03");
        assert_eq!(date("105/11/08", ymd), "2016-11-08");
        assert_eq!(date("民國115年10月3日", ymd), "2026-10-03");
        assert_eq!(date("115年10月3日", ymd), "2026-10-03");
        assert_eq!(date("1151003", ymd), "2026-10-03");
        assert_eq!(date("１１５／１０／０３", ymd), "2026-10-03");
        assert_eq!(date("民國99年12月31日", ymd), "2010-12-31");
        assert_eq!(date("99/12/31", DateOrder::Roc), "2010-12-31");
        // Excel: serial 45933 is 2025-10-03 (45658 is 2025-01-01, + 275 days).
        assert_eq!(date("45933", ymd), "2025-10-03");
        assert_eq!(date("10/03/2026", DateOrder::Mdy), "2026-10-03");
        assert_eq!(date("10/03/2026", DateOrder::Dmy), "2026-03-10");
        for (bad, why) in [
            ("10/03/2026", "could be day/month/year"),
            ("16/11/08", "two-digit year"),
            ("2023-02-30", "not a calendar date"),
            ("115/13/01", "not a calendar date"),
            ("next tuesday", "not a date"),
            ("2026-10", "not a date"),
        ] {
            let problem = parse_date(bad, ymd).unwrap_err();
            assert!(problem.contains(why), "{bad}: {problem}");
        }
    }

    #[test]
    fn months_as_written() {
        let month = |text| parse_month(text, DateOrder::Ymd).map(|d| d.to_string());
        assert_eq!(month("2026-10-01").unwrap(), "2026-10-01");
        assert_eq!(month("2026-10").unwrap(), "2026-10-01");
        assert_eq!(month("202610").unwrap(), "2026-10-01");
        assert_eq!(month("2026年10月").unwrap(), "2026-10-01");
        assert_eq!(month("115/10").unwrap(), "2026-10-01");
        assert_eq!(month("112/12").unwrap(), "2023-12-01");
        // MOPS open data writes months as five digits: ROC 115, July.
        assert_eq!(month("11507").unwrap(), "2026-07-01");
        assert_eq!(month("民國115年10月").unwrap(), "2026-10-01");
        assert!(month("2026-10-15").unwrap_err().contains("first day"));
        assert!(month("2026-13").is_err());
    }

    #[test]
    fn timestamps_as_written() {
        let ts = |text, offset| parse_timestamp(text, DateOrder::Ymd, offset).unwrap();
        assert_eq!(
            ts("2026-10-31 14:05:00+08", 0),
            "2026-10-31 06:05:00.000000+00"
        );
        assert_eq!(
            ts("2026-10-31T14:05:00Z", 8 * 3600),
            "2026-10-31 14:05:00.000000+00"
        );
        // Without an offset: the source's zone, here UTC+8.
        assert_eq!(
            ts("2026/10/31 14:05", 8 * 3600),
            "2026-10-31 06:05:00.000000+00"
        );
        assert_eq!(
            ts("115/10/31 14:05:30.25", 0),
            "2026-10-31 14:05:30.250000+00"
        );
        assert_eq!(
            ts("2026-10-31 01:00:00-05:00", 0),
            "2026-10-31 06:00:00.000000+00"
        );
        assert_eq!(ts("2026-11-01", 8 * 3600), "2026-10-31 16:00:00.000000+00");
        assert!(parse_timestamp("2026-10-31 25:00", DateOrder::Ymd, 0).is_err());
    }

    #[test]
    fn folding_makes_header_spellings_one() {
        assert_eq!(fold("Order ID"), "orderid");
        assert_eq!(fold("order_id"), "orderid");
        assert_eq!(fold("ＯＲＤＥＲ　ＩＤ"), "orderid");
        assert_eq!(fold(" 訂單編號 "), "訂單編號");
        assert_eq!(fold("Sub-Category"), "subcategory");
    }
}
