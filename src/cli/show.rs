//! What commands print besides the kpi contract (`contract`) and exports:
//! the forecast as a terminal table or JSON.

use comfy_table::{presets, ContentArrangement, Table};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::forecast::SeriesForecast;
use crate::indicators::Unit;
use crate::locale::{self, Locale};

/// Forecasts as a terminal table or JSON (values to the cent, MAPE as a
/// fraction; a series without a forecast says why).
pub fn forecast(series: &[SeriesForecast], json: bool, locale: Locale) -> Result<String> {
    if json {
        let items: Vec<Value> = series
            .iter()
            .map(|s| match &s.forecast {
                Ok(f) => serde_json::json!({
                    "group": s.group,
                    "method": f.method,
                    "mape": f.mape,
                    "months": s.months.iter().zip(&f.points).map(|(m, p)| serde_json::json!({
                        "period": m.to_string(), "value": p.value, "low": p.low, "high": p.high,
                    })).collect::<Vec<_>>(),
                }),
                Err(why) => serde_json::json!({ "group": s.group, "no_forecast": why.to_string() }),
            })
            .collect();
        let mut text =
            serde_json::to_string_pretty(&items).map_err(|e| Error::Internal(e.to_string()))?;
        text.push('\n');
        return Ok(text);
    }
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "group",
            "period",
            "net sales",
            "95 % low",
            "95 % high",
            "method",
            "MAPE (12 months)",
        ]);
    let mut notes = String::new();
    for s in series {
        let group = s.group.clone().unwrap_or_else(|| "company".into());
        match &s.forecast {
            Ok(f) => {
                for (month, point) in s.months.iter().zip(&f.points) {
                    let money =
                        |v: f64| locale::value(locale, Unit::Money, Decimal::from_f64_retain(v));
                    table.add_row(vec![
                        group.clone(),
                        month.to_string(),
                        money(point.value),
                        money(point.low),
                        money(point.high),
                        f.method.name().to_string(),
                        locale::value(
                            locale,
                            Unit::Ratio,
                            f.mape.and_then(Decimal::from_f64_retain),
                        ),
                    ]);
                }
            }
            Err(why) => notes.push_str(&format!("{group}: no forecast — {why}\n")),
        }
    }
    Ok(format!("{table}\n{notes}"))
}

/// A password for `opskpi serve passwd NAME`: asked twice on a terminal
/// without echo, or the first line of stdin when it is not a terminal.
pub fn read_password(name: &str) -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let read_line = || -> Result<String> {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    let password = if stdin.is_terminal() {
        let first = without_echo(|| {
            eprint!("password for {name}: ");
            read_line()
        })?;
        let again = without_echo(|| {
            eprint!("\nagain: ");
            read_line()
        })?;
        eprintln!();
        if first != again {
            return Err(Error::config_hint(
                "the two passwords differ",
                "run `opskpi serve passwd` again",
            ));
        }
        first
    } else {
        read_line()?
    };
    if password.is_empty() {
        return Err(Error::config_hint(
            "the password is empty",
            "type one, or give it on the first line of stdin",
        ));
    }
    Ok(password)
}

/// Runs `read` with the terminal's echo off (and back on after).
#[cfg(unix)]
fn without_echo<T>(read: impl FnOnce() -> Result<T>) -> Result<T> {
    // SAFETY: tcgetattr/tcsetattr on stdin with a termios this function
    // owns; the saved settings are put back whatever `read` returns.
    unsafe {
        let mut saved: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut saved) != 0 {
            return read();
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        libc::tcsetattr(0, libc::TCSANOW, &quiet);
        let result = read();
        libc::tcsetattr(0, libc::TCSANOW, &saved);
        result
    }
}

#[cfg(not(unix))]
fn without_echo<T>(read: impl FnOnce() -> Result<T>) -> Result<T> {
    read()
}
