//! Webhooks: fired alerts posted as JSON in the shape the receiving chat
//! expects — a Microsoft Teams workflow (an Adaptive Card), Slack
//! (blocks), Google Chat (text) — or opskpi's own payload for anything
//! else. The address holds a secret: it comes from an environment
//! variable, must be HTTPS (but on this machine), and is never printed or
//! recorded; errors name the variable instead.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::retry::Failure;
use super::Notice;
use crate::config::is_loopback;
use crate::error::{Error, Result};

/// The payload's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Teams,
    Slack,
    GoogleChat,
    /// opskpi's own: every field of every alert.
    Json,
}

impl Format {
    /// The shape a receiver's address says, when the step names none.
    pub fn of_url(url: &str) -> Format {
        let host = host(url).unwrap_or_default().to_ascii_lowercase();
        if host == "hooks.slack.com" {
            Format::Slack
        } else if host == "chat.googleapis.com" {
            Format::GoogleChat
        } else if host.ends_with(".webhook.office.com")
            || host.ends_with(".logic.azure.com")
            || host.ends_with(".powerplatform.com")
        {
            Format::Teams
        } else {
            Format::Json
        }
    }
}

/// The host of an `http(s)://` address.
fn host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    })
}

/// The most alerts a chat message lists; the rest are counted.
const CHAT_LIST: usize = 40;

/// The JSON body for `notice` in `format`.
pub fn payload(format: Format, notice: &Notice) -> Value {
    let shown = notice.alerts.iter().take(CHAT_LIST);
    let more = notice.alerts.len().saturating_sub(CHAT_LIST);
    let more_line = (more > 0).then(|| format!("… +{more}"));
    match format {
        Format::Teams => {
            let facts: Vec<Value> = shown
                .map(|a| json!({"title": a.rule, "value": format!("{} · {}: {} ({})", a.indicator, a.scope, a.value, a.condition)}))
                .collect();
            let mut body = vec![
                json!({"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": notice.subject, "wrap": true}),
                json!({"type": "TextBlock", "text": notice.intro, "wrap": true}),
                json!({"type": "FactSet", "facts": facts}),
            ];
            if let Some(line) = more_line {
                body.push(json!({"type": "TextBlock", "text": line, "wrap": true}));
            }
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": body,
                    }
                }]
            })
        }
        Format::Slack => {
            let mut lines: Vec<String> = shown
                .map(|a| {
                    format!(
                        "• *{}* — {}, {}: *{}* (`{}`)",
                        slack(&a.rule),
                        slack(&a.indicator),
                        slack(&a.scope),
                        slack(&a.value),
                        slack(&a.condition)
                    )
                })
                .collect();
            lines.extend(more_line);
            json!({
                "text": notice.subject,
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": notice.subject}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": slack(&notice.intro)}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}},
                ]
            })
        }
        Format::GoogleChat => {
            let mut lines = vec![format!("*{}*", notice.subject), notice.intro.clone()];
            lines.extend(shown.map(|a| {
                format!(
                    "• *{}* — {}, {}: *{}* ({})",
                    a.rule, a.indicator, a.scope, a.value, a.condition
                )
            }));
            lines.extend(more_line);
            json!({"text": lines.join("\n")})
        }
        Format::Json => json!({
            "pipeline": notice.pipeline,
            "run": notice.run,
            "period": notice.period,
            "subject": notice.subject,
            "alerts": notice.alerts,
        }),
    }
}

/// Slack's mrkdwn escapes.
fn slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A receiver: its address (secret) and the variable that named it.
pub struct Hook {
    agent: ureq::Agent,
    url: String,
    pub variable: String,
}

impl Hook {
    /// The receiver the variable `variable` holds the address of.
    pub fn new(variable: &str, ca_pem: Option<Vec<u8>>, timeout: Duration) -> Result<Hook> {
        let url = std::env::var(variable).map_err(|_| {
            Error::config_hint(
                format!("the environment variable `{variable}` (webhook_env) is not set"),
                format!("set `{variable}` to the webhook's address before the run"),
            )
        })?;
        let url = url.trim().to_string();
        let secure = url.starts_with("https://");
        let local = url.starts_with("http://") && host(&url).is_some_and(is_loopback);
        if !secure && !local {
            return Err(Error::config_hint(
                format!("the webhook address in `{variable}` is not an https:// address"),
                "give the https:// address the chat tool gave (http:// only to this machine)",
            ));
        }
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(pem) = ca_pem {
            let certificates = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| {
                    Error::config_hint(
                        format!("`delivery.webhook_ca_file`: {e}"),
                        "give a PEM file of the certificate authority",
                    )
                })?;
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certificates));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(tls.build())
            .build()
            .new_agent();
        Ok(Hook {
            agent,
            url,
            variable: variable.to_string(),
        })
    }

    pub fn format(&self) -> Format {
        Format::of_url(&self.url)
    }

    /// Posts `body`; 2xx is delivered, 429 and 5xx are worth a retry.
    pub fn post(&self, body: &str) -> std::result::Result<(), Failure> {
        let who = format!("webhook ${}", self.variable);
        let response = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json; charset=utf-8")
            .send(body)
            .map_err(|error| {
                // Never the address: it may hold the receiver's secret.
                let reason = format!("{who}: {}", error.to_string().replace(&self.url, "…"));
                match error {
                    ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::HostNotFound => Failure::Temporary { reason, wait: None },
                    _ => Failure::Permanent(reason),
                }
            })?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let reason = format!("{who}: HTTP {status}");
        if status == 429 || status >= 500 {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            Err(Failure::Temporary { reason, wait })
        } else {
            Err(Failure::Permanent(reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shape_follows_the_receivers_host() {
        assert_eq!(
            Format::of_url("https://hooks.slack.com/services/T0/B0/XYZ"),
            Format::Slack
        );
        assert_eq!(
            Format::of_url("https://chat.googleapis.com/v1/spaces/AA/messages?key=k"),
            Format::GoogleChat
        );
        assert_eq!(
            Format::of_url("https://prod-12.westus.logic.azure.com:443/workflows/1/triggers"),
            Format::Teams
        );
        assert_eq!(
            Format::of_url("https://acme.webhook.office.com/webhookb2/x"),
            Format::Teams
        );
        assert_eq!(
            Format::of_url("https://hooks.slack.com.evil.io/x"),
            Format::Json
        );
        assert_eq!(Format::of_url("http://127.0.0.1:8025/hook"), Format::Json);
        assert_eq!(host("http://[::1]:80/x"), Some("::1"));
        assert_eq!(host("https://user@h.example:8443?x"), Some("h.example"));
    }
}
