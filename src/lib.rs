//! opskpi: an analytics and KPI reporting engine for a retailer's operations
//! department. Source files go into a DuckDB warehouse, a catalogue of
//! indicators is computed over it, and reports are rendered from templates.
//!
//! The library does no terminal I/O and never reads the clock or the
//! environment: the command line (`cli`) resolves all of that and passes it
//! in. The modules below are listed by layer, from the ground up; a module
//! uses only the layers below its own (ARCHITECTURE.md, "Layers", which a
//! test holds the code to).
//!
//! # Using opskpi as a crate
//!
//! KPI rows and query answers come as Arrow record batches and as Polars
//! frames with typed columns (values Decimal(38, 18), dates as dates):
//!
//! ```rust
//! use opskpi::calendar::Period;
//! use opskpi::indicators::KpiRequest;
//! use opskpi::{contract, jobs};
//!
//! let config = jobs::load_config("company/opskpi.toml".as_ref())?;
//! let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
//! let rows = jobs::kpi(&config, as_of, &KpiRequest {
//!     indicators: vec!["net_sales".into(), "csat".into()],
//!     periods: Period::parse("2026-10", config.calendar())?.series(13),
//!     dims: vec!["region".into()],
//! })?;
//! let frame = contract::kpi_frame(&rows)?;     // a polars::DataFrame
//! let batch = contract::batch(&rows)?;         // the same as an Arrow RecordBatch
//! # Ok::<(), opskpi::Error>(())
//! ```
//!
//! `jobs::sql_frame(&config, as_of, "select …")` and
//! `jobs::saved_query_frame(&config, as_of, "top_products", &params)` give
//! the answers of `opskpi sql` and `opskpi query` as frames
//! (`jobs::sql_batches` / `saved_query_batches` as record batches), and
//! `jobs::query_frame(&warehouse, sql)` any read query's. The batches cross
//! from DuckDB's arrow-rs to polars-arrow through the Arrow C Data Interface
//! (`frames`): the buffers move without a copy (text gains Polars' 16-byte
//! view per value), and DuckDB's 2,048-row batches are joined into one chunk
//! once — the one copy. To compute with the Polars engine in a program, keep
//! one `engine::polars::PolarsEngine::new(&warehouse)` and pass it to
//! `indicators::compute` (or `jobs::render_html_on`): the columns it has read
//! stay in memory for the next request.

// Layer 0: the ground.
pub mod error;

// Layer 1: the canonical model, the files built in, fail points.
pub mod assets;
pub mod faults;
pub mod magic;
pub mod model;

// Layer 2: infrastructure and the calendar.
pub mod calendar;
pub mod export;
pub mod frames;
pub mod lake;
pub mod warehouse;

// Layer 3: the project's configuration, plain data.
pub mod config;

// Layer 4: the indicator library.
pub mod indicators;

// Layer 5: what the indicators are read through.
pub mod explain;
pub mod forecast;
pub mod locale;

// Layer 6: engines, loads and the other work on the warehouse.
pub mod assessment;
pub mod check;
pub mod contract;
pub mod engine;
pub mod ingest;
pub mod sample;

// Layer 7: reports and the SQL door.
pub mod report;
pub mod sql;

// Layer 8: delivery, the jobs of the commands, and the server.
pub mod delivery;
pub mod jobs;
pub mod serve;

// Layer 9: pipelines of jobs.
pub mod pipeline;

// Layer 10: the command line, and the readers as fuzzing properties.
pub mod cli;
#[doc(hidden)]
pub mod fuzz;

pub use error::{Error, Result};
