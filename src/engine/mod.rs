//! The engines behind the indicator layer's `Engine` trait: DuckDB (the
//! warehouse itself, `warehouse.rs`) and Polars (`polars`), which computes
//! the same components with Polars lazy frames over the canonical tables.

pub mod polars;
