//! The SQL files of `queries/`, compiled into the binary and named by their
//! path stem (`components/sales`), and the rendering of the templated ones.
//!
//! Templates only ever receive identifiers that were validated against the
//! model or the catalogue (dimension names); values travel as bound
//! parameters or through the `_opskpi_windows` table, never as SQL text.

use minijinja::Environment;

use crate::error::{Error, Result};

macro_rules! sql_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../queries/", $name, ".sql")))),*]
    };
}

/// Every SQL file, by name.
pub static FILES: &[(&str, &str)] = sql_files![
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
];

/// The text of the SQL file `name`.
pub fn text(name: &str) -> Result<&'static str> {
    FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
        .ok_or_else(|| Error::Internal(format!("no query file `{name}`")))
}

/// The names of the SQL files under `folder/`, in order.
pub fn names_under(folder: &str) -> Vec<&'static str> {
    let prefix = format!("{folder}/");
    FILES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| name.starts_with(&prefix))
        .collect()
}

/// Renders the template `name` with validated `dims` and `wanted` components,
/// and the company's UTC offset in seconds (the day a timestamp falls on).
pub fn render(
    name: &str,
    dims: &[String],
    wanted: &[String],
    offset_seconds: i32,
) -> Result<String> {
    render_text(
        &format!("queries/{name}.sql"),
        text(name)?,
        dims,
        wanted,
        offset_seconds,
    )
}

/// Renders the query template `text` (from the file `shown`, for errors)
/// the way `render` does a built-in one.
pub fn render_text(
    shown: &str,
    text: &str,
    dims: &[String],
    wanted: &[String],
    offset_seconds: i32,
) -> Result<String> {
    for dim in dims.iter().chain(wanted) {
        // Defence in depth: callers validate against the catalogue already.
        if !dim
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(Error::Internal(format!(
                "dimension `{dim}` reached SQL unvalidated"
            )));
        }
    }
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let template = env
        .template_from_named_str(shown, text)
        .map_err(|error| Error::Template {
            name: shown.to_string(),
            line: error.line(),
            message: error.to_string(),
        })?;
    template
        .render(minijinja::context! { dims, wanted, offset_seconds })
        .map_err(|error| Error::Template {
            name: shown.to_string(),
            line: error.line(),
            message: error.to_string(),
        })
}
