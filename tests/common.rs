//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use opskpi::calendar::Period;
use opskpi::config::{Config, Source};
use opskpi::indicators::compute::Context;
use opskpi::indicators::{compute, Catalogue, KpiRequest, KpiRow};
use opskpi::warehouse::Warehouse;
use rust_decimal::Decimal;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fixture folder's files whose names end with `suffix` ("" for all),
/// copied into a new temp folder.
pub fn copy_fixture(name: &str, suffix: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture(name)).unwrap() {
        let path = entry.unwrap().path();
        let file_name = path.file_name().unwrap();
        if path.is_file() && file_name.to_string_lossy().ends_with(suffix) {
            std::fs::copy(&path, dir.path().join(file_name)).unwrap();
        }
    }
    dir
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A load time that is not today (tests never read the clock), after the
/// sample company's last day so that no date of it lies in the future.
pub fn loaded_at() -> NaiveDateTime {
    date("2026-11-02").and_hms_opt(3, 4, 5).unwrap()
}

pub fn tiny_config() -> Config {
    Config::load(&fixture("tiny/opskpi.toml")).unwrap()
}

/// The config's sources with their paths resolved.
pub fn sources(config: &Config) -> Vec<Source> {
    config
        .sources
        .iter()
        .map(|source| Source {
            path: source.path.as_ref().map(|path| config.resolve(path)),
            ..source.clone()
        })
        .collect()
}

/// Loads `sources` with default options.
pub fn try_load(
    warehouse: &mut Warehouse,
    sources: &[Source],
) -> opskpi::error::Result<Vec<opskpi::ingest::LoadOutcome>> {
    opskpi::ingest::ingest(
        warehouse,
        sources,
        loaded_at(),
        &Default::default(),
        &|_| {},
    )
}

/// Loads `sources` with default options, panicking with the error's text.
pub fn load(warehouse: &mut Warehouse, sources: &[Source]) -> Vec<opskpi::ingest::LoadOutcome> {
    try_load(warehouse, sources).unwrap_or_else(|error| panic!("{error}"))
}

/// The error's text of loading `sources` into `warehouse`, which must fail.
pub fn refusal(warehouse: &mut Warehouse, sources: &[Source]) -> String {
    match try_load(warehouse, sources) {
        Ok(outcomes) => panic!("the load was expected to fail: {outcomes:?}"),
        Err(error) => error.to_string(),
    }
}

/// The tiny company loaded into an in-memory warehouse.
pub fn tiny_warehouse() -> Warehouse {
    let config = tiny_config();
    let mut warehouse = Warehouse::in_memory().unwrap();
    load(&mut warehouse, &sources(&config));
    warehouse
}

pub fn context(as_of: &str) -> Context {
    Context {
        as_of: date(as_of),
        calendar: Default::default(),
        min_sample: 30,
        targets: Default::default(),
    }
}

pub fn kpi(
    warehouse: &Warehouse,
    ids: &[&str],
    period: &str,
    dims: &[&str],
    as_of: &str,
) -> Vec<KpiRow> {
    let request = KpiRequest {
        indicators: ids.iter().map(|s| s.to_string()).collect(),
        periods: vec![Period::parse(period, 1).unwrap()],
        dims: dims.iter().map(|s| s.to_string()).collect(),
    };
    let catalogue = Catalogue::builtin();
    let rows = compute(warehouse, &catalogue, &context(as_of), &request).unwrap();
    // Every hand-worked fixture also runs through the Polars engine, which
    // must give the very same rows.
    let polars = opskpi::engine::polars::PolarsEngine::new(warehouse);
    let other = compute(&polars, &catalogue, &context(as_of), &request)
        .unwrap_or_else(|e| panic!("Polars engine, {ids:?} {period} by {dims:?}: {e}"));
    assert_eq!(
        rows, other,
        "the Polars engine differs: {ids:?} {period} by {dims:?}"
    );
    rows
}

/// The one row of `indicator` whose dimension values are `values`.
pub fn row<'a>(rows: &'a [KpiRow], indicator: &str, values: &[&str]) -> &'a KpiRow {
    let found: Vec<&KpiRow> = rows
        .iter()
        .filter(|row| {
            row.indicator == indicator
                && row
                    .dims
                    .iter()
                    .map(|(_, v)| v.as_deref().unwrap_or(""))
                    .eq(values.iter().copied())
        })
        .collect();
    assert_eq!(found.len(), 1, "{indicator} {values:?} in {rows:#?}");
    found[0]
}

pub fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// `actual` equals the fraction `numerator / denominator` worked out by hand
/// (to 20 places: a repeating decimal cannot be written exactly).
#[track_caller]
pub fn assert_fraction(actual: Option<Decimal>, numerator: &str, denominator: &str) {
    let expected = dec(numerator) / dec(denominator);
    let actual = actual.unwrap_or_else(|| panic!("expected {numerator}/{denominator}, got n/a"));
    assert!(
        (actual - expected).abs() < dec("0.00000000000000000001"),
        "expected {numerator}/{denominator} = {expected}, got {actual}"
    );
}

#[track_caller]
pub fn assert_exact(actual: Option<Decimal>, expected: &str) {
    assert_eq!(
        actual.map(|v| v.normalize()),
        Some(dec(expected).normalize())
    );
}

/// The one text value `sql` answers.
pub fn text(warehouse: &Warehouse, sql: &str) -> String {
    warehouse
        .connection()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}
