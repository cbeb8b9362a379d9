//! The sample company: a believable home-furnishing retailer, generated inside
//! an in-memory DuckDB from the SQL in `queries/sample/` and written out as
//! source files plus an `opskpi.toml` that loads them.
//!
//! Every random choice is a hash of the seed and a row key, never a random
//! number generator's state, so the same seed and scale give byte-identical
//! files whatever the thread count.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use duckdb::{params, Connection};

use crate::config::{Company, Config, Format, Source};
use crate::error::{Error, Result};
use crate::{assets, model};

/// The tables the sample company fills.
pub const TABLES: &[&str] = &[
    "products",
    "customers",
    "stores",
    "employees",
    "sales",
    "inventory_snapshots",
    "market_sizes",
    "competitor_sales",
    "surveys",
    "sales_targets",
    "service_tickets",
    "deliveries",
    "suppliers",
    "purchase_orders",
    "quality_inspections",
    "product_projects",
    "evaluations",
];

#[derive(Debug, Clone)]
pub struct SampleSpec {
    pub seed: u64,
    /// 1.0 is about 220,000 order lines; lines grow linearly with it.
    pub scale: f64,
    pub format: Format,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Replace files of an earlier sample in the folder (`--force`; the
    /// demo's own folder); without it, a file that exists is refused.
    pub overwrite: bool,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            seed: 42,
            scale: 1.0,
            format: Format::Parquet,
            first_day: NaiveDate::from_ymd_opt(2023, 1, 1).expect("date"),
            last_day: NaiveDate::from_ymd_opt(2026, 10, 31).expect("date"),
            overwrite: false,
        }
    }
}

/// Writes the sample company into `out` and returns its configuration,
/// which is also written as `out/opskpi.toml`.
pub fn write(spec: &SampleSpec, out: &Path, progress: &dyn Fn(&str)) -> Result<Config> {
    if !(spec.scale > 0.0 && spec.scale <= 1000.0) {
        return Err(Error::config_hint(
            format!("scale {} is out of range", spec.scale),
            "use a scale above 0 and at most 1000 (1 is about 220,000 order lines)",
        ));
    }
    let extension = match spec.format {
        Format::Csv => "csv",
        Format::Parquet => "parquet",
        other => {
            return Err(Error::Internal(format!(
                "the sample is written as CSV or Parquet, not {}",
                other.name()
            )))
        }
    };
    if !spec.overwrite {
        refuse_to_overwrite(out, extension)?;
    }
    fs_err::create_dir_all(out)?;
    // A scratch database on disk beside the output, with a memory limit:
    // tables that outgrow it are written to the file or spilled, so a
    // 10-million-line company is generated in under 2 GB of memory (all in
    // memory it took 8.5 GB). Dropped with the scratch folder.
    let scratch = tempfile::Builder::new()
        .prefix(".opskpi-sample-")
        .tempdir_in(out)?;
    let conn =
        Connection::open(scratch.path().join("sample.duckdb")).map_err(Error::query("sample"))?;
    conn.execute_batch(&format!(
        "SET memory_limit = '{SAMPLE_MEMORY}'; SET temp_directory = '{}'; SET preserve_insertion_order = false;",
        scratch.path().join("spill").display().to_string().replace('\'', "''")
    ))
    .map_err(Error::query("sample memory"))?;
    generate(&conn, spec, progress)?;

    let mut sources = Vec::new();
    for name in TABLES {
        progress(&format!("writing {name}"));
        let table = model::table(name).expect("sample tables are canonical");
        let file = PathBuf::from(format!("{name}.{extension}"));
        let columns: Vec<&str> = table
            .columns
            .iter()
            .map(|column| column.name)
            .filter(|column| has_column(&conn, name, column))
            .collect();
        let options = match spec.format {
            Format::Csv => "(FORMAT csv, HEADER true)",
            // One thread's worth of row groups keeps the bytes identical run to run.
            _ => "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)",
        };
        let sql = format!(
            "COPY (SELECT {} FROM {name} ORDER BY {}) TO ? {options}",
            columns.join(", "),
            table.key.join(", ")
        );
        conn.execute(&sql, params![out.join(&file).display().to_string()])
            .map_err(Error::query(format!("write sample {name}")))?;
        sources.push(Source::new(name, file));
    }

    let mut config = Config::with_root(out);
    config.company = Company {
        name: "Hearth & Home Furnishings".into(),
        // Taiwan: timestamps written without an offset are local time.
        timezone: "+08:00".into(),
        ..Company::default()
    };
    config.sources = sources;
    let text = format!(
        "# The sample company (seed {}, scale {}), written by `opskpi sample`.\n\
         # Load it with `opskpi ingest --config {}`.\n\n{}",
        spec.seed,
        spec.scale,
        out.join("opskpi.toml").display(),
        config.to_toml()
    );
    fs_err::write(out.join("opskpi.toml"), text)?;
    // The monthly close as a pipeline (`opskpi run DIR/pipelines/monthly.toml`).
    fs_err::create_dir_all(out.join("pipelines"))?;
    fs_err::write(out.join("pipelines").join("monthly.toml"), MONTHLY_PIPELINE)?;
    Ok(config)
}

/// Refuses to write the sample over files already in `out` (a user's edited
/// `opskpi.toml`, say), naming them.
fn refuse_to_overwrite(out: &Path, extension: &str) -> Result<()> {
    let mut names: Vec<String> = vec!["opskpi.toml".into(), "pipelines/monthly.toml".into()];
    names.extend(TABLES.iter().map(|table| format!("{table}.{extension}")));
    let existing: Vec<String> = names
        .into_iter()
        .filter(|name| out.join(name).exists())
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    Err(Error::config_hint(
        format!(
            "`{}` already holds {} the sample would overwrite: {}",
            out.display(),
            if existing.len() == 1 {
                "a file"
            } else {
                "files"
            },
            existing.join(", ")
        ),
        "write into a new folder, or add --force to replace them",
    ))
}

/// DuckDB's memory while generating the sample (the process peaks a few
/// hundred MB above it).
const SAMPLE_MEMORY: &str = "1GB";

/// The example pipeline, as committed in `sample-data/pipelines/`.
pub const MONTHLY_PIPELINE: &str = include_str!("../sample-data/pipelines/monthly.toml");

/// Runs the generator SQL on `conn`, leaving one table per canonical table.
pub fn generate(conn: &Connection, spec: &SampleSpec, progress: &dyn Fn(&str)) -> Result<()> {
    conn.execute("SET VARIABLE seed = ?", params![spec.seed as i64])
        .map_err(Error::query("sample seed"))?;
    conn.execute("SET VARIABLE scale = ?", params![spec.scale])
        .map_err(Error::query("sample scale"))?;
    conn.execute("SET VARIABLE first_day = ?::DATE", params![spec.first_day])
        .map_err(Error::query("sample dates"))?;
    conn.execute("SET VARIABLE last_day = ?::DATE", params![spec.last_day])
        .map_err(Error::query("sample dates"))?;
    for (name, text) in assets::sql_under("sample") {
        progress(&format!("generating {name}"));
        conn.execute_batch(text)
            .map_err(Error::query(format!("sample/{name}")))?;
    }
    Ok(())
}

fn has_column(conn: &Connection, table: &str, column: &str) -> bool {
    conn.query_row(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND column_name = ?",
        params![table, column],
        |row| row.get::<_, i64>(0),
    )
    .map(|count| count > 0)
    .unwrap_or(false)
}
