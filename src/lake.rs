//! The Parquet lake of canonical tables: its layout, its manifest, and the
//! switch from one complete export to the next.
//!
//! ```text
//! LAKE/_opskpi_lake.json                       the manifest: the current generation, its files
//! LAKE/sales -> .generations/000007/sales      one link per table, to the current generation
//! LAKE/.generations/000007/sales/month=2026-10/part-<fingerprint>.parquet
//! LAKE/.generations/000007/customers/part-<fingerprint>.parquet
//! ```
//!
//! An export writes a new generation beside the current one: a part whose
//! rows did not change (same fingerprint) is hard-linked from the current
//! generation, not written again. The new generation becomes current in
//! one rename of the manifest (what opskpi's Spark engine reads), then each
//! table's link is replaced by a rename (what any other reader of
//! `LAKE/sales` sees): a half-written export is never visible, and a failed
//! one leaves the current generation as it was. The generation before the
//! current one is kept, for queries still reading it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const MANIFEST: &str = "_opskpi_lake.json";
const GENERATIONS: &str = ".generations";
/// The layout's version: a lake of another is written again whole.
const FORMAT: u32 = 1;

/// `_opskpi_lake.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub generation: u64,
    pub tables: BTreeMap<String, TableFiles>,
}

/// One table's parts in a generation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableFiles {
    /// `month` for a table partitioned by month (`month=YYYY-MM` folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitioned_by: Option<String>,
    pub parts: Vec<Part>,
}

/// One Parquet file: where it is in the table's folder, its rows, and the
/// fingerprint of its rows (unchanged rows, unchanged fingerprint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub path: String,
    pub rows: u64,
    pub fingerprint: String,
}

impl Manifest {
    /// The lake's manifest, or `None` where nothing was exported yet.
    pub fn read(lake: &Path) -> Result<Option<Manifest>> {
        let path = lake.join(MANIFEST);
        let text = match fs_err::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let manifest: Manifest = serde_json::from_str(&text).map_err(|error| {
            Error::config_hint(
                format!("{} is not a manifest opskpi reads: {error}", path.display()),
                "export the lake again into an empty folder: opskpi lake export --out FOLDER",
            )
        })?;
        Ok(Some(manifest))
    }

    /// A table's folder in the current generation, relative to the lake.
    pub fn table_dir(&self, table: &str) -> Option<String> {
        self.tables
            .contains_key(table)
            .then(|| generation_dir(self.generation) + "/" + table)
    }

    /// The part of `table` at `path` with the fingerprint, if this
    /// generation has it (its rows are unchanged).
    fn same_part(&self, table: &str, path: &str, fingerprint: &str) -> bool {
        self.format == FORMAT
            && self.tables.get(table).is_some_and(|files| {
                files
                    .parts
                    .iter()
                    .any(|part| part.path == path && part.fingerprint == fingerprint)
            })
    }
}

fn generation_dir(generation: u64) -> String {
    format!("{GENERATIONS}/{generation:06}")
}

/// What happened to a part in an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Written,
    Unchanged,
}

/// The next generation, being written. Dropped without `commit`, it is
/// removed and the lake stays as it was.
pub struct Generation {
    lake: PathBuf,
    current: Option<Manifest>,
    next: Manifest,
    partial: PathBuf,
    committed: bool,
}

