//! Loading sources into the canonical tables.
//!
//! A run expands each source into files (a file, a folder, a glob), skips
//! files whose content it already holds, reads each changed file through the
//! reader for its kind (`read`), maps its columns (`mapping`), reads and
//! checks every value in one DuckDB scan (`stage`, with the value readers of
//! `values` registered by `udf`), sets bad rows aside in quarantine, and
//! refuses a file whose bad rows pass its threshold. Only when every file is
//! staged does it write, all in one transaction (`write`): a refused file
//! leaves the warehouse exactly as it was. A run whose files are all clean
//! is written once, straight from each file's checked scan (`direct`); at
//! the first sign of a row to set aside it is rolled back and staged.
//!
//! **Reading.** `read/` has one reader per source kind (`csv`, `excel`,
//! `json`, `parquet`, `postgres`), each turning a source into a raw relation
//! DuckDB scans, with the source's own headers and a way back to its lines.
//! A PostgreSQL source is read as the server's text form of each value
//! (optionally past a watermark), so it goes through exactly the same
//! mapping and checks as a file. `encoding.rs` settles and transcodes text
//! encodings; `mapping.rs` maps headers onto canonical columns (with
//! `dictionary.toml`) and knows the canonical words; `expr.rs` parses
//! column expressions.
//!
//! **Values.** `values.rs` reads values as written (ROC dates, full-width
//! digits, separators) as pure functions; `udf.rs` registers them in DuckDB
//! on the load's connection (with `_opskpi_padded`, so that only a text
//! `trim` would change is copied trimmed, and the readers of the common
//! case in place: `_opskpi_exact_{0,2,4,6}` for a plain number,
//! `_opskpi_iso_date` for `YYYY-MM-DD`, each NULL for any other spelling and
//! held to DuckDB's own cast by the tests). `cast.rs` writes the SQL that
//! reads a raw value as its canonical type: the readers of the common case,
//! then DuckDB's casts where exact, then the value readers, in one
//! `COALESCE` that tries each only on the rows still NULL — and never a
//! function of the value written twice, which DuckDB would compute for
//! every row ahead of it.
//!
//! **Checking and writing.** `stage.rs` builds the one scan that types and
//! checks every value (`plan`) and runs it into a stage table; `direct.rs`
//! runs it straight into the canonical table instead when a run's files are
//! all clean — stopping at the first row that breaks a rule (DuckDB's
//! `error()`), then checking keys and references on the rows written;
//! anything to set aside rolls the run back and it is staged, so both ways
//! leave the same rows and log (tested). `key_order.rs` proves a file's keys
//! unique while they are inserted (every chunk DuckDB hands
//! `_opskpi_key_order` strictly increasing and the chunks' key ranges
//! apart, and as many rows seen as inserted) — otherwise the keys are
//! grouped; nothing depends on how DuckDB cuts or orders chunks.
//! `checks.rs` holds the whole-file checks (references, repeated keys) and
//! where a set-aside row is and why; `judge.rs` refuses a file above its
//! bad-row threshold or describes its load; `write.rs` the lineage-aware
//! write and the load log's rows (the tables themselves are the
//! warehouse's schema); `summary.rs` what `opskpi ingest` prints.

mod cast;
pub mod checks;
mod direct;
pub mod encoding;
pub mod expr;
mod filter;
mod judge;
pub mod key_order;
pub mod mapping;
pub mod read;
pub mod stage;
mod summary;
mod tax;
pub mod udf;
pub mod values;
pub mod write;

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use duckdb::params;
use sha2::{Digest, Sha256};

use crate::config::{DuplicatePolicy, Format, Source};
use crate::error::{BadData, Error, Result};
use crate::faults::Faults;
use crate::model::{self, Table};
use crate::warehouse::Warehouse;
use stage::Stage;
pub use summary::summary;

/// What a run reports as it goes; the command line draws it.
#[derive(Debug, Clone, Copy)]
pub enum Report<'a> {
    /// A step: `reading sales.csv`.
    Step(&'a str),
    /// The share of the file being checked so far, 0 to 1, as DuckDB
    /// estimates it (it counts read buffers, not rows).
    Fraction(f64),
    /// How many rows the file being checked holds (before its fractions).
    Rows(read::RowCount),
}

