//! Rendering the HTML templates with minijinja: the built-in ones of
//! `report-templates/` (`assets`), overridable file by file from a folder the
//! user names, so a copied and edited template wins while the rest stay
//! built-in.

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::assets;
use crate::error::{Error, Result};

/// Renders `name` with `context`, preferring files in `overrides`.
pub fn render(name: &str, context: &impl Serialize, overrides: Option<&Path>) -> Result<String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.contains(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    let overrides: Option<PathBuf> = overrides.map(Path::to_path_buf);
    env.set_loader(move |name| {
        assets::template(name, overrides.as_deref()).map_err(|error| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, error.to_string())
        })
    });
    let template = env.get_template(name).map_err(template_error)?;
    template.render(context).map_err(template_error)
}

fn template_error(error: minijinja::Error) -> Error {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        message.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    Error::Template {
        name: error.name().unwrap_or("report template").to_string(),
        line: error.line(),
        message,
    }
}
