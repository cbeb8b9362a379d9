//! The supply chain, product and people queries in Polars:
//! `queries/components/purchasing.sql`, `quality.sql`, `projects.sql` and
//! `ratings.sql`. Each counts its rows on one date of the row.

use polars::prelude::*;

use super::{by_window, count_if, left_join, renamed, sql_sum, unknown, PolarsEngine};
use crate::error::Result;

fn aggregates(
    query: &str,
    wanted: &[String],
    expr: impl Fn(&str) -> Option<Expr>,
) -> Result<Vec<Expr>> {
    wanted
        .iter()
        .map(|name| {
            expr(name)
                .map(|e| e.alias(name.as_str()))
                .ok_or_else(|| unknown(query, name))
        })
        .collect()
}

/// Purchase order lines by the day they were promised (lines without one
/// are left out). On time: received on or before the promised date.
/// Quantities received and rejected are given when the purchase orders have
/// them at all. Price variance compares what the received quantity cost with
/// the products' standard unit cost, over lines that have both.
pub fn purchasing(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    wanted: &[String],
) -> Result<LazyFrame> {
    let products = engine.table("products")?.select([
        col("sku"),
        col("category"),
        col("unit_cost").alias("standard_cost"),
    ]);
    let lines = left_join(
        engine
            .table("purchase_orders")?
            .filter(col("promised_on").is_not_null())
            .with_columns([
                col("promised_on").alias("day"),
                renamed("supplier_id", "supplier"),
            ]),
        products,
        &["sku"],
    );
    let has_received = engine.has_values("purchase_orders", "qty_received")?;
    let has_rejected = engine.has_values("purchase_orders", "qty_rejected")?;
    let costed = col("unit_cost")
        .is_not_null()
        .and(col("standard_cost").is_not_null());
    let present_sum = |present: bool, column: &str| {
        if present {
            col(column).fill_null(lit(0)).sum()
        } else {
            lit(NULL).cast(DataType::Int64)
        }
    };
    let aggregates = aggregates("purchasing", wanted, |name| {
        Some(match name {
            "lines_due" => len(),
            "received_on_time" => count_if(col("received_on").lt_eq(col("promised_on"))),
            "qty_ordered" => sql_sum(col("qty_ordered")),
            "qty_received" => present_sum(has_received, "qty_received"),
            "qty_rejected" => present_sum(has_rejected, "qty_rejected"),
            "cost_actual" => {
                sql_sum((col("qty_received") * col("unit_cost")).filter(costed.clone()))
            }
            "cost_standard" => {
                sql_sum((col("qty_received") * col("standard_cost")).filter(costed.clone()))
            }
            _ => return None,
        })
    })?;
    Ok(by_window(spine, lines, dims, aggregates))
}

/// Quality inspections by the day of the inspection; one passes when it
/// found no defective unit.
pub fn quality(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    wanted: &[String],
) -> Result<LazyFrame> {
    let mut inspected = engine.table("quality_inspections")?.with_columns([
        col("inspected_on").alias("day"),
        renamed("supplier_id", "supplier"),
    ]);
    if dims.iter().any(|d| d == "category") {
        let products = engine
            .table("products")?
            .select([col("sku"), col("category")]);
        inspected = left_join(inspected, products, &["sku"]);
    }
    let aggregates = aggregates("quality", wanted, |name| {
        Some(match name {
            "inspections" => len(),
            "inspections_passed" => count_if(col("qty_defective").eq(lit(0))),
            "qty_inspected" => sql_sum(col("qty_inspected")),
            "qty_defective" => sql_sum(col("qty_defective")),
            _ => return None,
        })
    })?;
    Ok(by_window(spine, inspected, dims, aggregates))
}

/// Development projects by the day their current stage is due (those
/// without a due date are left out); a stage not done is behind.
pub fn projects(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    wanted: &[String],
) -> Result<LazyFrame> {
    let due = engine
        .table("product_projects")?
        .filter(col("stage_due_on").is_not_null())
        .with_column(col("stage_due_on").alias("day"));
    let aggregates = aggregates("projects", wanted, |name| {
        Some(match name {
            "stages_due" => len(),
            "stages_on_time" => count_if(col("stage_done_on").lt_eq(col("stage_due_on"))),
            _ => return None,
        })
    })?;
    Ok(by_window(spine, due, dims, aggregates))
}

/// Employee ratings: a rating counts in the window that holds its period's
/// first day.
pub fn ratings(
    engine: &PolarsEngine,
    spine: LazyFrame,
    dims: &[String],
    wanted: &[String],
) -> Result<LazyFrame> {
    let mut rated = engine.table("evaluations")?.with_columns([
        col("period").alias("day"),
        renamed("employee_id", "salesperson"),
        renamed("dimension", "criterion"),
    ]);
    if dims.iter().any(|d| d == "team") {
        let employees = engine
            .table("employees")?
            .select([col("employee_id"), col("team")]);
        rated = left_join(rated, employees, &["employee_id"]);
    }
    let aggregates = aggregates("ratings", wanted, |name| {
        Some(match name {
            "ratings" => len(),
            "score_sum" => sql_sum(col("score")),
            _ => return None,
        })
    })?;
    Ok(by_window(spine, rated, dims, aggregates))
}