impl Generation {
    /// Starts a generation after the current one (removing what an export
    /// that failed left behind).
    pub fn begin(lake: &Path) -> Result<Generation> {
        fs_err::create_dir_all(lake.join(GENERATIONS))?;
        let current = Manifest::read(lake)?;
        let number = current.as_ref().map_or(1, |m| m.generation + 1);
        for entry in fs_err::read_dir(lake.join(GENERATIONS))? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().ends_with(".partial") {
                fs_err::remove_dir_all(entry.path())?;
            }
        }
        let partial = lake.join(format!("{}.partial", generation_dir(number)));
        fs_err::create_dir_all(&partial)?;
        Ok(Generation {
            lake: lake.to_path_buf(),
            current,
            next: Manifest {
                format: FORMAT,
                generation: number,
                tables: BTreeMap::new(),
            },
            partial,
            committed: false,
        })
    }

    /// The file name of a part: `[month=YYYY-MM/]part-<fingerprint>.parquet`.
    pub fn part_path(month: Option<&str>, fingerprint: &str) -> String {
        let short: String = fingerprint
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(20)
            .collect();
        match month {
            Some(month) => format!("month={month}/part-{short}.parquet"),
            None => format!("part-{short}.parquet"),
        }
    }

    /// Whether the current generation has this part with these rows (an
    /// export then links it instead of writing it).
    pub fn has_part(&self, table: &str, path: &str, fingerprint: &str) -> bool {
        self.previous(table, path, fingerprint).is_some()
    }

    /// The generation's folder while it is written (for scratch files,
    /// which must be gone before `commit`).
    pub fn folder(&self) -> &Path {
        &self.partial
    }

    fn previous(&self, table: &str, path: &str, fingerprint: &str) -> Option<PathBuf> {
        let current = self.current.as_ref()?;
        let file = self
            .lake
            .join(generation_dir(current.generation))
            .join(table)
            .join(path);
        (current.same_part(table, path, fingerprint) && file.is_file()).then_some(file)
    }

    /// Adds a part: hard-linked from the current generation when its rows
    /// are unchanged, else written by `write` to the path it is given.
    pub fn part(
        &mut self,
        table: &str,
        partitioned_by: Option<&str>,
        path: String,
        rows: u64,
        fingerprint: String,
        write: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<Outcome> {
        let target = self.partial.join(table).join(&path);
        fs_err::create_dir_all(target.parent().expect("a part is in a folder"))?;
        let outcome = match self.previous(table, &path, &fingerprint) {
            Some(previous) => {
                if std::fs::hard_link(&previous, &target).is_err() {
                    fs_err::copy(&previous, &target)?;
                }
                Outcome::Unchanged
            }
            _ => {
                write(&target)?;
                Outcome::Written
            }
        };
        let files = self.next.tables.entry(table.to_string()).or_default();
        files.partitioned_by = partitioned_by.map(str::to_string);
        files.parts.push(Part {
            path,
            rows,
            fingerprint,
        });
        Ok(outcome)
    }

    /// Makes the generation current: its folder complete and synced, the
    /// manifest replaced in one rename, each table's link switched, and the
    /// generations before the previous one removed.
    pub fn commit(mut self) -> Result<Manifest> {
        sync_tree(&self.partial)?;
        let done = self.lake.join(generation_dir(self.next.generation));
        fs_err::rename(&self.partial, &done)?;
        let manifest = self.lake.join(MANIFEST);
        let staged = self.lake.join(format!(".{MANIFEST}.tmp"));
        let text =
            serde_json::to_string_pretty(&self.next).map_err(|e| Error::Internal(e.to_string()))?;
        {
            use std::io::Write;
            let mut file = fs_err::File::create(&staged)?;
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
        }
        fs_err::rename(&staged, &manifest)?;
        self.committed = true;
        for table in self.next.tables.keys() {
            link_table(&self.lake, table, self.next.generation)?;
        }
        sync_dir(&self.lake)?;
        for entry in fs_err::read_dir(self.lake.join(GENERATIONS))? {
            let entry = entry?;
            let keep = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u64>().ok())
                .is_none_or(|number| number + 1 >= self.next.generation);
            if !keep {
                fs_err::remove_dir_all(entry.path())?;
            }
        }
        Ok(self.next.clone())
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.partial);
        }
    }
}