/// How a run goes.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Read, map and check, report what would happen, write nothing.
    pub dry_run: bool,
    /// Forget everything loaded and load every source again.
    pub full: bool,
    /// UTC offset of timestamps without one, in seconds (`company.timezone`).
    pub offset_seconds: i32,
    /// Where transcoded copies of files go while a run lasts.
    pub scratch: Option<PathBuf>,
    /// Stage every file even when all are clean (the direct load's
    /// reference, for tests and benchmarks).
    pub staged: bool,
    /// Where the load fails on purpose (tests of crashes at each step).
    pub faults: Faults,
    /// The project's folder: a file inside it is known by its path from
    /// there, however the folder was spelled (`--config /abs/opskpi.toml`,
    /// a pipeline's `config = "../opskpi.toml"`), so the same file is the
    /// same file to the load log.
    pub root: Option<PathBuf>,
}

/// The name a file is known by in the load log: its path from the
/// project's folder when it is inside it, else its whole path, `.` and
/// `..` resolved lexically either way.
pub fn identity(root: Option<&Path>, file: &Path) -> String {
    // Both made absolute against the working folder (no file system
    // lookups), so `products.csv` from the project's folder and
    // `/srv/company/products.csv` from elsewhere meet.
    let absolute = |path: &Path| {
        // The empty folder (`--config opskpi.toml`) is the working one.
        let path = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        crate::config::normal(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
    };
    if file.to_string_lossy().starts_with("postgres:") {
        // A database source's name (`postgres:table:…`), not a path.
        return file.display().to_string();
    }
    let file = absolute(file);
    if let Some(root) = root {
        if let Ok(inside) = file.strip_prefix(absolute(root)) {
            return inside.display().to_string();
        }
    }
    file.display().to_string()
}

/// Rows set aside for one rule, with the first of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemSummary {
    pub rule: &'static str,
    pub column: String,
    pub count: u64,
    pub line: u64,
    pub value: Option<String>,
    pub message: String,
}

/// What happened (or, in a dry run, would happen) to one source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOutcome {
    pub table: String,
    pub file: PathBuf,
    /// Rows in the file.
    pub rows: u64,
    /// Rows written to the canonical table.
    pub loaded: u64,
    /// Rows already in the warehouse that this file's rows replaced.
    pub replaced: u64,
    /// Bad rows set aside in quarantine.
    pub quarantined: u64,
    /// Earlier rows of a repeated key, dropped for the last one (`keep_last`).
    pub superseded: u64,
    /// Rows the source's filter left out (`keep`).
    pub left_out: u64,
    /// Values rounded from a float artifact (`decimals = "round"`).
    pub rounded: u64,
    /// Rows that repeat a key of another row of the file.
    pub duplicates: u64,
    /// The file was loaded before with the same content and was skipped.
    pub unchanged: bool,
    /// What the reader detected (encoding, delimiter, header, sheet).
    pub notes: Vec<(String, String)>,
    /// Canonical column → where it comes from.
    pub mapping: Vec<(String, String)>,
    pub problems: Vec<ProblemSummary>,
    /// Dry run: the first rows as they would be loaded.
    pub preview: Vec<Vec<String>>,
    pub place: &'static str,
}

impl LoadOutcome {
    fn unchanged(table: &str, file: &Path) -> LoadOutcome {
        LoadOutcome {
            table: table.into(),
            file: file.to_path_buf(),
            rows: 0,
            loaded: 0,
            replaced: 0,
            quarantined: 0,
            superseded: 0,
            left_out: 0,
            rounded: 0,
            duplicates: 0,
            unchanged: true,
            notes: Vec::new(),
            mapping: Vec::new(),
            problems: Vec::new(),
            preview: Vec::new(),
            place: "line",
        }
    }
}

