//! A project's `opskpi.toml`: the company, the warehouse, the sources and the
//! report settings. Paths in the file are relative to the file itself, so a
//! project folder can be moved or run from anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::Locale;
use crate::model;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub company: Company,
    #[serde(default)]
    pub warehouse: WarehouseConfig,
    #[serde(default)]
    pub report: ReportConfig,
    #[serde(default, rename = "sources")]
    pub sources: Vec<Source>,
    /// Per-indicator target overrides.
    #[serde(default)]
    pub targets: BTreeMap<String, TargetOverride>,
    /// The folder the file lives in; relative paths resolve against it.
    #[serde(skip)]
    pub root: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Company {
    pub name: String,
    /// ISO 4217 code shown next to money.
    pub currency: String,
    /// `en` or `zh-Hant`.
    pub locale: String,
    /// First month of the fiscal year, 1 (January) to 12.
    pub fiscal_year_start: u32,
}

impl Default for Company {
    fn default() -> Self {
        Company {
            name: "Company".into(),
            currency: "TWD".into(),
            locale: "en".into(),
            fiscal_year_start: 1,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseConfig {
    pub path: PathBuf,
}

impl Default for WarehouseConfig {
    fn default() -> Self {
        WarehouseConfig {
            path: "warehouse.duckdb".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    pub out: PathBuf,
    /// Survey indicators with fewer answers are flagged low-sample.
    pub min_sample: u64,
    /// A folder of templates overriding the built-in ones, file by file.
    pub templates: Option<PathBuf>,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            out: "reports".into(),
            min_sample: 30,
            templates: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Parquet,
}

/// One source file and how it maps onto a canonical table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub table: String,
    pub path: PathBuf,
    /// Guessed from the extension when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// CSV field separator; guessed when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// Canonical column name → the file's column name, where they differ.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetOverride {
    pub target: Decimal,
    pub warning: Option<Decimal>,
}

impl Config {
    /// Reads and checks `opskpi.toml`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = fs_err::read_to_string(path).map_err(|error| Error::Config {
            message: error.to_string(),
            hint: Some(
                "create an `opskpi.toml`, or run `opskpi sample --out DIR` for an example project"
                    .into(),
            ),
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|error| Error::Config {
            message: format!("`{}`: {error}", path.display()),
            hint: None,
        })?;
        config.root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        config.check()?;
        Ok(config)
    }

    /// The configuration `opskpi demo` and tests start from.
    pub fn with_root(root: &Path) -> Config {
        Config {
            company: Company::default(),
            warehouse: WarehouseConfig::default(),
            report: ReportConfig::default(),
            sources: Vec::new(),
            targets: BTreeMap::new(),
            root: root.to_path_buf(),
        }
    }

    pub fn check(&self) -> Result<()> {
        if !(1..=12).contains(&self.company.fiscal_year_start) {
            return Err(Error::config_hint(
                format!(
                    "`company.fiscal_year_start` is {}",
                    self.company.fiscal_year_start
                ),
                "give the first month of the fiscal year, 1 (January) to 12",
            ));
        }
        Locale::parse(&self.company.locale)?;
        for source in &self.sources {
            if model::table(&source.table).is_none() {
                return Err(Error::config_hint(
                    format!(
                        "source `{}` names unknown table `{}`",
                        source.path.display(),
                        source.table
                    ),
                    format!("tables are: {}", model::table_names().join(", ")),
                ));
            }
            let table = model::table(&source.table).expect("checked");
            for canonical in source.columns.keys() {
                if table.column(canonical).is_none() {
                    return Err(Error::config_hint(
                        format!(
                            "source `{}` maps unknown column `{canonical}` of `{}`",
                            source.path.display(),
                            table.name
                        ),
                        format!(
                            "columns of `{}` are: {}",
                            table.name,
                            table.column_names().join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        }
    }

    pub fn warehouse_path(&self) -> PathBuf {
        self.resolve(&self.warehouse.path)
    }

    pub fn locale(&self) -> Locale {
        Locale::parse(&self.company.locale).expect("checked when loading")
    }

    /// Target overrides as (target, warning) per indicator id.
    pub fn target_overrides(&self) -> BTreeMap<String, (Decimal, Decimal)> {
        self.targets
            .iter()
            .map(|(id, over)| {
                (
                    id.clone(),
                    (over.target, over.warning.unwrap_or(over.target)),
                )
            })
            .collect()
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a config serialises")
    }
}

impl Source {
    pub fn format(&self) -> Result<Format> {
        if let Some(format) = self.format {
            return Ok(format);
        }
        let extension = self
            .path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match extension.as_str() {
            "csv" | "txt" | "tsv" => Ok(Format::Csv),
            "parquet" | "pq" => Ok(Format::Parquet),
            _ => Err(Error::config_hint(
                format!("cannot tell the format of `{}`", self.path.display()),
                "add `format = \"csv\"` or `format = \"parquet\"` to the source",
            )),
        }
    }
}
