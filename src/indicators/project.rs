//! A project's own catalogue file (`[indicators] file` in opskpi.toml):
//! indicators over the built-in component queries or over the project's own
//! queries — a `[queries.NAME]` table naming an SQL template beside the file
//! — and growths of any indicator. A mistake is an error naming the file,
//! the line and what is wrong.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::{resolve, Catalogue, QueryDef, RawIndicator};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProjectCatalogue {
    #[serde(default)]
    queries: BTreeMap<String, RawQuery>,
    #[serde(default)]
    indicator: Vec<RawIndicator>,
}

/// A project's component query: what a built-in `[queries.NAME]` says, and
/// the SQL template's file, relative to the catalogue file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuery {
    description: String,
    #[serde(default)]
    dimensions: Vec<String>,
    components: Vec<String>,
    file: String,
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !text.starts_with(|c: char| c.is_ascii_digit())
}

impl Catalogue {
    /// The built-in catalogue with a project's queries and indicators added
    /// from the TOML file `path`.
    pub fn with_project(path: &Path) -> Result<Catalogue> {
        let text = fs_err::read_to_string(path).map_err(|error| {
            Error::config_hint(
                error.to_string(),
                "`[indicators] file` in opskpi.toml names the project's catalogue, relative to opskpi.toml",
            )
        })?;
        let shown = path.display();
        let raw: RawProjectCatalogue = toml::from_str(&text).map_err(|error| {
            Error::config_hint(
                format!("`{shown}`: {error}"),
                "a project catalogue holds `[queries.NAME]` and `[[indicator]]` tables as in queries/indicators.toml (docs/guide.md: Custom indicators)",
            )
        })?;
        let mut catalogue = Catalogue::builtin();
        // The line of a query's table, or of an indicator's `id = "…"`.
        let at = |found: &dyn Fn(&str) -> bool| match text.lines().position(|l| found(l.trim())) {
            Some(i) => format!("`{shown}` line {}", i + 1),
            None => format!("`{shown}`"),
        };
        let query_at = |name: &str| at(&|line| line == format!("[queries.{name}]"));
        let indicator_at =
            |id: &str| at(&|line| line.starts_with("id") && line.contains(&format!("\"{id}\"")));
        let folder = path.parent().unwrap_or(Path::new("."));
        for (name, query) in raw.queries {
            let here = query_at(&name);
            let bad = |message: String, hint: &str| {
                Err(Error::config_hint(
                    format!("{here}: {message}"),
                    hint.to_string(),
                ))
            };
            if catalogue.queries.contains_key(&name) {
                return bad(
                    format!("query `{name}` exists already"),
                    "built-in queries cannot be redefined; give yours another name",
                );
            }
            for word in std::iter::once(&name)
                .chain(&query.dimensions)
                .chain(&query.components)
            {
                if !is_name(word) {
                    return bad(
                        format!("`{word}` is not a name a query, dimension or component can have"),
                        "use lowercase letters, digits and `_`, not starting with a digit",
                    );
                }
            }
            if query.components.is_empty() {
                return bad(
                    format!("query `{name}` has no components"),
                    "list the columns its SQL returns besides window_id and the dimensions",
                );
            }
            let file = folder.join(&query.file);
            let sql = fs_err::read_to_string(&file).map_err(|error| {
                Error::config_hint(
                    format!("{here}: {error}"),
                    "`file` is the query's SQL template, relative to the catalogue file",
                )
            })?;
            let def = QueryDef {
                name: name.clone(),
                description: query.description,
                dimensions: query.dimensions,
                components: query.components,
                project_sql: Some((file.display().to_string(), sql)),
            };
            // A template mistake shows now, with its file and line, not at
            // the first `kpi`: render it for every dimension and component.
            def.render(&def.dimensions, &def.components, 0)?;
            catalogue.queries.insert(name, def);
        }
        let mut ids: Vec<String> = catalogue.ids().iter().map(|id| id.to_string()).collect();
        let mut seen = Vec::new();
        for raw in &raw.indicator {
            let here = indicator_at(&raw.id);
            if ids.contains(&raw.id) {
                return Err(Error::config_hint(
                    format!("{here}: indicator `{}` exists already", raw.id),
                    if seen.contains(&raw.id) {
                        "each indicator of the file needs its own id".to_string()
                    } else {
                        "built-in indicators cannot be redefined; give yours another id (e.g. `my_`…)".to_string()
                    },
                ));
            }
            if !is_name(&raw.id) {
                return Err(Error::config_hint(
                    format!("{here}: `{}` is not an indicator id", raw.id),
                    "use lowercase letters, digits and `_`",
                ));
            }
            ids.push(raw.id.clone());
            seen.push(raw.id.clone());
        }
        for raw in raw.indicator {
            let here = indicator_at(&raw.id);
            let queries: Vec<String> = catalogue.queries.keys().cloned().collect();
            let indicator = resolve(raw, &catalogue.queries, &ids).map_err(|error| {
                Error::config_hint(
                    format!("{here}: {}", error.to_string().lines().next().unwrap_or_default()),
                    format!(
                        "a formula reads the components of one query, built in or the file's own ({}); `opskpi explain ID` shows an indicator's",
                        queries.join(", ")
                    ),
                )
            })?;
            catalogue.indicators.push(indicator);
        }
        Ok(catalogue)
    }
}
