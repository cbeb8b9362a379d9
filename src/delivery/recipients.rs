//! Who receives which edition. A deliver step's `to` table maps an edition
//! to recipients: `company` the whole company's report, `region:北區` one
//! edition, `region:*` every edition of that dimension; the recipients are
//! a list of addresses or `{ employees_with_role = "regional_manager" }`,
//! the employees of that role in the edition's region (or store) with an
//! email address. A recipient gets only the editions its keys name.

use std::collections::{BTreeMap, BTreeSet};

use duckdb::Connection;
use lettre::message::Mailbox;
use serde::Deserialize;

use crate::config::DeliveryConfig;
use crate::error::{Error, Result};
use crate::report::summary::ManifestEdition;

/// The recipients of one key of `to`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Recipients {
    List(Vec<String>),
    FromData { employees_with_role: String },
}

/// The dimensions whose editions can go to employees from the data (the
/// employees table holds a region and a store, not a channel or category).
const FROM_DATA: [(&str, &str); 2] = [("region", "region"), ("store", "store_id")];

/// Which editions a key of `to` names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Company,
    /// A dimension's edition; every one of them when `value` is `None`.
    Edition {
        dimension: String,
        value: Option<String>,
    },
}

fn target(key: &str, dimensions: &[&str]) -> Result<Target> {
    if key == "company" {
        return Ok(Target::Company);
    }
    let hint = || {
        format!(
            "keys are `company`, `DIMENSION:VALUE` (e.g. \"region:北區\") or `DIMENSION:*`, with a dimension of: {}",
            dimensions.join(", ")
        )
    };
    let Some((dimension, value)) = key.split_once(':') else {
        return Err(Error::config_hint(
            format!("`to` has the key `{key}`"),
            hint(),
        ));
    };
    if !dimensions.contains(&dimension) || value.is_empty() {
        return Err(Error::config_hint(
            format!("`to` has the key `{key}`"),
            hint(),
        ));
    }
    Ok(Target::Edition {
        dimension: dimension.to_string(),
        value: (value != "*").then(|| value.to_string()),
    })
}

