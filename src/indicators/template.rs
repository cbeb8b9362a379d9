//! The component queries' SQL templates (`queries/components/*.sql`, and a
//! project's own), rendered for the dimensions and components asked for.
//!
//! Templates only ever receive identifiers that were validated against the
//! model or the catalogue (dimension names); values travel as bound
//! parameters or through the `_opskpi_windows` table, never as SQL text.

use minijinja::Environment;

use crate::error::{Error, Result};

/// Renders the query template `text` (from the file `shown`, for errors)
/// with validated `dims` and `wanted` components, and the company's UTC
/// offset in seconds (the day a timestamp falls on).
pub fn render(
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
