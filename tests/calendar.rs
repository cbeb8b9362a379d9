//! The calendar's comparisons against a plain reference implementation, on
//! random days from 1990 to 2060 and every retail calendar layout: month
//! ends, leap days and 53-week years come up by themselves, and the shrunk
//! counterexample names the day when a property fails.
//!
//! The reference walks day by day and counts with nothing but the rules as
//! a person states them (days in a month, "the Saturday nearest 31 January",
//! "weeks 4, 5, 4"); it shares no code with `src/calendar`.

use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;

use opskpi::calendar::{Calendar, Grain, Part, Period, Retail, Slot, YearEnd};

// --- the reference --------------------------------------------------------

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

fn next(date: NaiveDate) -> NaiveDate {
    date + Days::new(1)
}

fn prev(date: NaiveDate) -> NaiveDate {
    date - Days::new(1)
}

/// The same day a year earlier; 29 February becomes 28 February.
fn day_a_year_back(date: NaiveDate) -> NaiveDate {
    let (y, m) = (date.year() - 1, date.month());
    ymd(y, m, date.day().min(days_in_month(y, m)))
}

/// The last day of a stretch a year earlier: the same day, but a month's
/// last day is that month's last day (through the end of February).
fn end_a_year_back(date: NaiveDate) -> NaiveDate {
    let (y, m) = (date.year() - 1, date.month());
    if date.day() == days_in_month(date.year(), m) {
        ymd(y, m, days_in_month(y, m))
    } else {
        day_a_year_back(date)
    }
}

/// The first day of the fiscal year holding `date`: walk back to the 1st of
/// the first month.
fn fiscal_year_start(date: NaiveDate, first_month: u32) -> NaiveDate {
    let mut day = date;
    while !(day.day() == 1 && day.month() == first_month) {
        day = prev(day);
    }
    day
}

/// A retail calendar as its rules say it: the year ends on the weekday
/// nearest (or last in) the end month's last day; weeks run from the day
/// after; months take the pattern's weeks, the last month any 53rd week.
struct Reference {
    cal: Retail,
}

impl Reference {
    fn year_end(&self, year: i32) -> NaiveDate {
        let cal = &self.cal;
        let in_year = if cal.end_month == 12 { year } else { year + 1 };
        let last = ymd(
            in_year,
            cal.end_month,
            days_in_month(in_year, cal.end_month),
        );
        // Every day from a week before the month's end to three days after.
        let mut candidates = Vec::new();
        let mut day = last - Days::new(7);
        while day <= last + Days::new(3) {
            if day.weekday().num_days_from_monday() == cal.end_weekday {
                candidates.push(day);
            }
            day = next(day);
        }
        match cal.rule {
            YearEnd::Last => *candidates.iter().filter(|d| **d <= last).max().unwrap(),
            YearEnd::Nearest => *candidates
                .iter()
                .min_by_key(|d| (**d - last).num_days().abs())
                .unwrap(),
        }
    }

    fn year_start(&self, year: i32) -> NaiveDate {
        next(self.year_end(year - 1))
    }

    fn year_of(&self, date: NaiveDate) -> i32 {
        (date.year() - 2..=date.year() + 1)
            .find(|&y| self.year_start(y) <= date && date <= self.year_end(y))
            .unwrap()
    }

    /// (year, week, month, quarter) of a day.
    fn label(&self, date: NaiveDate) -> (i32, u32, u32, u32) {
        let year = self.year_of(date);
        let mut day = self.year_start(year);
        let mut index = 0;
        while day < date {
            day = next(day);
            index += 1;
        }
        let week = index / 7 + 1;
        // Month by walking the pattern's weeks; the 53rd week stays in month 12.
        let mut month = 1;
        let mut weeks_so_far = 0;
        for m in 1..=12u32 {
            weeks_so_far += u32::from(self.cal.pattern[((m - 1) % 3) as usize]);
            month = m;
            if week <= weeks_so_far {
                break;
            }
        }
        let quarter = (month - 1) / 3 + 1;
        (year, week, month, quarter)
    }

