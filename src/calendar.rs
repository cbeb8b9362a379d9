//! Periods, grains and the windows that comparisons are computed over.
//!
//! Every comparison is made on the calendar, never by row offset: the
//! previous period of October is September whatever rows exist, last year's
//! 31 March is 31 March, and a period that has not ended by the as-of date is
//! cut at that date and compared with the same stretch of its comparison
//! period. Nothing here reads the clock: the as-of date is always passed in.

use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

use crate::error::{Error, Result};

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    Day,
    Week,
    Month,
    Quarter,
    Year,
    FiscalYear,
}

impl Grain {
    pub const ALL: [Grain; 6] = [
        Grain::Day,
        Grain::Week,
        Grain::Month,
        Grain::Quarter,
        Grain::Year,
        Grain::FiscalYear,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
            Grain::FiscalYear => "fiscal_year",
        }
    }

    pub fn parse(text: &str) -> Result<Grain> {
        Grain::ALL
            .into_iter()
            .find(|grain| grain.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Grain::ALL.iter().map(|grain| grain.name()).collect();
                Error::config_hint(
                    format!("unknown grain `{text}`"),
                    format!("use one of {}", names.join(", ")),
                )
            })
    }
}

/// One calendar period: a day, ISO week, month, quarter, year or fiscal year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Day(NaiveDate),
    Week {
        iso_year: i32,
        week: u32,
    },
    Month {
        year: i32,
        month: u32,
    },
    Quarter {
        year: i32,
        quarter: u32,
    },
    Year(i32),
    /// Named after the calendar year it ends in: with April as first month,
    /// FY2026 runs from 2025-04-01 to 2026-03-31.
    FiscalYear {
        year: i32,
        first_month: u32,
    },
}