/// `LAKE/table` → the generation's table folder, replaced in one rename.
#[cfg(unix)]
fn link_table(lake: &Path, table: &str, generation: u64) -> Result<()> {
    let link = lake.join(table);
    if link.exists() && !link.is_symlink() {
        return Err(Error::config_hint(
            format!(
                "{} is a folder opskpi did not make; the lake's tables are links",
                link.display()
            ),
            "export the lake into an empty folder, or move that folder away",
        ));
    }
    let staged = lake.join(format!(".{table}.link"));
    let _ = std::fs::remove_file(&staged);
    std::os::unix::fs::symlink(format!("{}/{table}", generation_dir(generation)), &staged)?;
    fs_err::rename(&staged, &link)?;
    Ok(())
}

#[cfg(not(unix))]
fn link_table(_lake: &Path, _table: &str, _generation: u64) -> Result<()> {
    Ok(())
}

fn sync_tree(dir: &Path) -> Result<()> {
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        } else {
            fs_err::File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    fs_err::File::open(dir)?.sync_all()?;
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &'static str) -> impl FnOnce(&Path) -> Result<()> {
        move |path| Ok(fs_err::write(path, text)?)
    }

    #[test]
    fn an_unchanged_part_is_linked_a_changed_one_written_and_a_failed_export_invisible() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        let mut first = Generation::begin(lake).unwrap();
        let march = Generation::part_path(Some("2026-03"), "aa11");
        let april = Generation::part_path(Some("2026-04"), "bb22");
        assert_eq!(march, "month=2026-03/part-aa11.parquet");
        first
            .part(
                "sales",
                Some("month"),
                march.clone(),
                2,
                "aa11".into(),
                write("m1"),
            )
            .unwrap();
        first
            .part(
                "sales",
                Some("month"),
                april.clone(),
                3,
                "bb22".into(),
                write("a1"),
            )
            .unwrap();
        let manifest = first.commit().unwrap();
        assert_eq!(manifest.generation, 1);
        assert_eq!(
            fs_err::read_to_string(lake.join("sales").join(&march)).unwrap(),
            "m1"
        );

        // March unchanged (linked, not written: its writer would fail), April changed.
        let mut second = Generation::begin(lake).unwrap();
        let outcome = second
            .part(
                "sales",
                Some("month"),
                march.clone(),
                2,
                "aa11".into(),
                |_| {
                    Err(Error::Internal(
                        "an unchanged part must not be written".into(),
                    ))
                },
            )
            .unwrap();
        assert_eq!(outcome, Outcome::Unchanged);
        let april2 = Generation::part_path(Some("2026-04"), "cc33");
        let outcome = second
            .part(
                "sales",
                Some("month"),
                april2.clone(),
                4,
                "cc33".into(),
                write("a2"),
            )
            .unwrap();
        assert_eq!(outcome, Outcome::Written);

        // Before the commit, readers still see generation 1, whole.
        assert_eq!(Manifest::read(lake).unwrap().unwrap().generation, 1);
        assert!(lake.join("sales").join(&april).is_file());
        second.commit().unwrap();
        assert_eq!(
            fs_err::read_to_string(lake.join("sales").join(&april2)).unwrap(),
            "a2"
        );
        assert!(!lake.join("sales").join(&april).exists());
        assert_eq!(
            fs_err::read_to_string(lake.join("sales").join(&march)).unwrap(),
            "m1"
        );

        // A third export that fails half-way leaves generation 2 current.
        let mut third = Generation::begin(lake).unwrap();
        third
            .part(
                "sales",
                Some("month"),
                march.clone(),
                9,
                "dd44".into(),
                write("m3"),
            )
            .unwrap();
        let failed = third.part(
            "sales",
            Some("month"),
            april2.clone(),
            9,
            "ee55".into(),
            |_| Err(Error::Internal("disk full".into())),
        );
        assert!(failed.is_err());
        drop(third);
        let manifest = Manifest::read(lake).unwrap().unwrap();
        assert_eq!(manifest.generation, 2);
        assert_eq!(
            manifest.table_dir("sales").unwrap(),
            ".generations/000002/sales"
        );
        assert_eq!(
            fs_err::read_to_string(lake.join("sales").join(&march)).unwrap(),
            "m1"
        );
        assert!(!lake.join(".generations/000003.partial").exists());
    }
}
