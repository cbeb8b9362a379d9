//! Parquet through arrow-rs's writer: the batches' own types (decimals stay
//! Decimal with their scale, dates Date), Snappy-compressed, a row group
//! flushed every million rows so memory stays flat.

use std::path::{Path, PathBuf};

use duckdb::arrow::datatypes::SchemaRef;
use duckdb::arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::{failed, Pending, Sink};
use crate::error::Result;

const ROW_GROUP_ROWS: usize = 1 << 20;

pub struct ParquetSink {
    writer: ArrowWriter<std::fs::File>,
    pending: Pending,
    path: PathBuf,
}

impl ParquetSink {
    pub fn new(schema: &SchemaRef, path: &Path) -> Result<ParquetSink> {
        let pending = Pending::new(path)?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("opskpi {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = ArrowWriter::try_new(pending.file()?, schema.clone(), Some(properties))
            .map_err(|e| failed(Some(path), e))?;
        Ok(ParquetSink {
            writer,
            pending,
            path: path.to_path_buf(),
        })
    }
}

impl Sink for ParquetSink {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .write(batch)
            .map_err(|e| failed(Some(&self.path), e))
    }

    fn finish(self: Box<Self>, _total: u64) -> Result<()> {
        let ParquetSink {
            writer,
            pending,
            path,
        } = *self;
        writer.close().map_err(|e| failed(Some(&path), e))?;
        pending.complete()
    }
}
