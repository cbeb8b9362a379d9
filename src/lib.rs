//! opskpi: an analytics and KPI reporting engine for a retailer's operations
//! department. Source files go into a DuckDB warehouse, a catalogue of
//! indicators is computed over it, and reports are rendered from templates.
//!
//! The library does no terminal I/O and never reads the clock or the
//! environment: the command line (`cli`) resolves all of that and passes it in.

pub mod assessment;
pub mod calendar;
pub mod check;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod explain;
pub mod export;
pub mod forecast;
pub mod format;
pub mod frames;
pub mod indicators;
pub mod ingest;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod queries;
pub mod report;
pub mod run;
pub mod sample;
pub mod saved;
pub mod sql;
pub mod warehouse;

pub use error::{Error, Result};
