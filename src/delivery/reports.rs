//! A deliver step: each edition of the run's report to its readers, with
//! its summary in the words of the report and its files attached.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::email::{self, Attached, Letter};
use super::recipients::{self, Recipients};
use super::{Deliveries, Identity, Tally};
use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::report::messages::Messages;
use crate::report::summary::{ManifestEdition, ManifestView, Summary};
use crate::report::templates;
use crate::warehouse::{self, Access};

/// A deliver step: which report, in which language, to whom.
pub struct ReportRequest<'a> {
    /// The manifests the run's report steps wrote.
    pub manifests: &'a [PathBuf],
    /// `monthly`, `quarterly` or `yearly`.
    pub report: &'a str,
    pub language: Locale,
    pub to: &'a BTreeMap<String, Recipients>,
    /// The extensions of the files attached (`pdf`, `html`).
    pub attach: &'a [&'a str],
    pub dimensions: &'a [&'a str],
    pub templates: Option<&'a Path>,
}

impl Deliveries<'_> {
    /// Sends each edition of the run's report to its recipients.
    pub fn reports(&self, request: &ReportRequest) -> Result<Tally> {
        let sets = report_sets(request)?;
        let _lease = self.outbox().lease()?;
        let messages = Messages::load(request.language, request.templates)?;
        let mut tally = Tally::default();
        for missing in recipients::named_editions(request.to, request.dimensions)
            .into_iter()
            .filter(|named| {
                !sets
                    .iter()
                    .any(|(_, view)| view.edition.as_ref() == Some(named))
            })
        {
            tally.failed.push(format!(
                "{}:{}: the report step wrote no such edition in this run (no sales there in {}?)",
                missing.dimension, missing.value, self.period
            ));
        }
        let conn = warehouse::connect(
            &self.config.warehouse_path(),
            Access::ReadOnly,
            Duration::from_secs(self.config.warehouse.wait_seconds),
            &[],
        )?;
        let employees = |role: &str, column: &str, value: &str| {
            recipients::employees(&conn, role, column, value)
        };
        for (path, view) in &sets {
            let recipients = recipients::for_edition(
                request.to,
                request.dimensions,
                view.edition.as_ref(),
                &employees,
            )?;
            let edition = edition_name(view.edition.as_ref());
            if recipients.is_empty() {
                if view.edition.is_some()
                    && names(request.to, request.dimensions, view.edition.as_ref())
                {
                    tally.failed.push(format!("{edition}: no recipient (no employee of the role there has an email address in the employees table)"));
                }
                continue;
            }
            let folder = path.parent().unwrap_or(Path::new(""));
            let letter = self.report_letter(view, folder, request, &messages)?;
            let identity = Identity {
                what: "report",
                edition,
                language: &view.lang,
                channel: "email",
                extra: view.report.clone(),
            };
            let stem = manifest_stem(path);
            let recipients: Vec<String> = recipients.into_iter().collect();
            self.mail(&letter, &identity, &recipients, &stem, &mut tally)?;
        }
        tally.result()
    }

    /// The message of one edition: its summary in the report's words and
    /// its files attached, or where they are when too large.
    fn report_letter(
        &self,
        view: &ManifestView,
        folder: &Path,
        request: &ReportRequest,
        messages: &Messages,
    ) -> Result<Letter> {
        let summary = view.summary.as_ref().ok_or_else(|| {
            Error::config_hint(
                format!("the {} report's manifest has no summary to send", view.report),
                "render the report again with this opskpi (`opskpi run` does it in its report step)",
            )
        })?;
        let mut attachments = Vec::new();
        for output in &view.outputs {
            let extension = output.file.rsplit('.').next().unwrap_or_default();
            if !request.attach.contains(&extension) {
                continue;
            }
            let bytes = fs_err::read(folder.join(&output.file))?;
            if email::hex(&Sha256::digest(&bytes)) != output.sha256 {
                return Err(Error::config_hint(
                    format!(
                        "`{}` changed after the report step wrote it",
                        folder.join(&output.file).display()
                    ),
                    "run the pipeline again: a report is sent only as its manifest describes it",
                ));
            }
            let mime = if extension == "pdf" {
                "application/pdf"
            } else {
                "text/html; charset=utf-8"
            };
            attachments.push(Attached {
                name: output.file.clone(),
                mime,
                bytes,
            });
        }
        let size: u64 = attachments.iter().map(|a| a.bytes.len() as u64).sum();
        let limit = self.config.delivery.max_attachment_bytes();
        let names: Vec<String> = attachments.iter().map(|a| a.name.clone()).collect();
        let attachment = if size > limit {
            let places: Vec<String> = names
                .iter()
                .map(|name| match &self.config.delivery.link {
                    Some(link) => link.replace("{file}", name),
                    None => folder.join(name).display().to_string(),
                })
                .collect();
            attachments.clear();
            messages.fill(
                "email_too_large",
                &[
                    ("size", &email::size(size)),
                    ("limit", &email::size(limit)),
                    ("place", &places.join(", ")),
                ],
            )
        } else {
            messages.fill("email_attached", &[("files", &names.join(", "))])
        };
        let words = MailWords::new(messages, summary, self, attachment);
        let subject = messages.fill(
            "email_subject",
            &[("title", &summary.title), ("company", &summary.company)],
        );
        let context = ReportMail {
            lang: &view.lang,
            subject: &subject,
            summary,
            words,
        };
        Ok(Letter {
            text: templates::render("email.txt.j2", &context, request.templates)?,
            html: templates::render("email.html.j2", &context, request.templates)?,
            subject,
            attachments,
        })
    }
}

