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
