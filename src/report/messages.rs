//! The words the report builder writes into a report, per language, from
//! `report-templates/messages/<locale>.toml`. Templates hold the rest of the
//! page's words; nothing else in the code spells out report text. A user's
//! copy of a catalogue overrides the built-in one key by key.

use std::path::Path;

use crate::assets;
use crate::error::{Error, Result};
use crate::locale::Locale;

/// One language's message catalogue.
#[derive(Debug, Clone)]
pub struct Messages {
    table: toml::Table,
}

/// The catalogue's file name under the templates folder.
fn file_name(locale: Locale) -> String {
    format!("messages/{}.toml", locale.tag())
}

impl Messages {
    /// The built-in catalogue of `locale` (empty for a language only a
    /// user's folder has).
    pub fn for_locale(locale: Locale) -> Messages {
        let table = assets::template(&file_name(locale), None)
            .ok()
            .flatten()
            .map(|text| {
                text.parse()
                    .expect("the built-in message catalogues parse (tested)")
            })
            .unwrap_or_default();
        Messages { table }
    }

    /// The catalogue of `locale`, with a user's copy in `overrides` (if any)
    /// taking precedence key by key. A language opskpi does not have must
    /// give every word English has.
    pub fn load(locale: Locale, overrides: Option<&Path>) -> Result<Messages> {
        let mut messages = Messages::for_locale(locale);
        let builtin = !messages.table.is_empty();
        let Some(path) = overrides
            .map(|folder| folder.join(file_name(locale)))
            .filter(|path| path.is_file())
        else {
            return Ok(messages);
        };
        let text = fs_err::read_to_string(&path)?;
        messages.add_user(&text, &path.display().to_string(), builtin)?;
        Ok(messages)
    }

    /// Adds a user's copy (`text`, from the file `shown`) over the words,
    /// key by key: refused if it is not a catalogue, if a word is not of the
    /// shape English's is, or — for a language opskpi does not have
    /// (`builtin` false) — if a word English has is missing.
    pub fn add_user(&mut self, text: &str, shown: &str, builtin: bool) -> Result<()> {
        let table: toml::Table =
            text.parse()
                .map_err(|error: toml::de::Error| Error::Template {
                    name: shown.to_string(),
                    line: error
                        .span()
                        .map(|span| text[..span.start].lines().count().max(1)),
                    message: error.message().to_string(),
                })?;
        self.table.extend(table);
        self.check_shape(shown)?;
        if !builtin {
            let english = Messages::for_locale(Locale::en());
            let missing: Vec<&String> = english
                .table
                .keys()
                .filter(|key| !self.table.contains_key(*key))
                .collect();
            if !missing.is_empty() {
                return Err(Error::Template {
                    name: shown.to_string(),
                    line: None,
                    message: format!(
                        "a new language needs every word of messages/en.toml; missing: {}",
                        missing
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// Refuses a word whose value is not what English's is — text, a list
    /// as long as English's (twelve month names), or an indicator's label
    /// and definition as text — so that no word of a user's catalogue can
    /// break a report half-way.
    fn check_shape(&self, shown: &str) -> Result<()> {
        let english = Messages::for_locale(Locale::en());
        let wrong = |key: &str, should: String| Error::Template {
            name: shown.to_string(),
            line: None,
            message: format!("`{key}` should be {should}"),
        };
        for (key, model) in &english.table {
            let Some(value) = self.table.get(key) else {
                continue;
            };
            match (model, value) {
                (toml::Value::String(_), toml::Value::String(_)) => {}
                (toml::Value::String(_), _) => return Err(wrong(key, "text in quotes".into())),
                (toml::Value::Array(model), toml::Value::Array(list))
                    if list.len() != model.len() || list.iter().any(|item| !item.is_str()) =>
                {
                    return Err(wrong(key, format!("a list of {} texts", model.len())));
                }
                (toml::Value::Array(_), toml::Value::Array(_)) => {}
                (toml::Value::Array(model), _) => {
                    return Err(wrong(key, format!("a list of {} texts", model.len())))
                }
                // `[format]` is the locale's, which checks it (`locale`).
                (toml::Value::Table(_), toml::Value::Table(_)) if key == "format" => {}
                (toml::Value::Table(_), toml::Value::Table(table)) => {
                    for (name, entry) in table {
                        let texts = entry
                            .as_table()
                            .is_some_and(|entry| entry.values().all(|value| value.is_str()));
                        if !texts {
                            return Err(wrong(
                                &format!("{key}.{name}"),
                                "a table of texts (`label`, `definition`)".into(),
                            ));
                        }
                    }
                }
                (toml::Value::Table(_), _) => return Err(wrong(key, "a table".into())),
                _ => {}
            }
        }
        Ok(())
    }

    /// The message `key`, with each `{name}` replaced by its value.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = match self.table.get(key) {
            Some(toml::Value::String(text)) => text.clone(),
            _ => panic!("message `{key}` is missing from the catalogue (tested)"),
        };
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    pub fn text(&self, key: &str) -> String {
        self.fill(key, &[])
    }

    /// Every plain word of the catalogue (its string values), for templates.
    pub fn words(&self) -> std::collections::BTreeMap<String, String> {
        self.table
            .iter()
            .filter_map(|(key, value)| value.as_str().map(|text| (key.clone(), text.to_string())))
            .collect()
    }

    /// The label and definition of indicator `id` in this language, if the
    /// catalogue gives them (English takes the indicator catalogue's own).
    pub fn indicator(&self, id: &str) -> Option<(String, String)> {
        let entry = self.table.get("indicators")?.get(id)?;
        let text = |key: &str| entry.get(key).and_then(|v| v.as_str()).map(str::to_string);
        Some((text("label")?, text("definition")?))
    }

    /// Whether the catalogue has the plain word `key`.
    pub fn has(&self, key: &str) -> bool {
        matches!(self.table.get(key), Some(toml::Value::String(_)))
    }

    /// Item `index` (from 0) of the list `key`.
    pub fn item(&self, key: &str, index: usize) -> String {
        match self
            .table
            .get(key)
            .and_then(|value| value.as_array())
            .and_then(|list| list.get(index))
        {
            Some(toml::Value::String(text)) => text.clone(),
            _ => panic!("message `{key}[{index}]` is missing from the catalogue (tested)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_the_same_keys_and_twelve_months() {
        let keys = |locale| {
            Messages::for_locale(locale)
                .table
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(Locale::en()), keys(Locale::zh_hant()));
        for locale in [Locale::en(), Locale::zh_hant()] {
            let messages = Messages::for_locale(locale);
            for list in ["month_names", "month_abbrs"] {
                assert_eq!(messages.table[list].as_array().unwrap().len(), 12, "{list}");
            }
        }
    }

    #[test]
    fn every_builtin_indicator_has_a_chinese_name_and_definition() {
        let zh = Messages::for_locale(Locale::zh_hant());
        for indicator in &crate::indicators::Catalogue::builtin().indicators {
            let (label, definition) = zh
                .indicator(&indicator.id)
                .unwrap_or_else(|| panic!("zh-Hant lacks indicator `{}`", indicator.id));
            for text in [&label, &definition] {
                assert!(
                    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{}: {text}",
                    indicator.id
                );
            }
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let messages = Messages::for_locale(Locale::en());
        assert_eq!(
            messages.fill("low_sample", &[("n", "12")]),
            "low sample (12 answers)"
        );
        let zh = Messages::for_locale(Locale::zh_hant());
        assert_eq!(
            zh.fill("month_label", &[("year", "2026"), ("month", "10")]),
            "2026年10月"
        );
    }
}
