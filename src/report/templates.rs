//! The report templates: built into the binary from `report-templates/`, and
//! overridable file by file from a folder the user names, so a copied and
//! edited template wins while the rest stay built-in.

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::error::{Error, Result};

macro_rules! template_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../report-templates/", $name)))),*]
    };
}

/// The built-in templates, by name.
pub static BUILTIN: &[(&str, &str)] = template_files![
    "base.html.j2",
    "report.html.j2",
    "partials/tile.html.j2",
    "partials/section.html.j2",
    "partials/style.css.j2",
    "common.typ",
    "report.typ",
    "assessment.html.j2",
    "assessment.typ",
    "messages/en.toml",
    "messages/zh-Hant.toml",
];

/// The text of `name`: the user's copy in `overrides` if there is one,
/// else the built-in one (`None` if neither exists).
pub fn source(name: &str, overrides: Option<&Path>) -> std::io::Result<Option<String>> {
    if let Some(folder) = overrides {
        let path = folder.join(name);
        if path.is_file() {
            return fs_err::read_to_string(&path).map(Some);
        }
    }
    Ok(BUILTIN
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, text)| text.to_string()))
}

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
        source(name, overrides.as_deref()).map_err(|error| {
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

/// Writes the built-in templates into `folder`, to copy and change.
pub fn export(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (name, text) in BUILTIN {
        let path = folder.join(name);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}