/// The report sets of the run's manifests of `request`'s report and
/// language.
fn report_sets(request: &ReportRequest) -> Result<Vec<(PathBuf, ManifestView)>> {
    let mut sets = Vec::new();
    for path in request.manifests {
        let text = fs_err::read_to_string(path)?;
        let view: ManifestView = serde_json::from_str(&text).map_err(|e| {
            Error::config_hint(
                format!("`{}` is not a report manifest: {e}", path.display()),
                "run the pipeline's report step again",
            )
        })?;
        if view.report == request.report && view.lang == request.language.tag() {
            sets.push((path.clone(), view));
        }
    }
    if sets.is_empty() {
        return Err(Error::config_hint(
            format!("this run wrote no {} {} report to send", request.language.tag(), request.report),
            format!(
                "a deliver step sends what a report step before it wrote: give that step report = \"{}\" and languages = [\"{}\"]",
                request.report,
                request.language.tag()
            ),
        ));
    }
    Ok(sets)
}

/// Whether a key of `to` names `edition` (by value or with `*`).
fn names(
    to: &BTreeMap<String, Recipients>,
    dimensions: &[&str],
    edition: Option<&ManifestEdition>,
) -> bool {
    // Anyone, for every role: whether a key reaches the edition at all.
    let anyone = |_: &str, _: &str, _: &str| -> Result<Vec<String>> { Ok(vec!["anyone".into()]) };
    recipients::for_edition(to, dimensions, edition, &anyone).is_ok_and(|found| !found.is_empty())
}

/// `company`, or `region:北區`.
fn edition_name(edition: Option<&ManifestEdition>) -> String {
    edition.map_or("company".into(), |e| format!("{}:{}", e.dimension, e.value))
}

/// `monthly-2026-10-region-北區.zh-Hant` of its `….manifest.json`.
fn manifest_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".manifest.json")
        .unwrap_or(&name)
        .to_string()
}

/// The words around a report's summary in a message.
#[derive(Serialize)]
struct MailWords {
    highlights_title: String,
    no_highlights: String,
    red_title: String,
    /// The red rows as lines of the plain-text alternative.
    red_lines: Vec<String>,
    columns: BTreeMap<&'static str, String>,
    partial: String,
    attachment: String,
    footer: String,
}

impl MailWords {
    fn new(
        messages: &Messages,
        summary: &Summary,
        run: &Deliveries,
        attachment: String,
    ) -> MailWords {
        MailWords {
            highlights_title: messages.text("highlights"),
            no_highlights: messages.text("no_highlights"),
            red_title: messages.text("email_needs_attention"),
            red_lines: summary
                .red
                .iter()
                .map(|row| {
                    let fill = [
                        ("indicator", row.indicator.as_str()),
                        ("value", &row.value),
                        ("target", &row.target),
                    ];
                    messages.fill(
                        if row.target.is_empty() {
                            "email_red_line_bare"
                        } else {
                            "email_red_line"
                        },
                        &fill,
                    )
                })
                .collect(),
            columns: BTreeMap::from([
                ("indicator", messages.text("indicator")),
                ("value", messages.text("value")),
                ("target", messages.text("target")),
            ]),
            partial: if summary.partial {
                messages.fill("email_partial", &[("as_of", &summary.as_of)])
            } else {
                String::new()
            },
            attachment,
            footer: messages.fill(
                "email_footer",
                &[
                    ("as_of", &summary.as_of),
                    ("data_through", &summary.data_through),
                    ("pipeline", run.pipeline),
                    ("run", &run.run_id.to_string()),
                ],
            ),
        }
    }
}

/// The context of `email.html.j2` and `email.txt.j2`.
#[derive(Serialize)]
struct ReportMail<'a> {
    lang: &'a str,
    subject: &'a str,
    #[serde(flatten)]
    summary: &'a Summary,
    #[serde(flatten)]
    words: MailWords,
}