/// The files a source names: the file, every visible file of a folder, or
/// the matches of a glob, in name order.
pub fn expand(source: &Source) -> Result<Vec<PathBuf>> {
    let Some(path) = &source.path else {
        return Ok(Vec::new());
    };
    let text = path.display().to_string();
    let hidden = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.') || n.starts_with("~$"))
    };
    let mut files: Vec<PathBuf> = if text.contains(['*', '?', '[']) {
        glob::glob(&text)
            .map_err(|error| {
                Error::config_hint(
                    format!("the source path `{text}` is not a valid pattern: {error}"),
                    "use `*` for any name part, `?` for one character",
                )
            })?
            .filter_map(|entry| entry.ok())
            .filter(|p| p.is_file() && !hidden(p))
            .collect()
    } else if path.is_dir() {
        fs_err::read_dir(path)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && !hidden(p))
            .filter(|p| source.format.is_some() || Format::from_extension(p).is_some())
            .collect()
    } else if path.exists() {
        vec![path.clone()]
    } else {
        return Err(Error::Config {
            message: format!("`{text}` does not exist"),
            hint: Some("check the source's `path` in opskpi.toml (relative paths start at the file's folder)".into()),
        });
    };
    files.sort();
    if files.is_empty() {
        return Err(Error::config_hint(
            format!("the source `{text}` names no files"),
            "check the folder or pattern; hidden files and Excel lock files (`~$…`) are skipped",
        ));
    }
    Ok(files)
}

fn file_sha256(path: &Path) -> Result<String> {
    // In 1 MiB blocks (`io::copy` writes a `BufReader`'s own buffer): in
    // its default 8 KiB ones the hash of an 881 MB file took 1.6 s, in
    // 1 MiB blocks 0.6 s.
    let mut file = std::io::BufReader::with_capacity(1 << 20, fs_err::File::open(path)?);
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// The digest of how a source reads its files: everything but where they
/// are and how many bad rows it allows. A file loaded under other settings
/// (a row filter added, a column mapped anew) is read again even when its
/// bytes are the same.
pub fn settings_digest(source: &Source) -> String {
    // Never a connection string (it may hold a password), not even hashed.
    let postgres = source
        .postgres
        .clone()
        .map(|pg| crate::config::PostgresSource { url: None, ..pg });
    let reading = Source {
        path: None,
        max_bad_rows: Default::default(),
        postgres,
        ..source.clone()
    };
    let text = serde_json::to_string(&reading).unwrap_or_default();
    let digest = format!("{:x}", Sha256::digest(text.as_bytes()));
    digest[..16].to_string()
}

/// The content hash the warehouse holds for `file`, if the file was last
/// loaded under the same settings (`settings_digest`; a file loaded by an
/// opskpi that recorded none counts as the same).
fn last_sha256(
    warehouse: &Warehouse,
    table: &Table,
    file: &str,
    settings: &str,
) -> Result<Option<String>> {
    let found: Option<(String, Option<String>)> = warehouse
        .connection()
        .query_row(
            "SELECT sha256, settings FROM _opskpi_files WHERE table_name = ? AND file = ? \
             ORDER BY file_id DESC LIMIT 1",
            params![table.name, file],
            |row| Ok(Some((row.get(0)?, row.get(1)?))),
        )
        .or_else(|error| match error {
            duckdb::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })
        .map_err(Error::query("last load"))?;
    Ok(found.and_then(|(sha256, recorded)| {
        recorded
            .is_none_or(|recorded| recorded == settings)
            .then_some(sha256)
    }))
}

/// One file staged and judged, waiting to be written.
struct Staged {
    position: usize,
    /// A new version of the file replaces the rows it brought before; an
    /// increment read past a watermark adds to them.
    replace_own: bool,
    watermark: Option<String>,
    stage: Stage,
    file: PathBuf,
    sha256: String,
    duplicates: u64,
    outcome: LoadOutcome,
}

/// Renames the load log's files recorded by another spelling of the
/// project's folder (an absolute path inside it) to the name they are
/// known by now, so that an upgrade finds them unchanged. One
/// transaction; nothing to do in the usual case.
fn rename_to_identities(warehouse: &Warehouse, root: Option<&Path>) -> Result<()> {
    let conn = warehouse.connection();
    let names: Vec<String> = conn
        .prepare("SELECT DISTINCT file FROM _opskpi_files")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| row.get(0))?
                .collect::<duckdb::Result<_>>()
        })
        .map_err(Error::query("file names"))?;
    let renames: Vec<(String, String)> = names
        .into_iter()
        // Only absolute names: a relative one is already the name from the
        // project's folder (or from a working folder no longer known).
        .filter(|name| Path::new(name).is_absolute())
        .filter_map(|name| {
            let known_as = identity(root, Path::new(&name));
            (known_as != name).then_some((name, known_as))
        })
        .collect();
    if renames.is_empty() {
        return Ok(());
    }
    let rename = || -> duckdb::Result<()> {
        for (old, new) in &renames {
            for table in ["_opskpi_files", "_opskpi_loads", "_opskpi_quarantine"] {
                conn.execute(
                    &format!("UPDATE {table} SET file = ? WHERE file = ?"),
                    params![new, old],
                )?;
            }
        }
        Ok(())
    };
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(Error::query("rename files"))?;
    match rename() {
        Ok(()) => conn
            .execute_batch("COMMIT")
            .map_err(Error::query("rename files")),
        Err(error) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(Error::query("rename files")(error))
        }
    }
}

