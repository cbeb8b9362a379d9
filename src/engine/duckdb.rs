//! The DuckDB engine: the warehouse computes indicator components with the
//! SQL of `queries/components/` (rendered per request by the indicator
//! layer) over the windows and their day spine, loaded as temporary tables;
//! the answer crosses into Rust as Arrow batches, read as exact decimals.

use duckdb::{params, Connection};

use super::answer;
use crate::calendar::Window;
use crate::error::{Error, Result};
use crate::indicators::{Components, Engine, QueryDef};
use crate::warehouse::Warehouse;

/// `amount × days ÷ month_days` rounded half away from zero to the cent, in
/// integers: DuckDB divides a DECIMAL by an integer in floating point, which
/// puts about one amount in four a cent off when the exact value ends in a
/// half cent (1000.15 × 15 ÷ 30 = 500.075 → 500.08, not 500.07). Amounts
/// carry at most 4 decimals, so `amount × 10000` is a whole number (taken in
/// DECIMAL(38,4): in the amount's own DECIMAL(18,4) a target of ten billion
/// overflows).
/// `_opskpi_seconds_between(start, end)`: whole seconds from one timestamp
/// to the next, truncated toward zero. The component SQL is one text for
/// every SQL engine: the Spark engine defines the same two functions.
const FUNCTIONS: &str = "CREATE OR REPLACE TEMP MACRO _opskpi_pro_rata(amount, days, month_days) AS
    CAST(CAST(sign(amount) * ((2 * abs(CAST(CAST(amount AS DECIMAL(38,4)) * 10000 AS HUGEINT)) * days + month_days * 100)
                              // (2 * month_days * 100)) AS DECIMAL(38,0)) * 0.01 AS DECIMAL(18,2));
     CREATE OR REPLACE TEMP MACRO _opskpi_seconds_between(start_at, end_at) AS
        (epoch_ms(end_at) - epoch_ms(start_at)) // 1000;";

/// Loads the windows and their day spine into temporary tables.
fn load_windows(conn: &Connection, windows: &[Window]) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE _opskpi_windows (
                window_id INTEGER, start_date DATE, end_date DATE, days INTEGER);
             {FUNCTIONS}"
    ))
    .map_err(Error::query("windows"))?;
    {
        let mut appender = conn
            .appender("_opskpi_windows")
            .map_err(Error::query("windows"))?;
        for (id, window) in windows.iter().enumerate() {
            appender
                .append_row(params![
                    id as i32,
                    window.start,
                    window.end,
                    window.days() as i32
                ])
                .map_err(Error::query("windows"))?;
        }
        appender.flush().map_err(Error::query("windows"))?;
    }
    conn.execute_batch(
            "CREATE OR REPLACE TEMP TABLE _opskpi_spine AS
             SELECT window_id, unnest(generate_series(start_date, end_date, INTERVAL 1 DAY))::DATE AS day
             FROM _opskpi_windows;",
        )
        .map_err(Error::query("windows"))
}

impl Engine for Warehouse {
    fn components(
        &self,
        query: &QueryDef,
        dims: &[String],
        windows: &[Window],
        wanted: &[String],
    ) -> Result<Components> {
        let (name, sql) = answer::request_sql(query, dims, wanted, self.offset_seconds())?;
        load_windows(self.connection(), windows)?;
        let batches = self.arrow(&name, &sql)?;
        answer::components(&name, &batches, query, dims, windows, wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: 1000.15 × 15 ÷ 30 = 500.075 → 500.08 (half away from zero),
    /// −500.08 for the negative; 10,255,236,000 × 15 ÷ 30 = 5,127,618,000
    /// (a national chain's monthly target, past DECIMAL(18,4) × 10000);
    /// 99,999,999,999,999.99 × 1 ÷ 31 = 3,225,806,451,612.9029… → …612.90.
    #[test]
    fn pro_rata_is_exact_and_takes_large_targets() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(FUNCTIONS).unwrap();
        let got: String = conn
            .query_row(
                "SELECT concat_ws(' ',
                    _opskpi_pro_rata(1000.15::DECIMAL(18,4), 15, 30),
                    _opskpi_pro_rata(-1000.15::DECIMAL(18,4), 15, 30),
                    _opskpi_pro_rata(10255236000::DECIMAL(18,2), 15, 30),
                    _opskpi_pro_rata(99999999999999.99::DECIMAL(18,2), 1, 31))",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(got, "500.08 -500.08 5127618000.00 3225806451612.90");
    }
}