impl Period {
    /// Parses `2026-10-31`, `2026-W44`, `2026-10`, `2026-Q4`, `2026` or
    /// `FY2026`; the grain follows from the shape.
    pub fn parse(text: &str, fiscal_first_month: u32) -> Result<Period> {
        let bad = || {
            Error::config_hint(
                format!("cannot read period `{text}`"),
                "write a day `2026-10-31`, week `2026-W44`, month `2026-10`, quarter `2026-Q4`, year `2026` or fiscal year `FY2026`",
            )
        };
        let text = text.trim();
        let number = |s: &str| s.parse::<u32>().map_err(|_| bad());
        let year = |s: &str| {
            if s.len() == 4 {
                s.parse::<i32>().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let period = if let Some(rest) = text.strip_prefix("FY") {
            Period::FiscalYear {
                year: year(rest)?,
                first_month: fiscal_first_month,
            }
        } else if let Some((y, q)) = text.split_once("-Q") {
            let quarter = number(q)?;
            if !(1..=4).contains(&quarter) {
                return Err(bad());
            }
            Period::Quarter {
                year: year(y)?,
                quarter,
            }
        } else if let Some((y, w)) = text.split_once("-W") {
            let iso_year = year(y)?;
            let week = number(w)?;
            NaiveDate::from_isoywd_opt(iso_year, week, Weekday::Mon).ok_or_else(bad)?;
            Period::Week { iso_year, week }
        } else {
            match text.split('-').count() {
                1 => Period::Year(year(text)?),
                2 => {
                    let (y, m) = text.split_once('-').ok_or_else(bad)?;
                    let month = number(m)?;
                    if !(1..=12).contains(&month) || m.len() != 2 {
                        return Err(bad());
                    }
                    Period::Month {
                        year: year(y)?,
                        month,
                    }
                }
                3 => Period::Day(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad())?),
                _ => return Err(bad()),
            }
        };
        Ok(period)
    }

    /// The period of `grain` that contains `date`.
    pub fn containing(grain: Grain, date: NaiveDate, fiscal_first_month: u32) -> Period {
        match grain {
            Grain::Day => Period::Day(date),
            Grain::Week => {
                let week = date.iso_week();
                Period::Week {
                    iso_year: week.year(),
                    week: week.week(),
                }
            }
            Grain::Month => Period::Month {
                year: date.year(),
                month: date.month(),
            },
            Grain::Quarter => Period::Quarter {
                year: date.year(),
                quarter: (date.month() - 1) / 3 + 1,
            },
            Grain::Year => Period::Year(date.year()),
            Grain::FiscalYear => {
                let year = if fiscal_first_month > 1 && date.month() >= fiscal_first_month {
                    date.year() + 1
                } else {
                    date.year()
                };
                Period::FiscalYear {
                    year,
                    first_month: fiscal_first_month,
                }
            }
        }
    }

    /// The last period of `grain` that is complete on `as_of`.
    pub fn last_complete(grain: Grain, as_of: NaiveDate, fiscal_first_month: u32) -> Period {
        let period = Period::containing(grain, as_of, fiscal_first_month);
        if period.end() == as_of {
            period
        } else {
            period.previous()
        }
    }

    pub fn grain(&self) -> Grain {
        match self {
            Period::Day(_) => Grain::Day,
            Period::Week { .. } => Grain::Week,
            Period::Month { .. } => Grain::Month,
            Period::Quarter { .. } => Grain::Quarter,
            Period::Year(_) => Grain::Year,
            Period::FiscalYear { .. } => Grain::FiscalYear,
        }
    }

    /// First day of the period.
    pub fn start(&self) -> NaiveDate {
        match *self {
            Period::Day(day) => day,
            Period::Week { iso_year, week } => {
                NaiveDate::from_isoywd_opt(iso_year, week, Weekday::Mon).expect("validated week")
            }
            Period::Month { year, month } => ymd(year, month, 1),
            Period::Quarter { year, quarter } => ymd(year, (quarter - 1) * 3 + 1, 1),
            Period::Year(year) => ymd(year, 1, 1),
            Period::FiscalYear { year, first_month } => {
                if first_month <= 1 {
                    ymd(year, 1, 1)
                } else {
                    ymd(year - 1, first_month, 1)
                }
            }
        }
    }

    /// Last day of the period (inclusive).
    pub fn end(&self) -> NaiveDate {
        let after = match *self {
            Period::Day(day) => day + Days::new(1),
            Period::Week { .. } => self.start() + Days::new(7),
            Period::Month { .. } => self.start() + Months::new(1),
            Period::Quarter { .. } => self.start() + Months::new(3),
            Period::Year(_) | Period::FiscalYear { .. } => self.start() + Months::new(12),
        };
        after - Days::new(1)
    }

    /// The period of the same grain just before this one.
    pub fn previous(&self) -> Period {
        let day_before = self.start() - Days::new(1);
        Period::containing(self.grain(), day_before, self.fiscal_first_month())
    }

    /// The same period `years` years earlier (calendar-aligned), if it exists
    /// (an ISO week 53 has no counterpart in a 52-week year).
    pub fn years_back(&self, years: u32) -> Option<Period> {
        let years_i = years as i32;
        Some(match *self {
            Period::Day(day) => Period::Day(shift_years(day, years)),
            Period::Week { iso_year, week } => {
                NaiveDate::from_isoywd_opt(iso_year - years_i, week, Weekday::Mon)?;
                Period::Week {
                    iso_year: iso_year - years_i,
                    week,
                }
            }
            Period::Month { year, month } => Period::Month {
                year: year - years_i,
                month,
            },
            Period::Quarter { year, quarter } => Period::Quarter {
                year: year - years_i,
                quarter,
            },
            Period::Year(year) => Period::Year(year - years_i),
            Period::FiscalYear { year, first_month } => Period::FiscalYear {
                year: year - years_i,
                first_month,
            },
        })
    }

    /// This period and the `count - 1` before it, oldest first.
    pub fn series(&self, count: usize) -> Vec<Period> {
        let mut periods = vec![*self];
        for _ in 1..count {
            let earlier = periods.last().expect("not empty").previous();
            periods.push(earlier);
        }
        periods.reverse();
        periods
    }

    fn fiscal_first_month(&self) -> u32 {
        match self {
            Period::FiscalYear { first_month, .. } => *first_month,
            _ => 1,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Day(day) => write!(f, "{}", day.format("%Y-%m-%d")),
            Period::Week { iso_year, week } => write!(f, "{iso_year}-W{week:02}"),
            Period::Month { year, month } => write!(f, "{year}-{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
            Period::Year(year) => write!(f, "{year}"),
            Period::FiscalYear { year, .. } => write!(f, "FY{year}"),
        }
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid calendar date")
}

/// The same calendar day `years` years earlier; 29 February becomes 28 February.
pub fn shift_years(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(12 * years))
        .expect("date in range")
}

/// An inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Window {
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
}

/// A period together with the days of it that count: all of them, or for a
/// period still running at the as-of date, the days up to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    pub period: Period,
    pub window: Window,
}

impl Slot {
    /// The slot for `period` as seen on `as_of`. A period that has not begun
    /// is an error: there is nothing to say about it yet.
    pub fn new(period: Period, as_of: NaiveDate) -> Result<Slot> {
        if period.start() > as_of {
            return Err(Error::config_hint(
                format!("period `{period}` has not begun on the as-of date {as_of}"),
                "pick an earlier period, or pass a later `--as-of` date",
            ));
        }
        Ok(Slot::cut(period, as_of))
    }

    /// The whole of `period`, or its days up to `last_day`.
    fn cut(period: Period, last_day: NaiveDate) -> Slot {
        let window = Window {
            start: period.start(),
            end: period.end().min(last_day),
        };
        Slot { period, window }
    }

    /// Whether the period has days after the window (not yet complete).
    pub fn is_partial(&self) -> bool {
        self.window.end < self.period.end()
    }

    fn is_whole(&self) -> bool {
        self.window.start == self.period.start() && self.window.end == self.period.end()
    }

    /// The previous period, cut to the same number of days when this one is partial.
    pub fn previous(&self) -> Slot {
        let period = self.period.previous();
        if self.is_whole() {
            return Slot::cut(period, period.end());
        }
        let elapsed = (self.window.end - self.window.start).num_days() as u64;
        Slot::cut(period, period.start() + Days::new(elapsed))
    }

