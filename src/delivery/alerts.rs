//! A notify step: the run's fired alerts to a webhook and/or a mailbox,
//! one message per run listing every rule.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::email::{self, Letter};
use super::outbox::Status;
use super::{webhook, Deliveries, Identity, Tally};
use crate::error::{Error, Result};
use crate::export;
use crate::indicators::Catalogue;
use crate::locale::Locale;
use crate::report::messages::Messages;
use crate::report::templates;

/// An alert rule's outcome, as a notify step gets it.
#[derive(Debug, Clone)]
pub struct Alert {
    pub rule: String,
    pub indicator: String,
    pub scope: BTreeMap<String, String>,
    pub value: Option<String>,
    pub condition: String,
    pub outcome: &'static str,
    pub message: String,
}

/// A notify step: which alerts, where to.
pub struct AlertRequest<'a> {
    pub alerts: &'a [Alert],
    pub webhook_env: Option<&'a str>,
    pub webhook_format: Option<webhook::Format>,
    pub email: &'a [String],
    pub language: Locale,
    pub templates: Option<&'a Path>,
}

/// The alerts of a run in the words of a message.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub pipeline: String,
    pub run: i64,
    pub period: String,
    pub subject: String,
    pub intro: String,
    pub alerts: Vec<NoticeAlert>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeAlert {
    pub rule: String,
    pub indicator_id: String,
    pub indicator: String,
    #[serde(rename = "where")]
    pub scope_values: BTreeMap<String, String>,
    pub scope: String,
    pub value: String,
    pub condition: String,
    pub outcome: &'static str,
    pub message: String,
}