    fn weeks(&self, year: i32) -> u32 {
        ((self.year_end(year) - self.year_start(year)).num_days() as u32 + 1) / 7
    }

    /// First and last day of the run of days around `date` that share its label at `grain`.
    fn bounds(&self, date: NaiveDate, grain: Grain) -> (NaiveDate, NaiveDate) {
        let key = |d: NaiveDate| {
            let (y, w, m, q) = self.label(d);
            match grain {
                Grain::RetailWeek => (y, w),
                Grain::RetailMonth => (y, m),
                Grain::RetailQuarter => (y, q),
                _ => (y, 0),
            }
        };
        let here = key(date);
        let (mut start, mut end) = (date, date);
        while key(prev(start)) == here {
            start = prev(start);
        }
        while key(next(end)) == here {
            end = next(end);
        }
        (start, end)
    }
}

// --- strategies -------------------------------------------------------------

fn a_day() -> impl Strategy<Value = NaiveDate> {
    // 1990-01-01 to about 2060.
    (0u64..25_500).prop_map(|n| ymd(1990, 1, 1) + Days::new(n))
}

fn a_retail_calendar() -> impl Strategy<Value = Retail> {
    (0usize..3, 1u32..=12, 0u32..7, any::<bool>()).prop_map(|(p, end_month, end_weekday, last)| {
        Retail {
            pattern: [[4, 5, 4], [4, 4, 5], [5, 4, 4]][p],
            end_month,
            end_weekday,
            rule: if last {
                YearEnd::Last
            } else {
                YearEnd::Nearest
            },
        }
    })
}

fn retail(cal: Retail) -> Calendar {
    Calendar {
        fiscal_first_month: 1,
        retail: Some(cal),
    }
}

const GREGORIAN: [Grain; 5] = [
    Grain::Day,
    Grain::Week,
    Grain::Month,
    Grain::Quarter,
    Grain::Year,
];
const RETAIL: [Grain; 4] = [
    Grain::RetailWeek,
    Grain::RetailMonth,
    Grain::RetailQuarter,
    Grain::RetailYear,
];