/// Loads `sources` (paths already resolved) in one transaction.
pub fn ingest(
    warehouse: &mut Warehouse,
    sources: &[Source],
    loaded_at: NaiveDateTime,
    options: &IngestOptions,
    report: &(dyn Fn(Report) + Sync),
) -> Result<Vec<LoadOutcome>> {
    let progress = |step: &str| report(Report::Step(step));
    udf::register(warehouse.connection())?;
    if !options.dry_run {
        rename_to_identities(warehouse, options.root.as_deref())?;
    }
    let scratch = match &options.scratch {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir(),
    };
    fs_err::create_dir_all(&scratch)?;
    let scratch = tempfile::Builder::new()
        .prefix("opskpi-ingest-")
        .tempdir_in(&scratch)?;
    // Dimensions before facts, so references can be checked against this run.
    let mut ordered: Vec<&Source> = sources.iter().collect();
    ordered.sort_by_key(|source| stage::load_order(&source.table));
    // Clean files are written once, straight from their checked scan; a
    // run with anything to set aside or refuse is staged.
    if direct::eligible(sources, options) {
        if let Some(outcomes) = direct::load(
            warehouse,
            &ordered,
            loaded_at,
            options,
            scratch.path(),
            report,
        )? {
            return Ok(outcomes);
        }
        progress("a file has rows to set aside or refuse: staging the run");
    }
    let run = StagedRun {
        warehouse,
        loaded_at,
        options,
        scratch: scratch.path(),
        report,
    };
    let mut staged: Vec<Staged> = Vec::new();
    // (position among the run's files, outcome): reported in source order.
    let mut outcomes: Vec<(usize, LoadOutcome)> = Vec::new();
    if let Err(error) = run.stage_all(&ordered, &mut staged, &mut outcomes) {
        drop_stages(warehouse, &staged);
        return Err(error);
    }
    if options.dry_run {
        drop_stages(warehouse, &staged);
        outcomes.extend(staged.into_iter().map(|s| (s.position, s.outcome)));
        return Ok(in_order(outcomes));
    }
    progress("writing");
    let written = write_all(warehouse.connection(), &staged, loaded_at, options);
    drop_stages(warehouse, &staged);
    outcomes.extend(written?);
    Ok(in_order(outcomes))
}

/// A run of files staged one by one before anything is written.
struct StagedRun<'a> {
    warehouse: &'a Warehouse,
    loaded_at: NaiveDateTime,
    options: &'a IngestOptions,
    scratch: &'a Path,
    report: &'a (dyn Fn(Report) + Sync),
}

