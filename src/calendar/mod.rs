//! Periods, grains and the windows that comparisons are computed over.
//!
//! Every comparison is made on the calendar, never by row offset: the
//! previous period of October is September whatever rows exist, last year's
//! 31 March is 31 March, and a period that has not ended by the as-of date is
//! cut at that date and compared with the same stretch of its comparison
//! period. Nothing here reads the clock: the as-of date is always passed in.
//!
//! Two calendars: the Gregorian one with an optional fiscal year, and the
//! retail calendar of whole weeks (`retail.rs`) when a project sets one.

use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

use crate::error::{Error, Result};

pub mod retail;
mod slot;

pub use retail::{Part, Retail, YearEnd};
pub use slot::{Slot, Window};

/// The calendars a project counts in: the first month of its fiscal year,
/// and its retail calendar if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Calendar {
    pub fiscal_first_month: u32,
    pub retail: Option<Retail>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar::from(1)
    }
}

/// A Gregorian calendar whose fiscal year starts in the given month.
impl From<u32> for Calendar {
    fn from(fiscal_first_month: u32) -> Self {
        Calendar {
            fiscal_first_month,
            retail: None,
        }
    }
}

impl Calendar {
    fn retail_or_error(&self, what: &str) -> Result<Retail> {
        self.retail.ok_or_else(|| {
            Error::config_hint(
                format!("{what} needs a retail calendar, and this project has none"),
                "set one in opskpi.toml: `[calendar]` with `retail = \"4-5-4\"` (docs/configuration.md: [calendar])",
            )
        })
    }

    /// The grain a project's weeks, months, quarters and years are counted
    /// in by default: the retail calendar's when it has one; years are
    /// fiscal years when the fiscal year does not start in January.
    pub fn default_grain(&self, like: Grain) -> Grain {
        let retail = self.retail.is_some();
        match like {
            Grain::Week | Grain::RetailWeek if retail => Grain::RetailWeek,
            Grain::Month | Grain::RetailMonth if retail => Grain::RetailMonth,
            Grain::Quarter | Grain::RetailQuarter if retail => Grain::RetailQuarter,
            Grain::Year | Grain::FiscalYear | Grain::RetailYear if retail => Grain::RetailYear,
            Grain::Year | Grain::FiscalYear if self.fiscal_first_month != 1 => Grain::FiscalYear,
            Grain::Year | Grain::FiscalYear => Grain::Year,
            other => other,
        }
    }

    /// Refuses a retail grain when the project has no retail calendar.
    pub fn check_grain(&self, grain: Grain) -> Result<()> {
        if grain.is_retail() {
            self.retail_or_error(&format!("grain `{}`", grain.name()))?;
        }
        Ok(())
    }
}

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
    RetailWeek,
    RetailMonth,
    RetailQuarter,
    RetailYear,
}

impl Grain {
    pub const ALL: [Grain; 10] = [
        Grain::Day,
        Grain::Week,
        Grain::Month,
        Grain::Quarter,
        Grain::Year,
        Grain::FiscalYear,
        Grain::RetailWeek,
        Grain::RetailMonth,
        Grain::RetailQuarter,
        Grain::RetailYear,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
            Grain::FiscalYear => "fiscal_year",
            Grain::RetailWeek => "retail_week",
            Grain::RetailMonth => "retail_month",
            Grain::RetailQuarter => "retail_quarter",
            Grain::RetailYear => "retail_year",
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

    pub fn is_retail(self) -> bool {
        self.retail_part().is_some()
    }

    /// The kind of retail part this grain counts in (the number is a placeholder).
    fn retail_part(self) -> Option<Part> {
        match self {
            Grain::RetailWeek => Some(Part::Week(1)),
            Grain::RetailMonth => Some(Part::Month(1)),
            Grain::RetailQuarter => Some(Part::Quarter(1)),
            Grain::RetailYear => Some(Part::Year),
            _ => None,
        }
    }
}

/// The first and last years opskpi counts in: a date of data or a period
/// outside them is a mistake (a year written in another era), and the
/// calendar arithmetic around them (last year, the next day) stays far
/// from the ends of the dates a computer can hold.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2199;

/// Refuses a date outside `FIRST_YEAR`–`LAST_YEAR`; `what` names it.
pub fn check_year(date: NaiveDate, what: &str) -> Result<()> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
        return Ok(());
    }
    Err(Error::config_hint(
        format!("{what} lies outside the years {FIRST_YEAR}–{LAST_YEAR}"),
        format!("opskpi counts from {FIRST_YEAR} to {LAST_YEAR}: check the year"),
    ))
}

/// One calendar period: a day, ISO week, month, quarter, year or fiscal
/// year, or a week, month, quarter or year of a retail calendar.
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
    /// A part of retail year `year` (see `retail.rs` for how years are named).
    Retail {
        year: i32,
        part: Part,
        calendar: Retail,
    },
}

