//! Saved queries: one SQL file per query in `queries/saved/` (built in) or
//! in a project's own folder (`[queries] folder`), named by the file stem.
//! The file's first comment lines declare it:
//!
//! ```sql
//! -- description: The products with the highest net sales in a period.
//! -- param period: period        The period: 2026-10, 2026-Q3 …
//! -- param n: integer = 20       How many products.
//! ```
//!
//! Parameter types: `text`, `integer`, `decimal`, `date`, and `period`
//! (bound as `$<name>_start` and `$<name>_end`, the period's first and last
//! day). Every value is bound as a DuckDB parameter (`$name`), never pasted
//! into the SQL, and the query runs through `opskpi sql`'s read-only path.

use std::path::Path;

use duckdb::types::Value;
use rust_decimal::Decimal;

use crate::assets;
use crate::calendar::{Calendar, Period};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Text,
    Integer,
    Decimal,
    Date,
    Period,
}

impl ParamType {
    fn parse(text: &str) -> Option<ParamType> {
        Some(match text {
            "text" => ParamType::Text,
            "integer" => ParamType::Integer,
            "decimal" => ParamType::Decimal,
            "date" => ParamType::Date,
            "period" => ParamType::Period,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ParamType::Text => "text",
            ParamType::Integer => "integer",
            ParamType::Decimal => "decimal",
            ParamType::Date => "date",
            ParamType::Period => "period",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub ty: ParamType,
    pub default: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct SavedQuery {
    pub name: String,
    /// Where it comes from: `built-in` or the file's path.
    pub origin: String,
    pub description: String,
    pub params: Vec<Param>,
    pub sql: String,
}

/// Reads a saved query's declaration from its leading comment lines.
pub fn parse(name: &str, origin: &str, text: &str) -> Result<SavedQuery> {
    let bad = |line: usize, what: String| {
        Error::config_hint(
            format!("{origin} line {line}: {what}"),
            "declare it as `-- description: …` and `-- param NAME: TYPE [= DEFAULT]  what it is`, TYPE one of text, integer, decimal, date, period",
        )
    };
    let mut description = String::new();
    let mut params: Vec<Param> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(comment) = line.trim().strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        if let Some(rest) = comment.strip_prefix("description:") {
            description = rest.trim().to_string();
        } else if let Some(rest) = comment.strip_prefix("param ") {
            let (name, rest) = rest
                .split_once(':')
                .ok_or_else(|| bad(i + 1, format!("`{comment}` has no `:` after the name")))?;
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad(
                    i + 1,
                    format!("`{name}` is not a parameter name (letters, digits, _)"),
                ));
            }
            let rest = rest.trim();
            let (spec, help) = match rest.split_once("  ") {
                Some((spec, help)) => (spec.trim(), help.trim()),
                None => (rest, ""),
            };
            let (ty, default) = match spec.split_once('=') {
                Some((ty, default)) => (ty.trim(), Some(default.trim().to_string())),
                None => (spec, None),
            };
            let ty = ParamType::parse(ty)
                .ok_or_else(|| bad(i + 1, format!("`{ty}` is not a parameter type")))?;
            if params.iter().any(|p| p.name == name) {
                return Err(bad(i + 1, format!("`{name}` is declared twice")));
            }
            params.push(Param {
                name: name.to_string(),
                ty,
                default,
                description: help.to_string(),
            });
        }
    }
    Ok(SavedQuery {
        name: name.to_string(),
        origin: origin.to_string(),
        description,
        params,
        sql: text.to_string(),
    })
}

/// Every saved query: the built-in ones, then the project folder's (a file
/// there with a built-in name replaces it), sorted by name.
pub fn all(folder: Option<&Path>) -> Result<Vec<SavedQuery>> {
    let mut queries: Vec<SavedQuery> = assets::sql_under("saved")
        .into_iter()
        .map(|(name, text)| parse(name, &format!("queries/saved/{name}.sql"), text))
        .collect::<Result<_>>()?;
    if let Some(folder) = folder {
        if !folder.is_dir() {
            return Err(Error::config_hint(
                format!("the queries folder `{}` does not exist", folder.display()),
                "create it, or fix `[queries] folder` in opskpi.toml",
            ));
        }
        let mut files: Vec<std::path::PathBuf> = fs_err::read_dir(folder)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let text = fs_err::read_to_string(&path)?;
            let query = parse(&name, &path.display().to_string(), &text)?;
            queries.retain(|q| q.name != name);
            queries.push(query);
        }
    }
    queries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(queries)
}

/// The saved query `name`.
pub fn find(name: &str, folder: Option<&Path>) -> Result<SavedQuery> {
    let queries = all(folder)?;
    let names: Vec<String> = queries.iter().map(|q| q.name.clone()).collect();
    queries.into_iter().find(|q| q.name == name).ok_or_else(|| {
        Error::config_hint(
            format!("no saved query `{name}`"),
            format!(
                "{} (`opskpi query --list`)",
                crate::error::unknown_hint(name, &names, "saved queries")
            ),
        )
    })
}