    /// The same slot `years` years back, calendar-aligned: a whole period maps
    /// to the whole period, a cut one to the same calendar days.
    pub fn years_back(&self, years: u32) -> Option<Slot> {
        let period = self.period.years_back(years)?;
        if self.is_whole() {
            return Some(Slot::cut(period, period.end()));
        }
        let window = Window {
            start: shift_years(self.window.start, years),
            end: shift_years(self.window.end, years),
        };
        Some(Slot { period, window })
    }

    /// From the first day of the (fiscal) year that holds this slot's last
    /// day, up to that day.
    pub fn year_to_date(&self, fiscal_first_month: u32) -> Slot {
        let year = Period::containing(Grain::FiscalYear, self.window.end, fiscal_first_month);
        Slot {
            period: self.period,
            window: Window {
                start: year.start(),
                end: self.window.end,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn parses_every_shape_and_prints_it_back() {
        for text in [
            "2026-10-31",
            "2026-W44",
            "2026-10",
            "2026-Q4",
            "2026",
            "FY2026",
        ] {
            assert_eq!(Period::parse(text, 1).unwrap().to_string(), text);
        }
        for bad in [
            "2026-13", "2026-Q5", "26-10", "2026-W54", "FY26", "October", "2026-1",
        ] {
            assert!(Period::parse(bad, 1).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn fiscal_year_is_named_after_the_year_it_ends_in() {
        let fy = Period::parse("FY2026", 4).unwrap();
        assert_eq!((fy.start(), fy.end()), (d("2025-04-01"), d("2026-03-31")));
        assert_eq!(
            Period::containing(Grain::FiscalYear, d("2025-04-01"), 4),
            fy
        );
        assert_eq!(
            Period::containing(Grain::FiscalYear, d("2026-03-31"), 4),
            fy
        );
    }

    #[test]
    fn previous_crosses_year_and_quarter_boundaries() {
        assert_eq!(
            Period::parse("2026-01", 1).unwrap().previous().to_string(),
            "2025-12"
        );
        assert_eq!(
            Period::parse("2026-Q1", 1).unwrap().previous().to_string(),
            "2025-Q4"
        );
        assert_eq!(
            Period::parse("2026-W01", 1).unwrap().previous().to_string(),
            "2025-W52"
        );
        assert_eq!(
            Period::parse("2024-03-01", 1)
                .unwrap()
                .previous()
                .to_string(),
            "2024-02-29"
        );
    }

    #[test]
    fn last_year_is_calendar_aligned_not_a_day_offset() {
        // 31 March 2024 compares with 31 March 2023, although 2024 is a leap year
        // (a 365-day offset would land on 1 April 2023).
        let slot = Slot::new(Period::parse("2024-03-31", 1).unwrap(), d("2024-12-31")).unwrap();
        assert_eq!(
            slot.years_back(1).unwrap().window,
            Window {
                start: d("2023-03-31"),
                end: d("2023-03-31")
            }
        );
        // 29 February has no twin: it compares with 28 February.
        let leap = Slot::new(Period::parse("2024-02-29", 1).unwrap(), d("2024-12-31")).unwrap();
        assert_eq!(leap.years_back(1).unwrap().window.start, d("2023-02-28"));
        // The whole of February 2024 (29 days) compares with the whole of February 2023.
        let feb = Slot::new(Period::parse("2024-02", 1).unwrap(), d("2024-12-31")).unwrap();
        assert_eq!(
            feb.years_back(1).unwrap().window,
            Window {
                start: d("2023-02-01"),
                end: d("2023-02-28")
            }
        );
    }

    #[test]
    fn a_running_period_is_cut_and_compared_like_for_like() {
        let slot = Slot::new(Period::parse("2026-10", 1).unwrap(), d("2026-10-15")).unwrap();
        assert!(slot.is_partial());
        assert_eq!(slot.window.days(), 15);
        assert_eq!(
            slot.previous().window,
            Window {
                start: d("2026-09-01"),
                end: d("2026-09-15")
            }
        );
        assert_eq!(
            slot.years_back(1).unwrap().window,
            Window {
                start: d("2025-10-01"),
                end: d("2025-10-15")
            }
        );
        assert!(Slot::new(Period::parse("2026-11", 1).unwrap(), d("2026-10-15")).is_err());
    }

    #[test]
    fn year_to_date_follows_the_fiscal_year() {
        let slot = Slot::new(Period::parse("2026-10", 4).unwrap(), d("2026-12-31")).unwrap();
        assert_eq!(
            slot.year_to_date(4).window,
            Window {
                start: d("2026-04-01"),
                end: d("2026-10-31")
            }
        );
        assert_eq!(slot.year_to_date(1).window.start, d("2026-01-01"));
    }

    #[test]
    fn week_53_has_no_counterpart_in_a_52_week_year() {
        // ISO 2020 has 53 weeks, 2019 has 52.
        assert!(Period::parse("2020-W53", 1)
            .unwrap()
            .years_back(1)
            .is_none());
    }

    #[test]
    fn series_runs_oldest_first() {
        let labels: Vec<String> = Period::parse("2026-02", 1)
            .unwrap()
            .series(3)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(labels, ["2025-12", "2026-01", "2026-02"]);
    }
}
