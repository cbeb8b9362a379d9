//! Examples of periods and comparisons; the properties are in tests/calendar.rs.
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