impl Period {
    /// Parses `2026-10-31`, `2026-W44`, `2026-10`, `2026-Q4`, `2026`,
    /// `FY2026`, or in the retail calendar `R2026-W05`, `R2026-M10`,
    /// `R2026-Q3`, `R2026`; the grain follows from the shape.
    pub fn parse(text: &str, calendar: impl Into<Calendar>) -> Result<Period> {
        let calendar = calendar.into();
        let bad = || {
            Error::config_hint(
                format!("cannot read period `{text}`"),
                "write a day `2026-10-31`, week `2026-W44`, month `2026-10`, quarter `2026-Q4`, year `2026` or fiscal year `FY2026`; in a retail calendar `R2026-M10`, `R2026-W05`, `R2026-Q3` or `R2026`",
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
                first_month: calendar.fiscal_first_month,
            }
        } else if let Some(rest) = text.strip_prefix('R') {
            let (year, part) = retail::parse(rest).ok_or_else(bad)?;
            let retail = calendar.retail_or_error(&format!("period `{text}`"))?;
            if !retail.exists(year, part) {
                return Err(Error::config_hint(
                    format!("retail year R{year} has {} weeks", retail.weeks(year)),
                    "week 53 exists only in a long retail year",
                ));
            }
            Period::Retail {
                year,
                part,
                calendar: retail,
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
        check_year(period.start(), &format!("period `{text}`"))?;
        Ok(period)
    }

    /// The period of `grain` that contains `date`. A retail grain needs a
    /// retail calendar (`Calendar::check_grain` says so politely).
    pub fn containing(grain: Grain, date: NaiveDate, calendar: impl Into<Calendar>) -> Period {
        let calendar = calendar.into();
        let fiscal_first_month = calendar.fiscal_first_month;
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
            Grain::RetailWeek | Grain::RetailMonth | Grain::RetailQuarter | Grain::RetailYear => {
                let retail = calendar
                    .retail
                    .expect("a retail grain is checked against the calendar");
                let like = grain.retail_part().expect("a retail grain");
                let (year, part) = retail.containing(like, date);
                Period::Retail {
                    year,
                    part,
                    calendar: retail,
                }
            }
        }
    }

    /// The last period of `grain` that is complete on `as_of`.
    pub fn last_complete(grain: Grain, as_of: NaiveDate, calendar: impl Into<Calendar>) -> Period {
        let period = Period::containing(grain, as_of, calendar);
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
            Period::Retail { part, .. } => match part {
                Part::Week(_) => Grain::RetailWeek,
                Part::Month(_) => Grain::RetailMonth,
                Part::Quarter(_) => Grain::RetailQuarter,
                Part::Year => Grain::RetailYear,
            },
        }
    }

    /// The calendar this period belongs to, as far as it tells.
    pub fn calendar(&self) -> Calendar {
        match *self {
            Period::FiscalYear { first_month, .. } => Calendar::from(first_month),
            Period::Retail { calendar, .. } => Calendar {
                fiscal_first_month: 1,
                retail: Some(calendar),
            },
            _ => Calendar::default(),
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
            Period::Retail {
                year,
                part,
                calendar,
            } => calendar.bounds(year, part).0,
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
            Period::Retail {
                year,
                part,
                calendar,
            } => return calendar.bounds(year, part).1,
        };
        after - Days::new(1)
    }

    /// The period of the same grain just before this one.
    pub fn previous(&self) -> Period {
        let day_before = self.start() - Days::new(1);
        Period::containing(self.grain(), day_before, self.calendar())
    }

    /// The same period `years` years earlier, if it exists (an ISO or retail
    /// week 53 has no counterpart in a 52-week year). Gregorian periods are
    /// calendar-aligned; retail ones keep their number in the earlier year.
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
            Period::Retail {
                year,
                part,
                calendar,
            } => {
                if !calendar.exists(year - years_i, part) {
                    return None;
                }
                Period::Retail {
                    year: year - years_i,
                    part,
                    calendar,
                }
            }
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

    /// The year (calendar, fiscal or retail) this period's comparisons count
    /// from, as the period of that year holding `date`.
    fn year_holding(&self, date: NaiveDate, fiscal_first_month: u32) -> Period {
        match self {
            Period::Retail { .. } => Period::containing(Grain::RetailYear, date, self.calendar()),
            _ => Period::containing(Grain::FiscalYear, date, fiscal_first_month),
        }
    }

    /// Like `shift_end_back` for the first day of a stretch, which moves forward
    /// where the other moves back: 29 February becomes 1 March (see also
    /// `Retail::shift_start`).
    fn shift_start_back(&self, date: NaiveDate, years: u32) -> NaiveDate {
        match self {
            Period::Retail { calendar, .. } => calendar.shift_start(date, years),
            _ => {
                let shifted = shift_years(date, years);
                if shifted.day() == date.day() {
                    shifted
                } else {
                    shifted + Days::new(1)
                }
            }
        }
    }

    /// The last day of a stretch moved `years` years back the way this
    /// period compares: the same calendar day (29 February → 28 February)
    /// but a month's last day to that month's last day (28 February 2025 →
    /// 29 February 2024: through the end of February is through the end of
    /// February); in a retail calendar the same week and weekday.
    fn shift_end_back(&self, date: NaiveDate, years: u32) -> NaiveDate {
        match self {
            Period::Retail { calendar, .. } => calendar.shift_years(date, years),
            _ => {
                let shifted = shift_years(date, years);
                let month_end = |d: NaiveDate| (d + Days::new(1)).day() == 1;
                if month_end(date) && !month_end(shifted) {
                    shifted.with_day(1).expect("day 1") + Months::new(1) - Days::new(1)
                } else {
                    shifted
                }
            }
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
            Period::Retail { year, part, .. } => f.write_str(&retail::label(*year, *part)),
        }
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid calendar date")
}

/// The same calendar day `years` years earlier; 29 February becomes 28 February.
/// Days from 1970-01-01 to `day`: how DuckDB, Arrow and Polars store a date.
pub fn days_since_epoch(day: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    (day - epoch).num_days() as i32
}

pub fn shift_years(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(12 * years))
        .expect("date in range")
}

#[cfg(test)]
mod tests;
