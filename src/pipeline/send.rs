//! The deliver and notify steps: what they name checked before the run
//! starts, and the run's reports and fired alerts handed to `delivery`.

use std::time::Duration;

use super::alert::Outcome;
use super::file::{AlsoName, ReportKindName, Step};
use super::{Done, Earlier, Run};
use crate::config::Config;
use crate::delivery::{recipients, Alert, AlertRequest, Deliveries, Mode, ReportRequest};
use crate::error::{Error, Result};
use crate::jobs::EDITION_DIMENSIONS;
use crate::locale::Locale;

/// Checks a deliver or notify step against the steps `before` it and the
/// project: a report or alert step to send from, the language, the
/// recipients, the mail server.
pub(super) fn check(step: &Step, before: &[Step], config: &Config, mode: Mode) -> Result<()> {
    let folder = config.templates_folder();
    let language = |tag: &Option<String>| -> Result<Locale> {
        match tag {
            Some(tag) => Locale::find(tag, folder.as_deref()),
            None => Locale::of(config),
        }
    };
    let needs_smtp = || {
        let Some(smtp) = &config.smtp else {
            return Err(Error::config_hint(
                "email needs the project's mail server: `opskpi.toml` has no `[smtp]`",
                "add [smtp] with host, from and the login (docs/delivery.md)",
            ));
        };
        // The password is needed to send, not to write messages as files:
        // a run that would fail at its last step fails before its first.
        if mode.dry_run {
            return Ok(());
        }
        smtp.password().map(|_| ())
    };
    match step {
        Step::Deliver {
            report,
            to,
            language: tag,
            ..
        } => {
            if *report == ReportKindName::Assessment {
                return Err(Error::config_hint(
                    "the assessment is not delivered: it holds personal ratings",
                    "deliver a monthly, quarterly or yearly report; hand the assessment over in person",
                ));
            }
            needs_smtp()?;
            recipients::check(to, &EDITION_DIMENSIONS, &config.delivery)?;
            let lang = language(tag)?;
            let config_lang = Locale::of(config)?;
            for key in to.keys() {
                let each = key.split_once(':').map(|(dimension, _)| dimension);
                let written = before.iter().any(|s| match s {
                    Step::Report {
                        report: r,
                        languages,
                        each: e,
                        ..
                    } => {
                        r == report
                            && e.as_deref() == each
                            && (languages.iter().any(|l| l == lang.tag())
                                || (languages.is_empty() && lang == config_lang))
                    }
                    _ => false,
                });
                if !written {
                    let each_line = each
                        .map(|d| format!(", each = \"{d}\""))
                        .unwrap_or_default();
                    return Err(Error::config_hint(
                        format!("`to.\"{key}\"`: no report step before this one writes that {} report in `{}`", report_name(*report), lang.tag()),
                        format!("a deliver step sends what a report step before it wrote: add [[steps]] step = \"report\", report = \"{}\"{each_line}, languages = [\"{}\"]", report_name(*report), lang.tag()),
                    ));
                }
            }
            Ok(())
        }
        Step::Notify {
            webhook_env,
            email,
            language: tag,
            ..
        } => {
            if !before.iter().any(|s| matches!(s, Step::Alert { .. })) {
                return Err(Error::config_hint(
                    "a notify step sends the alerts of an alert step before it, and there is none",
                    "add an alert step with its rules before the notify step",
                ));
            }
            if webhook_env.is_none() && email.is_empty() {
                return Err(Error::config_hint(
                    "a notify step needs somewhere to send: `webhook_env` or `email`",
                    "e.g. webhook_env = \"OPSKPI_TEAMS_WEBHOOK\" (the variable holding the address), email = [\"ops@example.com.tw\"]",
                ));
            }
            if !email.is_empty() {
                needs_smtp()?;
            }
            for address in email {
                recipients::check_address(address, &config.delivery)?;
            }
            language(tag).map(|_| ())
        }
        _ => Ok(()),
    }
}

fn report_name(kind: ReportKindName) -> &'static str {
    kind.kind().map_or("assessment", |k| k.name())
}

impl Run<'_> {
    fn deliveries<'a>(&'a self, period: &'a str) -> Deliveries<'a> {
        Deliveries {
            config: &self.config,
            pipeline: &self.pipeline,
            run_id: self.run_id,
            period,
            as_of: self.as_of,
            out: &self.out,
            mode: self.delivery,
            clock: self.clock,
            faults: self.faults,
            sleep: &std::thread::sleep as &dyn Fn(Duration),
        }
    }

    /// Runs a deliver or notify step.
    pub(super) fn send(&self, step: &Step, earlier: &Earlier) -> Result<Done> {
        let period = self.period.to_string();
        let folder = self.config.templates_folder();
        let language = |tag: &Option<String>| match tag {
            Some(tag) => Locale::find(tag, folder.as_deref()),
            None => Locale::of(&self.config),
        };
        let tally = match step {
            Step::Deliver {
                report,
                to,
                language: tag,
                attach,
            } => {
                let manifests: Vec<_> = earlier
                    .outputs
                    .iter()
                    .filter(|p| p.to_string_lossy().ends_with(".manifest.json"))
                    .cloned()
                    .collect();
                let attach: Vec<&str> = attach.iter().map(|f| f.extension()).collect();
                self.deliveries(&period).reports(&ReportRequest {
                    manifests: &manifests,
                    report: report_name(*report),
                    language: language(tag)?,
                    to,
                    attach: &attach,
                    dimensions: &EDITION_DIMENSIONS,
                    templates: folder.as_deref(),
                })?
            }
            Step::Notify {
                webhook_env,
                webhook_format,
                email,
                also,
                language: tag,
            } => {
                let alerts: Vec<Alert> = earlier
                    .alerts
                    .iter()
                    .filter(|e| {
                        e.fires
                            || (e.outcome == Outcome::NoData && also.contains(&AlsoName::NoData))
                            || (e.outcome == Outcome::Clear && also.contains(&AlsoName::Clear))
                    })
                    .map(|e| Alert {
                        rule: e.rule.clone(),
                        indicator: e.indicator.clone(),
                        scope: e.scope.clone(),
                        value: e.observed.clone(),
                        condition: e.condition.clone(),
                        outcome: match e.outcome {
                            Outcome::Fired => "fired",
                            Outcome::Clear => "clear",
                            Outcome::NoData => "no_data",
                        },
                        message: e.message.clone(),
                    })
                    .collect();
                if alerts.is_empty() {
                    return Ok(Done {
                        message: "no alert fired: nothing to send".into(),
                        ..Done::default()
                    });
                }
                self.deliveries(&period).alerts(&AlertRequest {
                    alerts: &alerts,
                    webhook_env: webhook_env.as_deref(),
                    webhook_format: *webhook_format,
                    email,
                    language: language(tag)?,
                    templates: folder.as_deref(),
                })?
            }
            _ => unreachable!("only deliver and notify steps send"),
        };
        Ok(Done {
            message: tally.message(),
            outputs: tally.files.clone(),
            ..Done::default()
        })
    }
}