proptest! {
    // A fixed seed: CI tests the same cases every run (a failure is found
    // here, not by chance on a later run); raise PROPTEST_CASES to explore.
    #![proptest_config(ProptestConfig {
        cases: 2000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261128),
        .. ProptestConfig::default()
    })]

    /// Every grain tiles the days: the period holding a day holds it, its
    /// neighbours do not, the previous period ends the day before it starts,
    /// and its name reads back as itself.
    #[test]
    fn periods_tile_the_calendar(day in a_day(), cal in a_retail_calendar(), fiscal in 1u32..=12) {
        let calendar = Calendar { fiscal_first_month: fiscal, retail: Some(cal) };
        for grain in GREGORIAN.into_iter().chain([Grain::FiscalYear]).chain(RETAIL) {
            let period = Period::containing(grain, day, calendar);
            prop_assert!(period.start() <= day && day <= period.end(), "{period}");
            prop_assert_eq!(Period::containing(grain, period.start(), calendar), period);
            prop_assert_eq!(Period::containing(grain, period.end(), calendar), period);
            prop_assert_ne!(Period::containing(grain, next(period.end()), calendar), period);
            let previous = period.previous();
            prop_assert_eq!(next(previous.end()), period.start());
            prop_assert_eq!(previous.grain(), grain);
            prop_assert_eq!(Period::parse(&period.to_string(), calendar).unwrap(), period);
        }
    }

    /// Months, quarters and the fiscal year agree with days-in-month arithmetic.
    #[test]
    fn gregorian_periods_match_the_reference(day in a_day(), fiscal in 1u32..=12) {
        let (y, m) = (day.year(), day.month());
        let month = Period::containing(Grain::Month, day, fiscal);
        prop_assert_eq!((month.start(), month.end()), (ymd(y, m, 1), ymd(y, m, days_in_month(y, m))));
        let q0 = (m - 1) / 3 * 3 + 1;
        let quarter = Period::containing(Grain::Quarter, day, fiscal);
        prop_assert_eq!((quarter.start(), quarter.end()), (ymd(y, q0, 1), ymd(y, q0 + 2, days_in_month(y, q0 + 2))));
        let fy = Period::containing(Grain::FiscalYear, day, fiscal);
        prop_assert_eq!(fy.start(), fiscal_year_start(day, fiscal));
        prop_assert_eq!(next(fy.end()), fiscal_year_start(next(fy.end()), fiscal));
        prop_assert!(fy.end().year() == fy.start().year() + i32::from(fiscal != 1));
    }

    /// Last year: a whole month is last year's whole month; a month cut at
    /// the as-of day compares with the same calendar days (a leap day with
    /// 28 February, a month's last day with that month's last day); year to date runs from the fiscal year's first day on
    /// both sides; the trailing year is 365 or 366 days ending on the
    /// period's last day, twelve whole months when that is a month end.
    #[test]
    fn gregorian_comparisons_match_the_reference(day in a_day(), fiscal in 1u32..=12, cut in any::<bool>()) {
        let month = Period::containing(Grain::Month, day, fiscal);
        let as_of = if cut { day } else { month.end() };
        let slot = Slot::new(month, as_of).unwrap();
        let last = slot.years_back(1).unwrap();
        let ly_month = (ymd(day.year() - 1, day.month(), 1), ymd(day.year() - 1, day.month(), days_in_month(day.year() - 1, day.month())));
        prop_assert_eq!((last.period.start(), last.period.end()), ly_month);
        prop_assert_eq!(last.window.start, ly_month.0);
        // A whole month is last year's whole month (all 29 days of a leap
        // February); a cut one the same calendar days.
        if as_of == month.end() {
            prop_assert_eq!(last.window.end, ly_month.1);
        } else {
            prop_assert_eq!(last.window.end, day_a_year_back(as_of));
        }

        let one_day = Slot::new(Period::Day(day), day).unwrap();
        prop_assert_eq!(one_day.years_back(1).unwrap().window.start, day_a_year_back(day));
        prop_assert_eq!(one_day.previous().window.end, prev(day));

        let ytd = slot.year_to_date(fiscal);
        prop_assert_eq!(ytd.window.start, fiscal_year_start(as_of, fiscal));
        prop_assert_eq!(ytd.window.end, as_of);
        let ly_ytd = ytd.years_back(1).unwrap();
        prop_assert_eq!(ly_ytd.window.start, fiscal_year_start(end_a_year_back(as_of), fiscal));
        prop_assert_eq!(ly_ytd.window.end, end_a_year_back(as_of));

        let trailing = slot.trailing_year();
        prop_assert_eq!(trailing.window.end, as_of);
        let days = trailing.window.days();
        prop_assert!(days == 365 || days == 366, "{days} days");
        // The year back from the day after the end: 1 March when that is a leap day.
        let after = next(as_of);
        let expected_start = if after.month() == 2 && after.day() == 29 {
            ymd(after.year() - 1, 3, 1)
        } else {
            ymd(after.year() - 1, after.month(), after.day())
        };
        prop_assert_eq!(trailing.window.start, expected_start);
        if !cut {
            prop_assert_eq!(trailing.window.start.day(), 1);
            let month_count = (0..days as u64)
                .map(|n| { let d = trailing.window.start + Days::new(n); (d.year(), d.month()) })
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            prop_assert_eq!(month_count, 12);
        }
    }

    /// Retail years, weeks, months and quarters are where the reference's
    /// day-by-day walk puts them, and years have 52 or 53 weeks that end on
    /// the stated weekday.
    #[test]
    fn retail_periods_match_the_reference(day in a_day(), cal in a_retail_calendar()) {
        let reference = Reference { cal };
        let calendar = retail(cal);
        let (year, week, month, quarter) = reference.label(day);
        let expected = [Part::Week(week), Part::Month(month), Part::Quarter(quarter), Part::Year];
        for (grain, part) in RETAIL.into_iter().zip(expected) {
            let period = Period::containing(grain, day, calendar);
            prop_assert_eq!(period, Period::Retail { year, part, calendar: cal });
            prop_assert_eq!((period.start(), period.end()), reference.bounds(day, grain), "{}", period);
        }
        let weeks = reference.weeks(year);
        prop_assert!(weeks == 52 || weeks == 53);
        prop_assert_eq!(cal.weeks(year), weeks);
        let end = reference.year_end(year);
        prop_assert_eq!(end.weekday().num_days_from_monday(), cal.end_weekday);
        // The year is named after the calendar year its first week ends in.
        prop_assert_eq!((reference.year_start(year) + Days::new(6)).year(), year);
    }

    /// Retail comparisons keep the weekdays: last year is the same number in
    /// the year before (week 53 has none), a cut period compares with the
    /// same days from its counterpart's start, year to date starts on the
    /// retail year's first day on both sides, the trailing year is the
    /// retail year's worth of weeks up to the period's end.
    #[test]
    fn retail_comparisons_match_the_reference(day in a_day(), cal in a_retail_calendar(), cut in any::<bool>()) {
        let reference = Reference { cal };
        let calendar = retail(cal);
        for grain in RETAIL {
            let period = Period::containing(grain, day, calendar);
            let as_of = if cut { day } else { period.end() };
            let slot = Slot::new(period, as_of).unwrap();
            let (year, week, ..) = reference.label(day);
            let last = slot.years_back(1);
            if grain == Grain::RetailWeek && week == 53 && reference.weeks(year - 1) == 52 {
                prop_assert!(last.is_none());
                continue;
            }
            let last = last.unwrap();
            let Period::Retail { part, .. } = period else { unreachable!() };
            prop_assert_eq!(last.period, Period::Retail { year: year - 1, part, calendar: cal });
            prop_assert_eq!(last.window.start, last.period.start());
            if as_of < period.end() {
                // The same number of days from the start, the same weekday,
                // unless that runs past a 52-week year's end.
                let elapsed = (as_of - period.start()).num_days() as u64;
                let same_days = last.period.start() + Days::new(elapsed);
                let year_end = reference.year_end(year - 1);
                prop_assert_eq!(last.window.end, same_days.min(year_end));
                if same_days <= year_end {
                    prop_assert_eq!(last.window.end.weekday(), as_of.weekday());
                }
            } else {
                // A whole period (cut on its last day or not) compares with
                // the whole period: a 53-week year's month 12 with five weeks.
                prop_assert_eq!(last.window.end, last.period.end());
            }

            let ytd = slot.year_to_date(1);
            prop_assert_eq!(ytd.window.start, reference.year_start(reference.year_of(as_of)));
            let ly_ytd = ytd.years_back(1).unwrap();
            prop_assert_eq!(ly_ytd.window.start, reference.year_start(reference.year_of(as_of) - 1));

            // Whole retail months: the trailing year is the twelve retail
            // months ending with this one, 52 or 53 weeks.
            if grain == Grain::RetailMonth && !cut {
                let trailing = slot.trailing_year();
                let Part::Month(m) = part else { unreachable!() };
                let (start_year, start_month) = if m == 12 { (year, 1) } else { (year - 1, m + 1) };
                let first = Period::Retail { year: start_year, part: Part::Month(start_month), calendar: cal };
                prop_assert_eq!(trailing.window.start, first.start());
                prop_assert_eq!(trailing.window.end, period.end());
                prop_assert_eq!(trailing.window.days() % 7, 0);
            }
        }
    }
}

#[test]
fn the_nrf_calendar_has_its_published_53_week_years() {
    // The NRF's published 53-week years since 2000 are 2000, 2006, 2012, 2017
    // and 2023; by its rule (Saturday nearest 31 January) the next is 2028:
    // 31 January 2029 is a Wednesday, so the year ends on Saturday 3 February.
    let long: Vec<i32> = (2000..2030)
        .filter(|&y| Retail::NRF.weeks(y) == 53)
        .collect();
    assert_eq!(long, [2000, 2006, 2012, 2017, 2023, 2028]);
}
