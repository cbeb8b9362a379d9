//! The engines behind the indicator layer's `Engine` trait: DuckDB (the
//! warehouse itself computing with the SQL of `queries/components/`,
//! `duckdb.rs`) and Polars (`polars/`), which computes the same components
//! with Polars lazy frames over the canonical tables.
//! A command takes its engine from `--engine`, else the configuration's
//! `engine`, else DuckDB.

mod duckdb;
pub mod polars;

use crate::config::EngineKind;
use crate::indicators::Engine;
use crate::warehouse::Warehouse;

/// The chosen engine over one warehouse.
pub enum Engines<'a> {
    Duckdb(&'a Warehouse),
    Polars(polars::PolarsEngine<'a>),
}

impl<'a> Engines<'a> {
    pub fn new(kind: EngineKind, warehouse: &'a Warehouse) -> Engines<'a> {
        match kind {
            EngineKind::Duckdb => Engines::Duckdb(warehouse),
            EngineKind::Polars => Engines::Polars(polars::PolarsEngine::new(warehouse)),
        }
    }

    pub fn get(&self) -> &dyn Engine {
        match self {
            Engines::Duckdb(warehouse) => *warehouse,
            Engines::Polars(engine) => engine,
        }
    }
}