impl SavedQuery {
    /// The values to bind, from `NAME=VALUE` pairs and the defaults, checked
    /// against the declared types; `calendar` reads `FY` and retail periods.
    pub fn bind(
        &self,
        given: &[(String, String)],
        calendar: impl Into<Calendar>,
    ) -> Result<Vec<(String, Value)>> {
        let calendar = calendar.into();
        for (name, _) in given {
            if !self.params.iter().any(|p| &p.name == name) {
                return Err(Error::config_hint(
                    format!("`{}` has no parameter `{name}`", self.name),
                    self.usage(),
                ));
            }
        }
        let mut bound = Vec::new();
        for param in &self.params {
            let text = given
                .iter()
                .rev()
                .find(|(name, _)| name == &param.name)
                .map(|(_, value)| value.clone())
                .or_else(|| param.default.clone())
                .ok_or_else(|| {
                    Error::config_hint(
                        format!(
                            "`{}` needs the parameter `{}` ({})",
                            self.name,
                            param.name,
                            param.ty.name()
                        ),
                        self.usage(),
                    )
                })?;
            let wrong = |why: &str| {
                Error::config_hint(
                    format!("parameter `{}` = `{text}`: {why}", param.name),
                    self.usage(),
                )
            };
            match param.ty {
                ParamType::Text => bound.push((param.name.clone(), Value::Text(text.clone()))),
                ParamType::Integer => {
                    let n: i64 = text
                        .trim()
                        .parse()
                        .map_err(|_| wrong("expected a whole number"))?;
                    bound.push((param.name.clone(), Value::BigInt(n)));
                }
                ParamType::Decimal => {
                    let d: Decimal = text
                        .trim()
                        .parse()
                        .map_err(|_| wrong("expected a number like 12.5"))?;
                    bound.push((param.name.clone(), Value::Text(d.to_string())));
                }
                ParamType::Date => {
                    let d = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                        .map_err(|_| wrong("expected a date like 2026-10-31"))?;
                    bound.push((
                        param.name.clone(),
                        Value::Date32(crate::calendar::days_since_epoch(d)),
                    ));
                }
                ParamType::Period => {
                    let period = Period::parse(text.trim(), calendar).map_err(|_| {
                        wrong("expected a period like 2026-10, 2026-Q3, 2026 or FY2026")
                    })?;
                    bound.push((
                        format!("{}_start", param.name),
                        Value::Date32(crate::calendar::days_since_epoch(period.start())),
                    ));
                    bound.push((
                        format!("{}_end", param.name),
                        Value::Date32(crate::calendar::days_since_epoch(period.end())),
                    ));
                }
            }
        }
        Ok(bound)
    }

    /// How to call it, for hints and `--list`.
    pub fn usage(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| match &p.default {
                Some(default) => format!("[--param {}={default}]", p.name),
                None => format!("--param {}=<{}>", p.name, p.ty.name()),
            })
            .collect();
        format!("opskpi query {} {}", self.name, params.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_queries_declare_themselves() {
        let queries = all(None).unwrap();
        assert_eq!(queries.len(), 5);
        for query in &queries {
            assert!(!query.description.is_empty(), "{}", query.name);
        }
        let top = find("top_products", None).unwrap();
        assert_eq!(
            top.params,
            vec![
                Param {
                    name: "period".into(),
                    ty: ParamType::Period,
                    default: None,
                    description: "The period: 2026-10, 2026-Q3, 2026 …".into()
                },
                Param {
                    name: "n".into(),
                    ty: ParamType::Integer,
                    default: Some("20".into()),
                    description: "How many products.".into()
                },
            ]
        );
    }

    #[test]
    fn values_are_checked_against_their_types() {
        let top = find("top_products", None).unwrap();
        let bound = top.bind(&[("period".into(), "2026-10".into())], 1).unwrap();
        // 2026-10-01 and 2026-10-31 as days since 1970-01-01; n by default.
        assert_eq!(
            bound,
            vec![
                ("period_start".into(), Value::Date32(20727)),
                ("period_end".into(), Value::Date32(20757)),
                ("n".into(), Value::BigInt(20)),
            ]
        );
        for (given, error) in [
            (vec![("period", "2026-13")], "expected a period"),
            (
                vec![("period", "2026-10"), ("n", "ten")],
                "expected a whole number",
            ),
            (vec![], "needs the parameter `period`"),
            (
                vec![("period", "2026-10"), ("nn", "3")],
                "no parameter `nn`",
            ),
        ] {
            let given: Vec<(String, String)> = given
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let message = top.bind(&given, 1).unwrap_err().to_string();
            assert!(message.contains(error), "{message}");
        }
    }
}