/// Checks a `to` table before any step runs: its keys, every listed
/// address, the allowed domains, and that data can name the recipients.
pub fn check(
    to: &BTreeMap<String, Recipients>,
    dimensions: &[&str],
    rules: &DeliveryConfig,
) -> Result<()> {
    if to.is_empty() {
        return Err(Error::config_hint(
            "`to` names no recipient",
            "e.g. [steps.to] company = [\"gm@example.com.tw\"]",
        ));
    }
    for (key, recipients) in to {
        let target = target(key, dimensions)?;
        match recipients {
            Recipients::List(addresses) => {
                if addresses.is_empty() {
                    return Err(Error::config_hint(
                        format!("`to.\"{key}\"` is an empty list"),
                        "list at least one address, or leave the key out",
                    ));
                }
                for address in addresses {
                    check_address(address, rules).map_err(|e| e.in_key(key))?;
                }
            }
            Recipients::FromData { .. } => {
                let dimension = match &target {
                    Target::Company => None,
                    Target::Edition { dimension, .. } => Some(dimension.as_str()),
                };
                if !FROM_DATA.iter().any(|(d, _)| Some(*d) == dimension) {
                    return Err(Error::config_hint(
                        format!("`to.\"{key}\"`: employees hold a region and a store, so `employees_with_role` cannot find who gets this"),
                        "use it with `region:…` or `store:…` keys; list the addresses for the others",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Refuses what is not one plain address, or one outside the allowed domains.
pub fn check_address(address: &str, rules: &DeliveryConfig) -> Result<Mailbox> {
    let parsed: Mailbox = address.trim().parse().map_err(|e| {
        Error::config_hint(
            format!("`{address}` is not an email address ({e})"),
            "write an address, e.g. \"gm@example.com.tw\" or \"林經理 <gm@example.com.tw>\"",
        )
    })?;
    if !rules.allows(parsed.email.as_ref()) {
        return Err(Error::config_hint(
            format!(
                "`{address}` is outside the allowed domains ({})",
                rules.allowed_domains.join(", ")
            ),
            "send only to the company's domains, or add the domain to `delivery.allowed_domains`",
        ));
    }
    Ok(parsed)
}

trait InKey {
    fn in_key(self, key: &str) -> Error;
}

impl InKey for Error {
    fn in_key(self, key: &str) -> Error {
        match self {
            Error::Config { message, hint } => Error::Config {
                message: format!("`to.\"{key}\"`: {message}"),
                hint,
            },
            other => other,
        }
    }
}

/// The addresses of the employees of a role (role, dimension column,
/// value → addresses).
pub type Employees<'a> = dyn Fn(&str, &str, &str) -> Result<Vec<String>> + 'a;

/// The addresses an edition (`None`: the company's report) goes to, sorted
/// and each once, with the keys that named it; employees are read through
/// `employees` (role, dimension column, value → addresses).
pub fn for_edition(
    to: &BTreeMap<String, Recipients>,
    dimensions: &[&str],
    edition: Option<&ManifestEdition>,
    employees: &Employees,
) -> Result<BTreeSet<String>> {
    let mut addresses = BTreeSet::new();
    for (key, recipients) in to {
        let names = match (target(key, dimensions)?, edition) {
            (Target::Company, None) => true,
            (Target::Edition { dimension, value }, Some(edition)) => {
                dimension == edition.dimension && value.as_ref().is_none_or(|v| *v == edition.value)
            }
            _ => false,
        };
        if !names {
            continue;
        }
        match (recipients, edition) {
            (Recipients::List(list), _) => {
                addresses.extend(list.iter().map(|a| a.trim().to_string()))
            }
            (
                Recipients::FromData {
                    employees_with_role,
                },
                Some(edition),
            ) => {
                let column = FROM_DATA
                    .iter()
                    .find(|(d, _)| *d == edition.dimension)
                    .map(|(_, c)| *c)
                    .expect("checked with the step");
                addresses.extend(employees(employees_with_role, column, &edition.value)?);
            }
            (Recipients::FromData { .. }, None) => unreachable!("checked with the step"),
        }
    }
    Ok(addresses)
}

/// The editions a `to` table names by value (`region:北區`), to say which
/// the run did not write.
pub fn named_editions(
    to: &BTreeMap<String, Recipients>,
    dimensions: &[&str],
) -> Vec<ManifestEdition> {
    to.keys()
        .filter_map(|key| match target(key, dimensions).ok()? {
            Target::Edition {
                dimension,
                value: Some(value),
            } => Some(ManifestEdition { dimension, value }),
            _ => None,
        })
        .collect()
}

/// Employees of `role` whose `column` is `value`, with an address.
pub fn employees(conn: &Connection, role: &str, column: &str, value: &str) -> Result<Vec<String>> {
    debug_assert!(FROM_DATA.iter().any(|(_, c)| *c == column));
    let sql = format!(
        "SELECT DISTINCT trim(email) FROM employees WHERE role = ? AND {column} = ? AND nullif(trim(email), '') IS NOT NULL ORDER BY 1"
    );
    let mut statement = conn
        .prepare(&sql)
        .map_err(Error::query("employees' addresses"))?;
    let rows = statement
        .query_map([role, value], |row| row.get::<_, String>(0))
        .map_err(Error::query("employees' addresses"))?;
    rows.collect::<duckdb::Result<Vec<_>>>()
        .map_err(Error::query("employees' addresses"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIMS: [&str; 4] = ["region", "channel", "category", "store"];

    fn to(text: &str) -> BTreeMap<String, Recipients> {
        toml::from_str(text).unwrap()
    }

    fn edition(dimension: &str, value: &str) -> ManifestEdition {
        ManifestEdition {
            dimension: dimension.into(),
            value: value.into(),
        }
    }

    #[test]
    fn each_edition_goes_to_its_keys_only() {
        let to = to(r#"
            company = ["gm@example.com.tw", "ops@example.com.tw"]
            "region:北區" = ["north@example.com.tw"]
            "region:*" = { employees_with_role = "regional_manager" }
            "channel:online" = ["web@example.com.tw"]
        "#);
        let employees = |role: &str, column: &str, value: &str| -> Result<Vec<String>> {
            assert_eq!((role, column), ("regional_manager", "region"));
            Ok(match value {
                "北區" => vec![
                    "north@example.com.tw".into(),
                    "deputy@example.com.tw".into(),
                ],
                "南區" => vec!["south@example.com.tw".into()],
                _ => vec![],
            })
        };
        let got = |e: Option<&ManifestEdition>| -> Vec<String> {
            for_edition(&to, &DIMS, e, &employees)
                .unwrap()
                .into_iter()
                .collect()
        };
        assert_eq!(got(None), ["gm@example.com.tw", "ops@example.com.tw"]);
        assert_eq!(
            got(Some(&edition("region", "北區"))),
            ["deputy@example.com.tw", "north@example.com.tw"]
        );
        assert_eq!(
            got(Some(&edition("region", "南區"))),
            ["south@example.com.tw"]
        );
        assert_eq!(
            got(Some(&edition("channel", "online"))),
            ["web@example.com.tw"]
        );
        assert!(got(Some(&edition("channel", "store"))).is_empty());
        assert_eq!(
            named_editions(&to, &DIMS),
            [edition("channel", "online"), edition("region", "北區")]
        );
    }

    #[test]
    fn bad_keys_addresses_and_domains_are_refused_before_anything_runs() {
        let rules = DeliveryConfig {
            allowed_domains: vec!["example.com.tw".into()],
            ..DeliveryConfig::default()
        };
        let refused = |text: &str| check(&to(text), &DIMS, &rules).unwrap_err().to_string();
        assert!(refused(r#"north = ["a@example.com.tw"]"#).contains("`to` has the key `north`"));
        assert!(refused(r#""city:taipei" = ["a@example.com.tw"]"#).contains("city:taipei"));
        assert!(refused(r#"company = ["not an address"]"#).contains("is not an email address"));
        assert!(refused(r#"company = ["boss@gmail.com"]"#).contains("outside the allowed domains"));
        // A name does not take an address past the domains.
        assert!(refused(r#"company = ["總經理 <boss@gmail.com>"]"#)
            .contains("outside the allowed domains"));
        let named = check_address("總經理 <gm@example.com.tw>", &rules).unwrap();
        assert_eq!(named.name.as_deref(), Some("總經理"));
        assert_eq!(named.email.to_string(), "gm@example.com.tw");
        assert!(refused(r#"company = { employees_with_role = "gm" }"#)
            .contains("employees hold a region and a store"));
        assert!(
            refused(r#""channel:*" = { employees_with_role = "x" }"#).contains("employees hold")
        );
        assert!(refused("").contains("names no recipient"));
        check(
            &to(r#""store:*" = { employees_with_role = "store_manager" }"#),
            &DIMS,
            &rules,
        )
        .unwrap();
    }
}