impl Deliveries<'_> {
    /// Posts and/or mails the run's alerts.
    pub fn alerts(&self, request: &AlertRequest) -> Result<Tally> {
        let mut tally = Tally::default();
        if request.alerts.is_empty() {
            return Ok(tally);
        }
        let _lease = self.outbox().lease()?;
        let messages = Messages::load(request.language, request.templates)?;
        let notice = self.notice(request, &messages)?;
        let mut fired: Vec<String> = notice
            .alerts
            .iter()
            .map(|a| format!("{}|{}|{}|{}", a.rule, a.indicator_id, a.scope, a.outcome))
            .collect();
        fired.sort();
        let fired = fired.join("\n");
        if let Some(variable) = request.webhook_env {
            self.post_alerts(request, variable, &notice, &fired, &mut tally)?;
        }
        if !request.email.is_empty() {
            self.mail_alerts(request, &notice, &messages, fired, &mut tally)?;
        }
        tally.result()
    }

    /// Posts the notice to the webhook whose address is in `variable`.
    fn post_alerts(
        &self,
        request: &AlertRequest,
        variable: &str,
        notice: &Notice,
        fired: &str,
        tally: &mut Tally,
    ) -> Result<()> {
        let language = request.language.tag();
        let ca = self
            .config
            .delivery
            .webhook_ca_file
            .as_ref()
            .map(|f| fs_err::read(self.config.resolve(f)))
            .transpose()?;
        let hook = webhook::Hook::new(variable, ca, Duration::from_secs(60))?;
        let format = request.webhook_format.unwrap_or_else(|| hook.format());
        let mut body = serde_json::to_string(&webhook::payload(format, notice))
            .map_err(|e| Error::Internal(e.to_string()))?;
        body.push('\n');
        let identity = Identity {
            what: "alerts",
            edition: String::new(),
            language,
            channel: "webhook",
            extra: fired.to_string(),
        };
        let recipient = format!("${variable}");
        let content = email::hex(&Sha256::digest(body.as_bytes()));
        let entry = self.entry(&identity, &recipient, &notice.subject, "", &content);
        if self.mode.dry_run {
            let path = self
                .out
                .join(format!("alerts-{}.webhook.json", self.period));
            export::write_file(&path, body.as_bytes())?;
            self.outbox().record(
                &entry,
                Status::DryRun,
                0,
                None,
                Some(&path.display().to_string()),
                (self.clock)(),
            )?;
            tally.dry_run += 1;
            tally.files.push(path);
        } else {
            let outbox = self.outbox();
            for (entry, ()) in self.unsent(&outbox, vec![(entry, ())], tally)? {
                self.once(&outbox, &entry, tally, || hook.post(&body))?;
            }
        }
        Ok(())
    }

    /// Mails the notice as a table to `request.email`.
    fn mail_alerts(
        &self,
        request: &AlertRequest,
        notice: &Notice,
        messages: &Messages,
        fired: String,
        tally: &mut Tally,
    ) -> Result<()> {
        let language = request.language.tag();
        let context = AlertMail {
            lang: language,
            company: &self.config.company.name,
            subject: &notice.subject,
            intro: &notice.intro,
            columns: [
                messages.text("alert_rule"),
                messages.text("indicator"),
                messages.text("alert_scope"),
                messages.text("value"),
                messages.text("alert_condition"),
            ],
            alerts: &notice.alerts,
            lines: notice
                .alerts
                .iter()
                .map(|a| {
                    messages.fill(
                        "alert_line",
                        &[
                            ("rule", &a.rule),
                            ("indicator", &a.indicator),
                            ("scope", &a.scope),
                            ("value", &a.value),
                            ("condition", &a.condition),
                        ],
                    )
                })
                .collect(),
            footer: messages.fill(
                "alert_footer",
                &[
                    ("as_of", &self.as_of.to_string()),
                    ("pipeline", self.pipeline),
                    ("run", &self.run_id.to_string()),
                ],
            ),
        };
        let letter = Letter {
            subject: notice.subject.clone(),
            text: templates::render("alerts.txt.j2", &context, request.templates)?,
            html: templates::render("alerts.html.j2", &context, request.templates)?,
            attachments: Vec::new(),
        };
        let identity = Identity {
            what: "alerts",
            edition: String::new(),
            language,
            channel: "email",
            extra: fired,
        };
        self.mail(
            &letter,
            &identity,
            request.email,
            &format!("alerts-{}", self.period),
            tally,
        )
    }

    fn notice(&self, request: &AlertRequest, messages: &Messages) -> Result<Notice> {
        let catalogue = Catalogue::of(self.config)?;
        let label = |id: &str| {
            messages
                .indicator(id)
                .map(|(label, _)| label)
                .or_else(|| catalogue.indicator(id).ok().map(|i| i.label.clone()))
                .unwrap_or_else(|| id.to_string())
        };
        let alerts: Vec<NoticeAlert> = request
            .alerts
            .iter()
            .map(|a| NoticeAlert {
                rule: a.rule.clone(),
                indicator_id: a.indicator.clone(),
                indicator: label(&a.indicator),
                scope: if a.scope.is_empty() {
                    messages.text("alert_whole_company")
                } else {
                    a.scope
                        .iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                scope_values: a.scope.clone(),
                value: a.value.clone().unwrap_or_else(|| "n/a".into()),
                condition: a.condition.clone(),
                outcome: a.outcome,
                message: a.message.clone(),
            })
            .collect();
        let n = alerts.len().to_string();
        let run = self.run_id.to_string();
        let fill = [
            ("n", n.as_str()),
            ("pipeline", self.pipeline),
            ("period", self.period),
            ("run", run.as_str()),
        ];
        let subject = messages.fill(
            if alerts.len() == 1 {
                "alert_subject_one"
            } else {
                "alert_subject"
            },
            &fill,
        );
        Ok(Notice {
            pipeline: self.pipeline.to_string(),
            run: self.run_id,
            period: self.period.to_string(),
            intro: messages.fill("alert_intro", &fill),
            subject,
            alerts,
        })
    }
}

/// The context of `alerts.html.j2` and `alerts.txt.j2`.
#[derive(Serialize)]
struct AlertMail<'a> {
    lang: &'a str,
    company: &'a str,
    subject: &'a str,
    intro: &'a str,
    columns: [String; 5],
    alerts: &'a [NoticeAlert],
    /// The alerts as lines of the plain-text alternative.
    lines: Vec<String>,
    footer: String,
}
