//! The retail calendar: years of whole weeks, each quarter 13 weeks split into
//! months of 4-5-4 (or 4-4-5, 5-4-4) weeks, so that every period starts on the
//! same weekday and compares with a period of the same days of the week.
//!
//! A retail year ends on a fixed weekday at the end of a fixed month: the last
//! such weekday of the month, or the one nearest the month's last day (the
//! NRF calendar: the Saturday nearest 31 January). Years therefore have 52
//! weeks, or 53 when the drift of a day a year (two in a leap year) has added
//! up to a week; the 53rd week goes to the last month of the year, which then
//! has one week more than its pattern says.
//!
//! A year is named after the calendar year its first week ends in: with the
//! NRF calendar, R2026 runs from Sunday 1 February 2026 to Saturday 30 January
//! 2027.

use std::fmt;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a retail calendar is laid out; `[calendar]` in `opskpi.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Retail {
    /// Weeks of the three months of each quarter: [4, 5, 4], [4, 4, 5] or [5, 4, 4].
    pub pattern: [u8; 3],
    /// The month the year ends in, 1 (January) to 12.
    pub end_month: u32,
    /// The weekday the year ends on, days from Monday (5 = Saturday).
    pub end_weekday: u32,
    pub rule: YearEnd,
}

/// Which of the end weekdays closes the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YearEnd {
    /// The last such weekday of the end month.
    Last,
    /// The such weekday nearest the end month's last day (up to 3 days after it).
    Nearest,
}

/// A part of a retail year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Week(u32),
    Month(u32),
    Quarter(u32),
    Year,
}

impl Retail {
    /// The NRF 4-5-4 calendar: years end on the Saturday nearest 31 January.
    pub const NRF: Retail = Retail {
        pattern: [4, 5, 4],
        end_month: 1,
        end_weekday: 5,
        rule: YearEnd::Nearest,
    };

    /// Builds a calendar from the words of the config, checking each.
    pub fn new(pattern: &str, end_month: u32, end_weekday: &str, rule: YearEnd) -> Result<Retail> {
        let pattern =
            match pattern {
                "4-5-4" => [4, 5, 4],
                "4-4-5" => [4, 4, 5],
                "5-4-4" => [5, 4, 4],
                other => return Err(Error::config_hint(
                    format!("unknown retail pattern `{other}`"),
                    "write `4-5-4`, `4-4-5` or `5-4-4` (weeks of the three months of a quarter)",
                )),
            };
        if !(1..=12).contains(&end_month) {
            return Err(Error::config_hint(
                format!("`calendar.year_end_month` is {end_month}"),
                "give the month the retail year ends in, 1 (January) to 12",
            ));
        }
        let weekday: Weekday = end_weekday.parse().map_err(|_| {
            Error::config_hint(
                format!("`calendar.year_end_weekday` is `{end_weekday}`"),
                "write a weekday in English, such as `saturday`",
            )
        })?;
        Ok(Retail {
            pattern,
            end_month,
            end_weekday: weekday.num_days_from_monday(),
            rule,
        })
    }

    /// The last day of retail year `year`.
    pub fn year_end(&self, year: i32) -> NaiveDate {
        let in_year = if self.end_month == 12 { year } else { year + 1 };
        let last = if self.end_month == 12 {
            ymd(in_year, 12, 31)
        } else {
            ymd(in_year, self.end_month + 1, 1) - Days::new(1)
        };
        let back = (last.weekday().num_days_from_monday() + 7 - self.end_weekday) % 7;
        let on_or_before = last - Days::new(u64::from(back));
        match self.rule {
            YearEnd::Nearest if back > 3 => on_or_before + Days::new(7),
            _ => on_or_before,
        }
    }

    /// The first day of retail year `year`.
    pub fn year_start(&self, year: i32) -> NaiveDate {
        self.year_end(year - 1) + Days::new(1)
    }

    /// 52, or 53 in a long year.
    pub fn weeks(&self, year: i32) -> u32 {
        ((self.year_end(year) - self.year_start(year)).num_days() as u32 + 1) / 7
    }

    /// The retail year holding `date`.
    pub fn year_of(&self, date: NaiveDate) -> i32 {
        let mut year = if self.end_month == 12 {
            date.year()
        } else {
            date.year() - 1
        };
        while date > self.year_end(year) {
            year += 1;
        }
        while date < self.year_start(year) {
            year -= 1;
        }
        year
    }

    /// Weeks before month `month` (1–12) in its year.
    fn weeks_before_month(&self, month: u32) -> u32 {
        let quarter = (month - 1) / 3;
        let within: u32 = self.pattern[..((month - 1) % 3) as usize]
            .iter()
            .map(|&w| u32::from(w))
            .sum();
        quarter * 13 + within
    }

    /// The first and last week (1-based, inclusive) of a part of year `year`.
    fn weeks_of(&self, year: i32, part: Part) -> (u32, u32) {
        let last_week = self.weeks(year);
        match part {
            Part::Week(week) => (week, week),
            Part::Month(month) => {
                let first = self.weeks_before_month(month) + 1;
                let last = if month == 12 {
                    last_week
                } else {
                    self.weeks_before_month(month + 1)
                };
                (first, last)
            }
            Part::Quarter(quarter) => {
                let first = (quarter - 1) * 13 + 1;
                (
                    first,
                    if quarter == 4 {
                        last_week
                    } else {
                        quarter * 13
                    },
                )
            }
            Part::Year => (1, last_week),
        }
    }

    /// First and last day of a part of year `year`.
    pub fn bounds(&self, year: i32, part: Part) -> (NaiveDate, NaiveDate) {
        let (first, last) = self.weeks_of(year, part);
        let start = self.year_start(year);
        (
            start + Days::new(u64::from(first - 1) * 7),
            start + Days::new(u64::from(last) * 7 - 1),
        )
    }

    /// The part of the kind of `like` that holds `date`, with its year.
    pub fn containing(&self, like: Part, date: NaiveDate) -> (i32, Part) {
        let year = self.year_of(date);
        let week = (date - self.year_start(year)).num_days() as u32 / 7 + 1;
        let part = match like {
            Part::Week(_) => Part::Week(week),
            Part::Month(_) => Part::Month(
                (1..=12)
                    .rev()
                    .find(|&m| self.weeks_before_month(m) < week)
                    .expect("week 1 is in month 1"),
            ),
            Part::Quarter(_) => Part::Quarter(((week - 1) / 13 + 1).min(4)),
            Part::Year => Part::Year,
        };
        (year, part)
    }

    /// Whether `part` exists in year `year` (week 53 only in a long year).
    pub fn exists(&self, year: i32, part: Part) -> bool {
        match part {
            Part::Week(week) => (1..=self.weeks(year)).contains(&week),
            Part::Month(month) => (1..=12).contains(&month),
            Part::Quarter(quarter) => (1..=4).contains(&quarter),
            Part::Year => true,
        }
    }

    /// The same day of the retail year `years` years earlier: the same week
    /// and weekday; the 53rd week of a long year becomes the last day of a
    /// short one.
    pub fn shift_years(&self, date: NaiveDate, years: u32) -> NaiveDate {
        let year = self.year_of(date);
        let offset = (date - self.year_start(year)).num_days() as u64;
        let earlier = year - years as i32;
        (self.year_start(earlier) + Days::new(offset)).min(self.year_end(earlier))
    }

    /// Like `shift_years` for the first day of a stretch: the day after the
    /// 53rd week of a long year becomes the first day of the next year.
    pub fn shift_start(&self, date: NaiveDate, years: u32) -> NaiveDate {
        let year = self.year_of(date);
        let offset = (date - self.year_start(year)).num_days() as u64;
        let earlier = year - years as i32;
        (self.year_start(earlier) + Days::new(offset)).min(self.year_start(earlier + 1))
    }
}

impl fmt::Display for Retail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c] = self.pattern;
        write!(f, "{a}-{b}-{c}")
    }
}

/// Parses `R2026`, `R2026-Q3`, `R2026-M10` or `R2026-W05` (already without
/// the `R`); `None` when it is not that shape.
pub fn parse(text: &str) -> Option<(i32, Part)> {
    let number = |s: &str| s.parse::<u32>().ok().filter(|_| s.len() <= 2);
    let (year, part) = match text.split_once('-') {
        None => (text, Part::Year),
        Some((year, rest)) => {
            let part = if let Some(q) = rest.strip_prefix('Q') {
                Part::Quarter(number(q).filter(|q| (1..=4).contains(q))?)
            } else if let Some(m) = rest.strip_prefix('M') {
                Part::Month(number(m).filter(|m| (1..=12).contains(m))?)
            } else if let Some(w) = rest.strip_prefix('W') {
                Part::Week(number(w).filter(|w| (1..=53).contains(w))?)
            } else {
                return None;
            };
            (year, part)
        }
    };
    if year.len() != 4 {
        return None;
    }
    Some((year.parse().ok()?, part))
}

pub fn label(year: i32, part: Part) -> String {
    match part {
        Part::Week(week) => format!("R{year}-W{week:02}"),
        Part::Month(month) => format!("R{year}-M{month:02}"),
        Part::Quarter(quarter) => format!("R{year}-Q{quarter}"),
        Part::Year => format!("R{year}"),
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid calendar date")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn nrf_years_match_the_published_calendar() {
        // NRF 4-5-4: fiscal 2023 ran 29 Jan 2023 – 3 Feb 2024 (53 weeks),
        // fiscal 2024 runs 4 Feb 2024 – 1 Feb 2025 (52 weeks).
        let nrf = Retail::NRF;
        assert_eq!(nrf.year_start(2023), d("2023-01-29"));
        assert_eq!(nrf.year_end(2023), d("2024-02-03"));
        assert_eq!(nrf.weeks(2023), 53);
        assert_eq!(
            nrf.bounds(2024, Part::Year),
            (d("2024-02-04"), d("2025-02-01"))
        );
        assert_eq!(nrf.weeks(2024), 52);
        // February 2024 is 4 weeks, March 5, April 4.
        assert_eq!(
            nrf.bounds(2024, Part::Month(1)),
            (d("2024-02-04"), d("2024-03-02"))
        );
        assert_eq!(
            nrf.bounds(2024, Part::Month(2)),
            (d("2024-03-03"), d("2024-04-06"))
        );
        // In the 53-week year the last month has 5 weeks.
        assert_eq!(
            nrf.bounds(2023, Part::Month(12)),
            (d("2023-12-31"), d("2024-02-03"))
        );
        assert_eq!(
            nrf.containing(Part::Month(1), d("2024-02-03")),
            (2023, Part::Month(12))
        );
        assert_eq!(
            nrf.containing(Part::Week(1), d("2024-02-03")),
            (2023, Part::Week(53))
        );
    }

    #[test]
    fn last_weekday_rule_and_december_years() {
        // Ends on the last Saturday of December: 2026's is the 26th.
        let cal = Retail::new("4-4-5", 12, "saturday", YearEnd::Last).unwrap();
        assert_eq!(cal.year_end(2026), d("2026-12-26"));
        assert_eq!(cal.year_start(2026), d("2025-12-28"));
        assert_eq!(
            cal.bounds(2026, Part::Quarter(1)),
            (d("2025-12-28"), d("2026-03-28"))
        );
        assert_eq!(
            cal.bounds(2026, Part::Month(3)),
            (d("2026-02-22"), d("2026-03-28"))
        );
    }

    #[test]
    fn reads_and_writes_its_notation() {
        for text in ["2026", "2026-Q3", "2026-M10", "2026-W05", "2026-W53"] {
            let (year, part) = parse(text).unwrap();
            assert_eq!(label(year, part), format!("R{text}"));
        }
        for bad in [
            "2026-M13", "2026-Q0", "2026-W54", "26-M01", "2026-X1", "2026-M1x",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(Retail::new("4-4-4", 1, "saturday", YearEnd::Last).is_err());
        assert!(Retail::new("4-5-4", 1, "caturday", YearEnd::Last).is_err());
    }
}