impl StagedRun<'_> {
    fn progress(&self, step: &str) {
        (self.report)(Report::Step(step))
    }

    /// Stages and judges every input of `sources`, in order, into `staged`;
    /// inputs unchanged since their last load go straight to `outcomes`.
    fn stage_all(
        &self,
        sources: &[&Source],
        staged: &mut Vec<Staged>,
        outcomes: &mut Vec<(usize, LoadOutcome)>,
    ) -> Result<()> {
        let mut position = 0;
        for source in sources {
            source.check()?;
            let table = model::table(&source.table).expect("checked");
            // A database source is one input; a file source one per file.
            let inputs: Vec<Option<PathBuf>> = if source.postgres.is_some() {
                vec![None]
            } else {
                expand(source)?.into_iter().map(Some).collect()
            };
            for input in inputs {
                position += 1;
                let name = format!("_opskpi_stage_{}", staged.len());
                let read = match input {
                    None => self.read_postgres(source, table, &name)?,
                    Some(file) => self.read_file(source, table, file, &name)?,
                };
                match read {
                    Read::Unchanged(file) => {
                        outcomes.push((position, LoadOutcome::unchanged(table.name, &file)))
                    }
                    Read::Changed(input) => {
                        let item =
                            self.stage_one(source, table, *input, &name, position, staged)?;
                        staged.push(item);
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads a PostgreSQL source (past its watermark, if it has one).
    fn read_postgres(&self, source: &Source, table: &'static Table, name: &str) -> Result<Read> {
        let (warehouse, options) = (self.warehouse, self.options);
        let conn = warehouse.connection();
        let pg = source.postgres.as_ref().expect("a postgres source");
        let identity = read::postgres::identity(pg);
        let last = match (&pg.watermark, options.full) {
            (Some(_), false) => last_watermark(warehouse, table, &identity)?,
            _ => None,
        };
        self.progress(&format!("reading {}", source.describe()));
        let read = read::postgres::read(conn, source, name, last.as_deref())?;
        let file = PathBuf::from(&read.identity);
        let unchanged = match &pg.watermark {
            Some(_) => last.is_some() && read.watermark == last,
            None => {
                !options.full
                    && last_sha256(warehouse, table, &read.identity, &settings_digest(source))?
                        .as_deref()
                        == Some(read.sha256.as_str())
            }
        };
        if unchanged {
            let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS {name}_raw"));
            return Ok(Read::Unchanged(file));
        }
        Ok(Read::Changed(Box::new(Input {
            file,
            sha256: FileHash::known(read.sha256),
            raw: read.raw,
            watermark: read.watermark,
        })))
    }

    /// Reads a file of a source, unless the warehouse holds its content.
    fn read_file(
        &self,
        source: &Source,
        table: &'static Table,
        file: PathBuf,
        name: &str,
    ) -> Result<Read> {
        let progress = |step: &str| self.progress(step);
        let Some((sha256, raw)) = read_changed(
            self.warehouse,
            source,
            table,
            &file,
            name,
            self.options,
            self.scratch,
            &progress,
        )?
        else {
            return Ok(Read::Unchanged(file));
        };
        Ok(Read::Changed(Box::new(Input {
            file,
            sha256,
            raw,
            watermark: None,
        })))
    }

    /// Checks one input's rows in its stage table — values, a cut-off last
    /// row, references, repeated keys — and judges it.
    fn stage_one(
        &self,
        source: &Source,
        table: &'static Table,
        input: Input,
        name: &str,
        position: usize,
        staged: &[Staged],
    ) -> Result<Staged> {
        let conn = self.warehouse.connection();
        let Input {
            file,
            sha256,
            raw,
            watermark,
        } = input;
        let shown = file.display().to_string();
        self.progress(&format!("checking {shown}"));
        let mut stage = stage::plan(
            table,
            source,
            raw.clone(),
            name,
            &shown,
            self.loaded_at.date(),
            self.options.offset_seconds,
        )?
        .into_stage(conn, &shown, key_order::orders(), self.report)?;
        self.options.faults.at("after_stage")?;
        let mut raw = raw;
        read::csv::collect_rejects(conn, &mut raw)?;
        stage.raw.rejects = raw.rejects;
        refuse_cut_off(source, &file, &stage)?;
        let others: Vec<(&'static str, String)> = staged
            .iter()
            .map(|s| (s.stage.table.name, s.stage.name.clone()))
            .collect();
        stage.check_references(conn, &others)?;
        let (duplicates, pair) = stage.check_duplicates(conn, source.duplicates)?;
        if duplicates > 0 && source.duplicates == DuplicatePolicy::Refuse {
            return Err(repeated_key(conn, &stage, &file, duplicates, pair)?);
        }
        let outcome = judge::judge(
            conn,
            &stage,
            source,
            &file,
            duplicates,
            pair,
            self.options.dry_run,
        )?;
        // The staged rows are the file's bytes the hash is of.
        let sha256 = sha256.get()?;
        Ok(Staged {
            position,
            stage,
            file,
            sha256,
            duplicates,
            outcome,
            replace_own: source
                .postgres
                .as_ref()
                .is_none_or(|pg| pg.watermark.is_none()),
            watermark,
        })
    }
}

/// An input of a source as read, or the content the warehouse has already.
enum Read {
    Unchanged(PathBuf),
    Changed(Box<Input>),
}

/// An input read into its raw relation, with its hash (and watermark).
struct Input {
    file: PathBuf,
    sha256: FileHash,
    raw: read::Raw,
    watermark: Option<String>,
}

/// Refuses a text file whose last row was rejected because the file ends in
/// the middle of it: a file cut off, not a bad row.
fn refuse_cut_off(source: &Source, file: &Path, stage: &Stage) -> Result<()> {
    let Some(last) = stage.raw.rejects.last() else {
        return Ok(());
    };
    if format_is_text(source, file) && !read::csv::ends_with_newline(file)? {
        let last_line = count_lines(file)?;
        if last.line >= last_line {
            let mut bad = BadData::file(
                file,
                format!("the file ends in the middle of a row: {}", last.message),
                Some("the file looks cut off; export or copy it again".into()),
            );
            bad.line = Some(last.line);
            return Err(Error::data(bad));
        }
    }
    Ok(())
}

/// The error of a file that repeats a key under `duplicates = "refuse"`.
fn repeated_key(
    conn: &duckdb::Connection,
    stage: &Stage,
    file: &Path,
    duplicates: u64,
    pair: Option<(u64, u64)>,
) -> Result<Error> {
    let table = stage.table;
    let keys = table.key.join(", ");
    let (first, second) = pair.unwrap_or((0, 0));
    let (line, _) = stage.row_detail(conn, second)?;
    let mut bad = BadData::file(
        file,
        format!("repeats the key ({keys}) of row {} ({duplicates} rows repeat a key)", first + 1),
        Some(format!("each row of `{}` needs its own ({keys}); or set `duplicates = \"keep_last\"` or `\"quarantine\"` for this source", table.name)),
    );
    bad.row = Some(second + 1);
    bad.line = Some(line);
    bad.place = stage.raw.line_word;
    bad.column = Some(keys);
    Ok(Error::data(bad))
}

/// Writes every staged file in one transaction (after emptying the
/// warehouse for a full load); rolled back whole on any error.
fn write_all(
    conn: &duckdb::Connection,
    staged: &[Staged],
    loaded_at: NaiveDateTime,
    options: &IngestOptions,
) -> Result<Vec<(usize, LoadOutcome)>> {
    let faults = &options.faults;
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(Error::query("begin load"))?;
    let written = (|| -> Result<Vec<(usize, LoadOutcome)>> {
        faults.at("after_begin")?;
        if options.full {
            write::clear(conn)?;
        }
        let mut written = Vec::new();
        for item in staged {
            let shown = identity(options.root.as_deref(), &item.file);
            let rejects = item.stage.raw.rejects.len() as u64;
            let result = write::write(
                conn,
                &item.stage,
                &shown,
                &item.sha256,
                loaded_at,
                item.duplicates,
                rejects,
                item.watermark.as_deref(),
                item.replace_own,
                faults,
            )?;
            let mut outcome = item.outcome.clone();
            outcome.loaded = result.loaded;
            outcome.replaced = result.replaced;
            debug_assert_eq!(result.quarantined, outcome.quarantined + outcome.superseded);
            written.push((item.position, outcome));
        }
        faults.at("before_commit")?;
        Ok(written)
    })();
    match written {
        Ok(written) => {
            write::commit(conn, faults)?;
            faults.at("after_commit")?;
            Ok(written)
        }
        Err(error) => {
            // Best effort: the original error is what the user needs to see.
            let _ = conn.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

/// A file's SHA-256, known or still being computed, and what the file
/// was like before it was read: `get` refuses the file if it changed while
/// it was hashed and loaded, so the hash recorded is of the bytes loaded.
pub(super) struct FileHash {
    sha256: Hashing,
    /// The file and its stamp before anything read it (none for a database
    /// source, whose rows are read once).
    file: Option<(PathBuf, FileStamp)>,
}

enum Hashing {
    Known(String),
    /// A file never loaded: its hash is only recorded, so it is computed
    /// beside the load (an 881 MB CSV: 0.6 s of one core).
    Computing(std::thread::JoinHandle<Result<String>>),
}

/// What tells a file's content changed: its length, its modification time
/// and (on Unix) its inode and the time of its last change, which no tool
/// can set back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64, i64, i64),
}

impl FileStamp {
    fn of(path: &Path) -> Result<FileStamp> {
        let metadata = fs_err::metadata(path)?;
        Ok(FileStamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (
                    metadata.dev(),
                    metadata.ino(),
                    metadata.ctime(),
                    metadata.ctime_nsec(),
                )
            },
        })
    }
}

impl FileHash {
    /// The hash of a database source's rows, as read.
    pub(super) fn known(sha256: String) -> FileHash {
        FileHash {
            sha256: Hashing::Known(sha256),
            file: None,
        }
    }

    /// The hash, once the file has been loaded; an error if the file is not
    /// what it was when its load began.
    pub(super) fn get(self) -> Result<String> {
        let sha256 = match self.sha256 {
            Hashing::Known(sha256) => sha256,
            Hashing::Computing(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
        };
        if let Some((path, before)) = self.file {
            if FileStamp::of(&path)? != before {
                return Err(Error::data(BadData::file(
                    &path,
                    "the file changed while it was being loaded, so nothing of it was kept".into(),
                    Some("load it again once whatever writes it has finished (an export is best written under another name and moved in)".into()),
                )));
            }
        }
        Ok(sha256)
    }
}

/// A file of a source read into a raw relation (`name`), with its hash;
/// `None` when the warehouse holds this very content already.
#[allow(clippy::too_many_arguments)]
fn read_changed(
    warehouse: &Warehouse,
    source: &Source,
    table: &'static Table,
    file: &Path,
    name: &str,
    options: &IngestOptions,
    scratch: &Path,
    progress: &dyn Fn(&str),
) -> Result<Option<(FileHash, read::Raw)>> {
    progress(&format!("reading {}", file.display()));
    let known_as = identity(options.root.as_deref(), file);
    let last = match options.full {
        true => None,
        false => last_sha256(warehouse, table, &known_as, &settings_digest(source))?,
    };
    let stamp = FileStamp::of(file)?;
    let sha256 = match last {
        // Loaded before: the content decides whether to read it at all.
        Some(last) => {
            let sha256 = file_sha256(file)?;
            if sha256 == last {
                return Ok(None);
            }
            Hashing::Known(sha256)
        }
        None => {
            let file = file.to_path_buf();
            Hashing::Computing(std::thread::spawn(move || file_sha256(&file)))
        }
    };
    let sha256 = FileHash {
        sha256,
        file: Some((file.to_path_buf(), stamp)),
    };
    let raw = read_file(warehouse.connection(), source, table, file, name, scratch)?;
    Ok(Some((sha256, raw)))
}

/// Reads one file of a source into a raw relation.
fn read_file(
    conn: &duckdb::Connection,
    source: &Source,
    table: &'static Table,
    file: &Path,
    name: &str,
    scratch: &Path,
) -> Result<read::Raw> {
    if source.format != Some(Format::Postgres) && fs_err::metadata(file)?.len() == 0 {
        return Err(Error::data(BadData::file(
            file,
            "the file is empty (0 bytes)".into(),
            Some(
                "an export that failed or has not finished leaves an empty file: export it again, or move it out of the source's folder"
                    .into(),
            ),
        )));
    }
    if source.format == Some(Format::Postgres) {
        return Err(Error::config_hint(
            format!(
                "`{}` is a file, but the source says `format = \"postgres\"`",
                file.display()
            ),
            "describe a database table in `[sources.postgres]` instead of `path`",
        ));
    }
    // A packed file is read as its content, unpacked into the scratch folder.
    let (content, format, packing) = match read::packed::packing(file)? {
        Some(packing) => {
            let unpacked = read::packed::unpack(file, packing, scratch, name)?;
            let format = read::packed::content_format(&unpacked, source.format)?;
            (unpacked.path, format, Some((packing, unpacked.inner)))
        }
        None => (file.to_path_buf(), source.format_of(file)?, None),
    };
    read::packed::check_content(
        file,
        &content,
        packing.as_ref().map(|(p, _)| *p),
        format,
        source.encoding.is_some(),
    )?;
    let mut raw = read_content(conn, source, table, &content, format, name, scratch)
        .map_err(|error| error.for_file(&content, file))?;
    if let Some((packing, inner)) = packing {
        raw.notes
            .insert(0, ("packed", format!("{}: `{inner}`", packing.name())));
    }
    Ok(raw)
}

/// Reads a file's content (the file, or what it unpacked to) of `format`.
fn read_content(
    conn: &duckdb::Connection,
    source: &Source,
    table: &'static Table,
    file: &Path,
    format: Format,
    name: &str,
    scratch: &Path,
) -> Result<read::Raw> {
    let known = |cell: &str| mapping::is_known_header(table, source, cell);
    match format {
        Format::Csv => read::csv::read(
            conn,
            file,
            &read::csv::CsvOptions {
                encoding: source.encoding.as_deref(),
                delimiter: source.delimiter,
                header_row: source.header_row,
                scratch,
                name,
            },
            &known,
        ),
        Format::Excel => read::excel::read(
            conn,
            file,
            source.sheet.as_deref(),
            source.header_row,
            name,
            &known,
        ),
        Format::Json => read::json::read(conn, file, name),
        Format::Parquet => read::parquet::read(conn, file),
        Format::Postgres => Err(Error::Internal("a file read as postgres".into())),
    }
}

/// The last watermark value loaded from a database source.
fn last_watermark(warehouse: &Warehouse, table: &Table, identity: &str) -> Result<Option<String>> {
    warehouse
        .connection()
        .query_row(
            "SELECT max_by(watermark, loaded_at) FROM _opskpi_files WHERE table_name = ? AND file = ?",
            params![table.name, identity],
            |row| row.get(0),
        )
        .map_err(Error::query("last watermark"))
}

fn in_order(mut outcomes: Vec<(usize, LoadOutcome)>) -> Vec<LoadOutcome> {
    outcomes.sort_by_key(|(position, _)| *position);
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

fn format_is_text(source: &Source, file: &Path) -> bool {
    matches!(source.format_of(file), Ok(Format::Csv))
        && matches!(read::packed::packing(file), Ok(None))
}

fn count_lines(path: &Path) -> Result<u64> {
    use std::io::BufRead;
    let reader = std::io::BufReader::new(fs_err::File::open(path)?);
    Ok(reader.split(b'\n').count() as u64)
}

fn drop_stages(warehouse: &Warehouse, staged: &[Staged]) {
    for item in staged {
        let name = &item.stage.name;
        let _ = warehouse.connection().execute_batch(&format!(
            "DROP TABLE IF EXISTS {name}; DROP TABLE IF EXISTS {name}_raw; DROP TABLE IF EXISTS {name}_rejects; DROP TABLE IF EXISTS {name}_reject_scans;"
        ));
    }
}
