//! The next months of a monthly series (net sales), by the better of two
//! seasonal methods on a back-test:
//!
//! - **seasonal naive with drift**: a month is the same month a year before
//!   plus the average yearly change, `ŷ(T+h) = y(T+h−12k) + k·d` with
//!   `k = ⌈h/12⌉` and `d` the mean of `y(t) − y(t−12)`;
//! - **Holt-Winters, additive** (level, trend, 12 seasonal terms), its three
//!   smoothing weights picked from a grid by the least in-sample squared
//!   one-step error.
//!
//! Back-test: each of the last 12 months is forecast one step ahead from the
//! months before it; the method with the lower mean absolute percentage
//! error (MAPE) over those 12 wins, and its MAPE is shown beside the
//! forecast. The 95 % prediction interval is the point ± 1.96 × the
//! back-test's root mean squared error × √h. A forecast is an estimate, so
//! it is computed in floating point (f64) and rounded to the cent; no
//! indicator goes through it.

use crate::calendar::Period;
use crate::indicators::compute::{compute, Context};
use crate::indicators::{Catalogue, Engine, KpiRequest, KpiRow};

/// Months a season has.
const SEASON: usize = 12;
/// Months the back-test forecasts.
const BACKTEST: usize = 12;
/// The least history a forecast needs: two seasons to fit and a year to test.
pub const MIN_HISTORY: usize = 2 * SEASON + BACKTEST;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    SeasonalNaiveDrift,
    HoltWinters,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::SeasonalNaiveDrift => "seasonal naive with drift",
            Method::HoltWinters => "Holt-Winters (additive)",
        }
    }
}

/// One forecast month: the point and its 95 % interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Point {
    pub ahead: usize,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Forecast {
    pub method: Method,
    /// MAPE of the chosen method over the back-test (a fraction), when no
    /// actual in it was 0.
    pub mape: Option<f64>,
    pub points: Vec<Point>,
}

/// Why there is no forecast.
#[derive(Debug, Clone, PartialEq)]
pub enum NoForecast {
    TooShort {
        months: usize,
    },
    /// A month without data inside the history: none is invented.
    Gap {
        month: String,
    },
}

impl std::fmt::Display for NoForecast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoForecast::TooShort { months } => write!(
                f,
                "too little history: {months} complete months, and a forecast needs {MIN_HISTORY} (two years to learn the season, one to test on)"
            ),
            NoForecast::Gap { month } => write!(
                f,
                "no data for {month}, inside the history: a forecast needs every month"
            ),
        }
    }
}

/// Forecasts `horizon` months after `history` (complete months, oldest first).
pub fn forecast(history: &[f64], horizon: usize) -> Result<Forecast, NoForecast> {
    if history.len() < MIN_HISTORY {
        return Err(NoForecast::TooShort {
            months: history.len(),
        });
    }
    let split = history.len() - BACKTEST;
    let mut best: Option<(Method, f64, Option<f64>)> = None;
    for method in [Method::SeasonalNaiveDrift, Method::HoltWinters] {
        let mut squared = 0.0;
        let mut percentages = Vec::new();
        for t in split..history.len() {
            let predicted = one_method(method, &history[..t], 1)[0];
            let error = history[t] - predicted;
            squared += error * error;
            if history[t] != 0.0 {
                percentages.push((error / history[t]).abs());
            }
        }
        let rmse = (squared / BACKTEST as f64).sqrt();
        let mape = (percentages.len() == BACKTEST)
            .then(|| percentages.iter().sum::<f64>() / BACKTEST as f64);
        let score = mape.unwrap_or(rmse);
        let better = match &best {
            None => true,
            Some((_, best_rmse, best_mape)) => score < best_mape.unwrap_or(*best_rmse),
        };
        if better {
            best = Some((method, rmse, mape));
        }
    }
    let (method, rmse, mape) = best.expect("two methods tried");
    let points = one_method(method, history, horizon)
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let spread = 1.96 * rmse * ((i + 1) as f64).sqrt();
            Point {
                ahead: i + 1,
                value: cents(value),
                low: cents(value - spread),
                high: cents(value + spread),
            }
        })
        .collect();
    Ok(Forecast {
        method,
        mape,
        points,
    })
}

fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn one_method(method: Method, history: &[f64], horizon: usize) -> Vec<f64> {
    match method {
        Method::SeasonalNaiveDrift => seasonal_naive_drift(history, horizon),
        Method::HoltWinters => holt_winters(history, horizon),
    }
}

fn seasonal_naive_drift(history: &[f64], horizon: usize) -> Vec<f64> {
    let n = history.len();
    let changes: Vec<f64> = (SEASON..n)
        .map(|t| history[t] - history[t - SEASON])
        .collect();
    let drift = changes.iter().sum::<f64>() / changes.len() as f64;
    (1..=horizon)
        .map(|h| {
            let k = h.div_ceil(SEASON);
            history[n - 1 + h - SEASON * k] + k as f64 * drift
        })
        .collect()
}

/// Additive Holt-Winters, initialised on the first two seasons, its
/// weights the grid's best by in-sample squared one-step error.
fn holt_winters(history: &[f64], horizon: usize) -> Vec<f64> {
    let grid = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
    let mut best: Option<(f64, Vec<f64>)> = None;
    for &alpha in &grid {
        for &beta in &grid[..4] {
            for &gamma in &grid {
                let (sse, ahead) = holt_winters_with(history, horizon, alpha, beta, gamma);
                if best.as_ref().is_none_or(|(b, _)| sse < *b) {
                    best = Some((sse, ahead));
                }
            }
        }
    }
    best.expect("a grid").1
}

fn holt_winters_with(
    history: &[f64],
    horizon: usize,
    alpha: f64,
    beta: f64,
    gamma: f64,
) -> (f64, Vec<f64>) {
    let m = SEASON;
    let first: f64 = history[..m].iter().sum::<f64>() / m as f64;
    let second: f64 = history[m..2 * m].iter().sum::<f64>() / m as f64;
    let mut level = first;
    let mut trend = (second - first) / m as f64;
    let mut season: Vec<f64> = (0..m).map(|i| history[i] - first).collect();
    let mut sse = 0.0;
    for (t, &y) in history.iter().enumerate().skip(m) {
        let s = season[t % m];
        let predicted = level + trend + s;
        sse += (y - predicted).powi(2);
        let previous = level;
        level = alpha * (y - s) + (1.0 - alpha) * (level + trend);
        trend = beta * (level - previous) + (1.0 - beta) * trend;
        season[t % m] = gamma * (y - level) + (1.0 - gamma) * s;
    }
    let n = history.len();
    let ahead = (1..=horizon)
        .map(|h| level + h as f64 * trend + season[(n + h - 1) % m])
        .collect();
    (sse, ahead)
}

// --- from the indicators to a series ------------------------------------

/// One series' forecast: its group (`None`: the company), the months
/// forecast, and the forecast or why there is none.
pub struct SeriesForecast {
    pub group: Option<String>,
    pub months: Vec<Period>,
    pub forecast: Result<Forecast, NoForecast>,
}

/// Net sales of the next `horizon` months after `last` (a month, or a
/// retail month), for the company and, with `by`, each of its values;
/// history is every complete month up to `last` (at most ten years).
pub fn net_sales(
    engine: &dyn Engine,
    catalogue: &Catalogue,
    context: &Context,
    last: Period,
    by: Option<&str>,
    horizon: usize,
) -> crate::error::Result<Vec<SeriesForecast>> {
    let request = KpiRequest {
        indicators: vec!["net_sales".into()],
        periods: last.series(HISTORY),
        dims: by.map(|d| vec![d.to_string()]).unwrap_or_default(),
    };
    let rows = compute(engine, catalogue, context, &request)?;
    Ok(from_rows(&rows, last, by.is_some(), horizon))
}

/// The most months of history a forecast reads: ten years.
pub const HISTORY: usize = 120;

