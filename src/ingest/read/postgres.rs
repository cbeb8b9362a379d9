//! PostgreSQL tables and queries. Not yet implemented: a source that asks
//! for one is refused with that message rather than loaded partly.

use crate::config::Source;
use crate::error::{Error, Result};

use super::Raw;

pub fn read(
    _conn: &duckdb::Connection,
    source: &Source,
    _name: &str,
    _watermark: Option<&str>,
) -> Result<Raw> {
    Err(Error::config_hint(
        format!(
            "`{}`: PostgreSQL sources are not supported yet",
            source.describe()
        ),
        "export the table to CSV or Parquet for now",
    ))
}
