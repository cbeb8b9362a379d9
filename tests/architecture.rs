//! The architecture as a test (rust-analyzer's tidy tests): the layers of
//! ARCHITECTURE.md's "Layers" table hold in `src/`, and the invariants that
//! can be read off the source hold too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The top-level modules of `src/` by layer, read from ARCHITECTURE.md's
/// table (`| 3 | `config` | … |`).
fn layers() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = text
        .split("\n## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a `## Layers` section");
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut layers = BTreeMap::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(layer) = cells.get(1).and_then(|cell| cell.parse::<usize>().ok()) else {
            continue;
        };
        for module in cells[2].split(',') {
            let module = module.trim().trim_matches('`').to_string();
            assert!(
                layers.insert(module.clone(), layer).is_none(),
                "`{module}` is in two layers"
            );
        }
    }
    layers
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, in order.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// A source file's module path below the crate (`src/jobs/mod.rs` →
/// `jobs`, `src/jobs/reports.rs` → `jobs::reports`).
fn module_path(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(root().join("src")).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

/// The file's lines up to its test code, comments blanked: the code that
/// is built into the library. A `#[cfg(test)]` must introduce a test
/// module, so no library code hides behind one.
fn library_lines(file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() == "#[cfg(test)]" {
            let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
            assert!(
                next.starts_with("mod ") || next.starts_with("pub mod "),
                "{}:{}: `#[cfg(test)]` is not before a test module",
                file.display(),
                i + 1
            );
            break;
        }
        let code = match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        out.push((i + 1, code.to_string()));
    }
    out
}

/// The first word of `text`: a module's name at the start of a path.
fn first_word(text: &str) -> String {
    text.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The outer items of a `use crate::{…}` group's text (without its braces):
/// the first word of each, nested groups skipped.
fn group_items(group: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut depth = 0;
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => items.push(String::new()),
            _ if depth == 0 => items.last_mut().expect("one at least").push(c),
            _ => {}
        }
    }
    items.iter().map(|item| first_word(item)).collect()
}

/// Reads the modules a file names, line by line: through `crate::…` (also
/// in a `use crate::{a, b::{c, d}}` group over several lines) or through
/// `super::` chains that reach the crate's root from the module at `path`.
struct Names<'a> {
    path: &'a [String],
    /// The text of a `crate::{` group still open, and its depth.
    open: Option<(String, i32)>,
}

impl<'a> Names<'a> {
    fn new(path: &'a [String]) -> Names<'a> {
        Names { path, open: None }
    }

    fn line(&mut self, line: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = line.to_string();
        if let Some((mut group, mut depth)) = self.open.take() {
            let mut consumed = rest.len();
            for (at, c) in rest.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    consumed = at + 1;
                    break;
                }
                group.push(c);
            }
            if depth == 0 {
                names.extend(group_items(&group));
                rest = rest[consumed..].to_string();
            } else {
                group.push(' ');
                self.open = Some((group, depth));
                return names;
            }
        }
        let mut text = rest.as_str();
        while let Some(at) = text.find("crate::") {
            let after = &text[at + "crate::".len()..];
            if let Some(inside) = after.strip_prefix('{') {
                // The group's text up to its closing brace, maybe on a later line.
                self.open = Some((String::new(), 1));
                let tail = self.line(inside);
                names.extend(tail);
                return names;
            }
            names.push(first_word(after));
            text = after;
        }
        let mut text = rest.as_str();
        while let Some(at) = text.find("super::") {
            let mut after = &text[at..];
            let mut ups = 0;
            while let Some(next) = after.strip_prefix("super::") {
                ups += 1;
                after = next;
            }
            if ups >= self.path.len() {
                names.push(first_word(after));
            }
            text = after;
        }
        names.retain(|name| !name.is_empty());
        names
    }
}

/// A module imports only from layers below its own; its own layer's other
/// modules are siblings it does not import either.
#[test]
fn every_import_points_down_the_layers() {
    let layers = layers();
    let src = root().join("src");
    let mut tops: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .filter(|name| name != "lib" && name != "main")
        .collect();
    tops.sort();
    let listed: Vec<String> = layers.keys().cloned().collect();
    assert_eq!(
        tops, listed,
        "the top-level modules of src/ and the Layers table of ARCHITECTURE.md differ"
    );
    let mut wrong = Vec::new();
    for file in sources(&src) {
        let path = module_path(&file);
        let Some(top) = path.first() else {
            continue; // lib.rs, main.rs: the crate's root
        };
        if top == "main" || top == "lib" {
            continue;
        }
        let own = layers[top];
        let mut names = Names::new(&path);
        for (number, line) in library_lines(&file) {
            for name in names.line(&line) {
                let Some(&layer) = layers.get(&name) else {
                    continue; // `crate::Result` and the like
                };
                if name != *top && layer >= own {
                    wrong.push(format!(
                        "{}:{number}: `{top}` (layer {own}) imports `{name}` (layer {layer}): {}",
                        file.strip_prefix(root()).unwrap().display(),
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that do not point down the layers of ARCHITECTURE.md:\n{}",
        wrong.join("\n")
    );
}

/// The checker itself: an upward import, as an inline path, in a `use`
/// group over several lines, or through `super::` chains, is seen; a
/// nested group's items are not taken for modules.
#[test]
fn the_layer_check_sees_every_way_of_naming_a_module() {
    let at = |p: &str| p.split("::").map(String::from).collect::<Vec<_>>();
    let warehouse = at("warehouse");
    let mut names = Names::new(&warehouse);
    assert_eq!(names.line("let c = crate::jobs::run(x);"), ["jobs"]);
    assert_eq!(
        names.line("use crate::{error::Result, jobs};"),
        ["error", "jobs"]
    );
    assert!(names.line("use crate::{").is_empty());
    assert!(names.line("    report::{self, assessment},").is_empty());
    assert!(names.line("    cli,").is_empty());
    assert_eq!(names.line("};"), ["report", "cli"]);
    assert_eq!(names.line("let x = crate::sql::open();"), ["sql"]);
    let polars = at("engine::polars");
    let mut names = Names::new(&polars);
    assert_eq!(names.line("use super::super::jobs;"), ["jobs"]);
    // `super::` inside the module's own folder names no other module.
    let scan = at("engine::polars::scan");
    assert!(Names::new(&scan).line("use super::read;").is_empty());
}

/// Only the command line knows clap, and nothing below it reads the wall
/// clock: the as-of date and load times come in as arguments.
#[test]
fn only_the_command_line_knows_clap_and_the_clock() {
    let mut wrong = Vec::new();
    for file in sources(&root().join("src")) {
        let path = module_path(&file);
        if path.first().is_some_and(|top| top == "cli") || path.is_empty() {
            continue;
        }
        for (number, line) in library_lines(&file) {
            let clock = ["Local::now", "Utc::now", "SystemTime::now", "Local::today"];
            if line.contains("clap") || clock.iter().any(|c| line.contains(c)) {
                wrong.push(format!("{}:{number}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
