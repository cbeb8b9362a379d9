//! The engines behind the indicator layer's `Engine` trait: DuckDB (the
//! warehouse itself computing with the SQL of `queries/components/`,
//! `duckdb.rs`) and Polars (`polars/`), which computes the same components
//! with Polars lazy frames over the canonical tables.
//! A command takes its engine from `--engine`, else the configuration's
//! `engine`, else DuckDB.

mod answer;
mod duckdb;
pub mod polars;
pub mod spark;

use crate::config::{Config, EngineKind};
use crate::error::Result;
use crate::indicators::Engine;
use crate::warehouse::Warehouse;

/// The chosen engine over one warehouse.
pub enum Engines<'a> {
    Duckdb(&'a Warehouse),
    Polars(polars::PolarsEngine<'a>),
    Spark(Box<spark::SparkEngine>),
}

impl<'a> Engines<'a> {
    /// The configuration's engine (`config.engine`, which `--engine` sets).
    /// Spark is connected to here: an unreachable server is an error before
    /// any work starts.
    pub fn new(config: &Config, warehouse: &'a Warehouse) -> Result<Engines<'a>> {
        Ok(match config.engine {
            EngineKind::Duckdb => Engines::Duckdb(warehouse),
            EngineKind::Polars => Engines::Polars(polars::PolarsEngine::new(warehouse)),
            EngineKind::Spark => Engines::Spark(Box::new(spark::SparkEngine::connect(
                config,
                warehouse.offset_seconds(),
            )?)),
        })
    }

    pub fn get(&self) -> &dyn Engine {
        match self {
            Engines::Duckdb(warehouse) => *warehouse,
            Engines::Polars(engine) => engine,
            Engines::Spark(engine) => engine.as_ref(),
        }
    }
}
