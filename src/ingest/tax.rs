//! Before tax or after: `sales.net_amount` and a purchase's `unit_cost` are
//! amounts before tax (未稅), and ERP exports often carry both an amount
//! before tax and one after (含稅, 價稅合計), or a plain `金額` beside a tax
//! column (`稅額`) that leaves open which it is. Where the dictionary would
//! have to guess, the load stops and asks which column is before tax. The
//! words are in `dictionary.toml`'s `[tax]` table.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
struct File {
    tax: Words,
}

#[derive(Debug, Deserialize)]
struct Words {
    /// `table.column` of the amounts that are before tax.
    columns: Vec<String>,
    excluded: Vec<String>,
    included: Vec<String>,
    tax: Vec<String>,
    /// `table.column` → what a header of that kind of amount holds.
    kinds: BTreeMap<String, Vec<String>>,
}

fn words() -> &'static Words {
    static WORDS: OnceLock<Words> = OnceLock::new();
    WORDS.get_or_init(|| {
        let file: File = toml::from_str(include_str!("dictionary.toml"))
            .expect("the built-in dictionary parses (a unit test checks it)");
        file.tax
    })
}

/// Whether `header` holds `marker`: a Latin marker as whole words (`net`
/// is not in `Internet`), any other as text (`未稅` in `本幣未稅金額`).
fn holds(header: &str, marker: &str) -> bool {
    if marker.is_ascii() {
        let tokens: Vec<String> = header
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect();
        let wanted: Vec<String> = marker.split_whitespace().map(str::to_lowercase).collect();
        tokens
            .windows(wanted.len())
            .any(|window| window == wanted.as_slice())
    } else {
        let compact: String = header.chars().filter(|c| !c.is_whitespace()).collect();
        compact.contains(marker)
    }
}

/// What a header says about tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    Excluded,
    Included,
    /// The tax itself (`稅額`).
    Tax,
    Silent,
}

pub fn said(header: &str) -> Said {
    let w = words();
    let folded = super::values::fold(header);
    if w.tax.iter().any(|t| super::values::fold(t) == folded) {
        Said::Tax
    } else if w.excluded.iter().any(|m| holds(header, m)) {
        Said::Excluded
    } else if w.included.iter().any(|m| holds(header, m)) {
        Said::Included
    } else {
        Said::Silent
    }
}

/// Checks the choice for `table.column`: `chosen`, the file column the
/// dictionary found (None: none). Declared columns are never checked.
pub fn check(
    table: &str,
    column: &str,
    headers: &[String],
    chosen: Option<usize>,
    file: &str,
) -> Result<()> {
    let w = words();
    let key = format!("{table}.{column}");
    if !w.columns.contains(&key) {
        return Ok(());
    }
    let kinds = w.kinds.get(&key).map(Vec::as_slice).unwrap_or(&[]);
    let of_kind = |header: &str| kinds.iter().any(|k| holds(header, k));
    let included: Vec<&String> = headers
        .iter()
        .filter(|h| said(h) == Said::Included && of_kind(h))
        .collect();
    let tax: Vec<&String> = headers.iter().filter(|h| said(h) == Said::Tax).collect();
    let quoted = |list: &[&String]| {
        list.iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let hint = |example: &str| {
        format!(
            "say which column is before tax: `[sources.columns] {column} = \"{example}\"`, or compute it, e.g. `{column} = {{ expr = \"…\" }}`"
        )
    };
    match chosen {
        Some(i) if said(&headers[i]) == Said::Excluded => Ok(()),
        Some(i) if !included.is_empty() || !tax.is_empty() => {
            let beside = if included.is_empty() {
                format!("the tax column {}", quoted(&tax))
            } else {
                format!("the tax-included {}", quoted(&included))
            };
            Err(Error::config_hint(
                format!(
                    "`{file}`: is `{}` before or after tax? `{key}` is before tax (未稅), and the file also has {beside}, so `{}` could be either",
                    headers[i], headers[i]
                ),
                hint(&headers[i]),
            ))
        }
        None if !included.is_empty() => Err(Error::config_hint(
            format!(
                "`{file}` has only a tax-included amount ({}) for `{key}`, which is before tax (未稅)",
                quoted(&included)
            ),
            hint(included[0]),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_words_in_latin_and_text_in_chinese() {
        assert_eq!(said("本幣未稅金額"), Said::Excluded);
        assert_eq!(said("不含稅金額"), Said::Excluded);
        assert_eq!(said("含稅金額"), Said::Included);
        assert_eq!(said("价税合计"), Said::Included);
        assert_eq!(said("Amount incl. tax"), Said::Included);
        assert_eq!(said("Net Amount"), Said::Excluded);
        assert_eq!(said("Internet Sales"), Said::Silent);
        assert_eq!(said("稅額"), Said::Tax);
        assert_eq!(said("金額"), Said::Silent);
    }
}
