//! The files compiled into the binary: the SQL of `queries/` (component
//! queries, the sample company, the saved queries) and the templates and
//! message catalogues of `report-templates/`, each named by its path.
//!
//! A template has a second source: a folder the user names, whose copy of a
//! file wins over the built-in one, file by file. Nothing here interprets a
//! file: rendering is the job of the module that owns its kind.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

macro_rules! sql_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../queries/", $name, ".sql")))),*]
    };
}

/// Every SQL file of `queries/`, by path without the extension.
static SQL: &[(&str, &str)] = sql_files![
    "components/sales",
    "components/targets",
    "components/market",
    "components/surveys",
    "components/inventory",
    "components/customers",
    "components/projects",
    "components/purchasing",
    "components/ratings",
    "components/quality",
    "components/service",
    "components/deliveries",
    "sample/00_setup",
    "sample/01_products",
    "sample/02_parties",
    "sample/03_sales",
    "sample/04_inventory",
    "sample/05_market",
    "sample/06_surveys",
    "sample/07_targets",
    "sample/08_service",
    "sample/09_supply",
    "sample/10_projects",
    "sample/11_evaluations",
    "saved/top_products",
    "saved/slow_movers",
    "saved/customers_at_risk",
    "saved/region_ranking",
    "saved/late_deliveries",
];

/// The text of the SQL file `name` (`components/sales`).
pub fn sql(name: &str) -> Result<&'static str> {
    SQL.iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
        .ok_or_else(|| Error::Internal(format!("no query file `{name}`")))
}

/// The SQL files under `folder/`, as (name within the folder, text), in
/// the order they are listed.
pub fn sql_under(folder: &str) -> Vec<(&'static str, &'static str)> {
    let prefix = format!("{folder}/");
    SQL.iter()
        .filter_map(|(name, text)| Some((name.strip_prefix(&prefix)?, *text)))
        .collect()
}

macro_rules! template_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../report-templates/", $name)))),*]
    };
}

/// The built-in templates and message catalogues, by path.
pub static TEMPLATES: &[(&str, &str)] = template_files![
    "base.html.j2",
    "report.html.j2",
    "partials/tile.html.j2",
    "partials/section.html.j2",
    "partials/style.css.j2",
    "common.typ",
    "report.typ",
    "assessment.html.j2",
    "assessment.typ",
    "email.html.j2",
    "email.txt.j2",
    "alerts.html.j2",
    "alerts.txt.j2",
    "messages/en.toml",
    "messages/zh-Hant.toml",
];

/// The text of the template `name`: the user's copy in `overrides` if there
/// is one, else the built-in one (`None` if neither exists).
pub fn template(name: &str, overrides: Option<&Path>) -> std::io::Result<Option<String>> {
    if let Some(folder) = overrides {
        let path = folder.join(name);
        if path.is_file() {
            return fs_err::read_to_string(&path).map(Some);
        }
    }
    Ok(TEMPLATES
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, text)| text.to_string()))
}

/// Writes the built-in templates into `folder`, to copy and change. A copy
/// already there whose text differs — one a user changed — is refused
/// (naming the files) unless `overwrite`.
pub fn export_templates(folder: &Path, overwrite: bool) -> Result<Vec<PathBuf>> {
    if !overwrite {
        let changed: Vec<&str> = TEMPLATES
            .iter()
            .filter(|(name, text)| {
                fs_err::read_to_string(folder.join(name)).is_ok_and(|copy| copy != *text)
            })
            .map(|(name, _)| *name)
            .collect();
        if !changed.is_empty() {
            return Err(Error::config_hint(
                format!(
                    "`{}` holds changed copies of {}",
                    folder.display(),
                    changed.join(", ")
                ),
                "copy into a new folder, or add --force to replace them with the built-in ones",
            ));
        }
    }
    let mut written = Vec::new();
    for (name, text) in TEMPLATES {
        let path = folder.join(name);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}
