//! Writing a result — Arrow record batches as DuckDB streams them, or KPI
//! rows turned into one — in the format asked for, batch by batch: nothing
//! is held in memory but the rows a terminal table shows. One sink per
//! format: `text` (terminal table, CSV, JSON, NDJSON), `parquet`, `xlsx`.
//!
//! Machine formats carry every value at the precision it has: decimals as
//! exact decimal text (CSV, JSON) or as Decimal types (Parquet); Excel
//! stores numbers as doubles, so a decimal with more than 15 significant
//! digits goes into its cell as text rather than rounded. A file is written
//! beside its destination and moved into place when complete, so a failed
//! export never leaves half a file under the name asked for.

mod parquet;
mod text;
mod xlsx;

use std::path::{Path, PathBuf};

use duckdb::arrow::datatypes::SchemaRef;
use duckdb::arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};

pub use text::{texts, TABLE_ROWS};

/// How a result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Aligned columns for a terminal (`sql` and `query`: the first 100
    /// rows unless --limit).
    Table,
    Csv,
    /// An array of objects; numbers as JSON numbers with every digit.
    Json,
    /// One JSON object per line (newline-delimited JSON).
    Ndjson,
    /// Apache Parquet (typed columns, exact decimals; needs --out).
    Parquet,
    /// An Excel workbook (a further sheet every 1,048,575 rows; needs --out).
    Xlsx,
}

impl ExportFormat {
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Table => "table",
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Parquet => "parquet",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    /// Formats that are files, not text for a terminal or a pipe.
    pub fn needs_file(self) -> bool {
        matches!(self, ExportFormat::Parquet | ExportFormat::Xlsx)
    }

    /// The format a file name asks for (`.csv`, `.json`, `.ndjson`/`.jsonl`,
    /// `.parquet`, `.xlsx`).
    pub fn from_path(path: &Path) -> Option<ExportFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match extension.as_str() {
            "csv" => ExportFormat::Csv,
            "json" => ExportFormat::Json,
            "ndjson" | "jsonl" => ExportFormat::Ndjson,
            "parquet" => ExportFormat::Parquet,
            "xlsx" => ExportFormat::Xlsx,
            _ => return None,
        })
    }
}

/// What a sink wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Rows written.
    pub rows: u64,
    /// Rows the result had (more than `rows` when a limit left some out).
    pub total: u64,
}

/// Where a format's rows go, batch by batch.
trait Sink {
    fn write(&mut self, batch: &RecordBatch) -> Result<()>;
    /// Completes the output (moves a file into place); `total` is how many
    /// rows the result had, of which a limit may have passed on fewer.
    fn finish(self: Box<Self>, total: u64) -> Result<()>;
}

/// A result being written: `write` each batch, then `finish`.
pub struct Export {
    inner: Box<dyn Sink>,
    limit: Option<u64>,
    rows: u64,
    total: u64,
}

/// An export of `format` to `out` (the terminal when `None`), with at most
/// `limit` rows.
pub fn sink(
    format: ExportFormat,
    schema: &SchemaRef,
    out: Option<&Path>,
    limit: Option<usize>,
) -> Result<Export> {
    let inner: Box<dyn Sink> = match (format, out) {
        (ExportFormat::Parquet | ExportFormat::Xlsx, None) => {
            return Err(Error::config_hint(
                format!("{} is a file format", format.name()),
                format!("add --out FILE.{}", format.name()),
            ))
        }
        (ExportFormat::Parquet, Some(path)) => Box::new(parquet::ParquetSink::new(schema, path)?),
        (ExportFormat::Xlsx, Some(path)) => Box::new(xlsx::XlsxSink::new(schema, path)?),
        (ExportFormat::Table, _) => Box::new(text::TableSink::new(schema, out)?),
        (_, _) => Box::new(text::TextSink::new(format, schema, out)?),
    };
    Ok(Export {
        inner,
        limit: limit.map(|n| n as u64),
        rows: 0,
        total: 0,
    })
}

/// Writes every batch of `batches` through a sink made once the schema is
/// known.
pub fn write_all(
    format: ExportFormat,
    schema: &SchemaRef,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
    out: Option<&Path>,
    limit: Option<usize>,
) -> Result<Written> {
    let mut sink = sink(format, schema, out, limit)?;
    for batch in batches {
        sink.write(&batch?)?;
    }
    sink.finish()
}

impl Export {
    /// Passes on the rows within the limit and counts the rest.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows() as u64;
        self.total += n;
        let room = self
            .limit
            .map_or(n, |limit| limit.saturating_sub(self.rows));
        if room == 0 {
            return Ok(());
        }
        if room < n {
            self.inner.write(&batch.slice(0, room as usize))?;
            self.rows += room;
        } else {
            self.inner.write(batch)?;
            self.rows += n;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Written> {
        self.inner.finish(self.total)?;
        Ok(Written {
            rows: self.rows,
            total: self.total,
        })
    }
}

/// A file being written beside `path`, moved onto it when complete.
pub struct Pending {
    file: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Pending {
    pub fn new(path: &Path) -> Result<Pending> {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(Error::config_hint(
                format!(
                    "cannot write `{}`: no folder `{}`",
                    path.display(),
                    dir.display()
                ),
                "create the folder first, or write somewhere else",
            ));
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(".opskpi-export-");
        // An ordinary file (the umask applies), not a private temporary one.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let file = builder.tempfile_in(&dir)?;
        Ok(Pending {
            file,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn file(&self) -> Result<std::fs::File> {
        Ok(self.file.as_file().try_clone()?)
    }

    pub fn temp_path(&self) -> &Path {
        self.file.path()
    }

    /// Moves the file onto its name: its bytes on disk first, then the
    /// rename, then the folder's entry on disk, so that a crash leaves the
    /// old file or the whole new one.
    pub fn complete(self) -> Result<()> {
        self.file.as_file().sync_all()?;
        let dir = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        self.file
            .persist(&self.path)
            .map_err(|e| Error::Io(e.error))?;
        sync_folder(&dir)
    }
}

/// Flushes a folder's entries to disk (a rename in it is durable then);
/// nothing to do where folders cannot be opened as files.
fn sync_folder(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    fs_err::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `bytes` beside `path` and moves them into place.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_set(&[(path.to_path_buf(), bytes.to_vec())])
}

/// Writes a set of files that belong together (a report's HTML, PDF and
/// manifest): every one beside its name and on disk before the first is
/// moved into place, in order — so a failure while writing leaves every
/// previous file as it was; the last (the manifest) lands last.
pub fn write_set(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut pending = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let file = Pending::new(path)?;
        fs_err::write(file.temp_path(), bytes)?;
        pending.push(file);
    }
    for file in pending {
        file.complete()?;
    }
    Ok(())
}

/// An export error, naming the file.
pub(crate) fn failed(path: Option<&Path>, what: impl std::fmt::Display) -> Error {
    match path {
        Some(path) => Error::Internal(format!("write `{}`: {what}", path.display())),
        None => Error::Internal(format!("write the answer: {what}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_says_its_format() {
        assert_eq!(
            ExportFormat::from_path(Path::new("a/top.XLSX")),
            Some(ExportFormat::Xlsx)
        );
        assert_eq!(
            ExportFormat::from_path(Path::new("g.parquet")),
            Some(ExportFormat::Parquet)
        );
        assert_eq!(
            ExportFormat::from_path(Path::new("g.jsonl")),
            Some(ExportFormat::Ndjson)
        );
        assert_eq!(ExportFormat::from_path(Path::new("notes.txt")), None);
    }
}