/// Forecasts from the `net_sales` rows of the `HISTORY` periods up to
/// `last`, one series per group when `by` a dimension.
pub fn from_rows(rows: &[KpiRow], last: Period, by: bool, horizon: usize) -> Vec<SeriesForecast> {
    use rust_decimal::prelude::ToPrimitive;
    let history = last.series(HISTORY);
    let mut groups: Vec<Option<String>> = Vec::new();
    for row in rows {
        let group = row.dims.first().and_then(|(_, v)| v.clone());
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    if !by && groups.is_empty() {
        groups.push(None);
    }
    let mut months = Vec::new();
    let mut next = last;
    for _ in 0..horizon {
        let after = Period::containing(
            last.grain(),
            next.end().succ_opt().expect("a next day"),
            last.calendar(),
        );
        months.push(after);
        next = after;
    }
    groups
        .into_iter()
        .map(|group| {
            // The months of this group, oldest first, from its first with data.
            let values: Vec<Option<f64>> = history
                .iter()
                .map(|period| {
                    rows.iter()
                        .find(|r| {
                            r.period == *period
                                && r.dims.first().and_then(|(_, v)| v.clone()) == group
                        })
                        .and_then(|r| r.value)
                        .and_then(|v| v.to_f64())
                })
                .collect();
            let start = values
                .iter()
                .position(Option::is_some)
                .unwrap_or(values.len());
            // A month without data after the first is a gap: none is invented.
            let series: Vec<f64> = values[start..].iter().map(|v| v.unwrap_or(0.0)).collect();
            let gap = values[start..].iter().position(Option::is_none);
            let forecast = if let Some(at) = gap {
                Err(NoForecast::Gap {
                    month: history[start + at].to_string(),
                })
            } else {
                forecast(&series, horizon)
            };
            SeriesForecast {
                group,
                months: months.clone(),
                forecast,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twelve months of a shape: a quiet summer, a December peak.
    const PATTERN: [f64; 12] = [
        85.0, 95.0, 90.0, 90.0, 95.0, 90.0, 85.0, 90.0, 100.0, 105.0, 115.0, 140.0,
    ];

    #[test]
    fn a_purely_seasonal_series_forecasts_itself() {
        // Four years of the same twelve months, ending in December: the next
        // three are January, February and March of the pattern, exactly.
        let history: Vec<f64> = (0..48).map(|i| PATTERN[i % 12]).collect();
        let f = forecast(&history, 3).unwrap();
        let values: Vec<f64> = f.points.iter().map(|p| p.value).collect();
        assert_eq!(values, [85.0, 95.0, 90.0]);
        // The back-test made no error: MAPE 0, and the interval is the point.
        assert_eq!(f.mape, Some(0.0));
        assert_eq!((f.points[0].low, f.points[0].high), (85.0, 85.0));
    }

    #[test]
    fn a_straight_line_forecasts_its_line() {
        // y = 1000 + 25 t for t = 0..40: the next three are t = 40, 41, 42.
        let history: Vec<f64> = (0..40).map(|t| 1000.0 + 25.0 * t as f64).collect();
        let f = forecast(&history, 3).unwrap();
        let values: Vec<f64> = f.points.iter().map(|p| p.value).collect();
        assert_eq!(values, [2000.0, 2025.0, 2050.0]);
        assert_eq!(f.mape, Some(0.0));
    }

    #[test]
    fn a_seasonal_series_with_growth_keeps_both() {
        // The pattern growing by 12 a year (1 a month): the seasonal naive
        // with drift adds that year's growth to last year's month.
        let history: Vec<f64> = (0..36).map(|i| PATTERN[i % 12] + i as f64).collect();
        let f = forecast(&history, 2).unwrap();
        let values: Vec<f64> = f.points.iter().map(|p| p.value).collect();
        // Month 36 is January: 85 + 36; month 37 February: 95 + 37.
        assert_eq!(values, [121.0, 132.0]);
    }

    #[test]
    fn too_little_history_says_so() {
        let history = vec![100.0; MIN_HISTORY - 1];
        let error = forecast(&history, 3).unwrap_err();
        assert_eq!(error, NoForecast::TooShort { months: 35 });
        assert!(error.to_string().contains("needs 36"), "{error}");
    }
}
