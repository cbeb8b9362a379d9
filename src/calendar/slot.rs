//! A period and the days of it that count, and the windows its comparisons
//! are computed over.

use chrono::{Days, NaiveDate};

use super::Period;
use crate::error::{Error, Result};

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
            start: self.period.shift_start_back(self.window.start, years),
            end: self.period.shift_end_back(self.window.end, years),
        };
        Some(Slot { period, window })
    }

    /// From the first day of the year that holds this slot's last day, up to
    /// that day: the fiscal year, or for a retail period the retail year.
    pub fn year_to_date(&self, fiscal_first_month: u32) -> Slot {
        let year = self
            .period
            .year_holding(self.window.end, fiscal_first_month);
        Slot {
            period: self.period,
            window: Window {
                start: year.start(),
                end: self.window.end,
            },
        }
    }

    /// The twelve months (or retail months) up to this slot's last day: the
    /// day after that day a year back, to it. The window of a moving annual
    /// total; compare it with `years_back(1)`'s.
    pub fn trailing_year(&self) -> Slot {
        let after = self.window.end + Days::new(1);
        Slot {
            period: self.period,
            window: Window {
                start: self.period.shift_start_back(after, 1),
                end: self.window.end,
            },
        }
    }
}
