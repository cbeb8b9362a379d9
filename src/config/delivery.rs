//! Where reports and alerts go: the company's mail server (`[smtp]`) and how
//! deliveries behave (`[delivery]`: allowed domains, attachment size, retries).
//! Secrets are never in the file: a password or a webhook address is read
//! from the environment variable the file names.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[smtp]`: the mail server messages are handed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// 587 with STARTTLS, 465 with implicit TLS, 25 without TLS.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    /// The login, when the server asks for one.
    #[serde(default)]
    pub user: Option<String>,
    /// The environment variable holding the password (never the password).
    #[serde(default)]
    pub password_env: Option<String>,
    /// The sender: `opskpi <reports@example.com.tw>`.
    pub from: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    /// A PEM file of the certificate authority of a company server, trusted
    /// beside the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// A plain connection upgraded with STARTTLS, which is required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a server on this machine only.
    None,
}

impl SmtpConfig {
    /// The login's password, from the variable `password_env` names (none
    /// without a `user`); never printed.
    pub fn password(&self) -> Result<Option<String>> {
        if self.user.is_none() {
            return Ok(None);
        }
        let Some(variable) = &self.password_env else {
            return Err(Error::config_hint(
                "`smtp.user` is set but no `smtp.password_env`",
                "name the environment variable that holds the password, e.g. password_env = \"OPSKPI_SMTP_PASSWORD\" (the file never holds it)",
            ));
        };
        std::env::var(variable).map(Some).map_err(|_| {
            Error::config_hint(
                format!("the environment variable `{variable}` (smtp.password_env) is not set"),
                format!("set `{variable}` to the mail login's password before the run (or try it first with --dry-run, which sends nothing)"),
            )
        })
    }

    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        })
    }

    fn check(&self) -> Result<()> {
        if self.host.trim().is_empty() {
            return Err(Error::config_hint(
                "`smtp.host` is empty",
                "give the mail server's name, e.g. host = \"mail.example.com.tw\"",
            ));
        }
        if self.security == Security::None && !is_loopback(&self.host) {
            return Err(Error::config_hint(
                format!(
                    "`smtp.security = \"none\"` would send reports and the password in clear text to `{}`",
                    self.host
                ),
                "use security = \"starttls\" (port 587) or \"tls\" (port 465); \"none\" is for a server on this machine (127.0.0.1, localhost)",
            ));
        }
        if self.password_env.is_some() && self.user.is_none() {
            return Err(Error::config_hint(
                "`smtp.password_env` is set but `smtp.user` is not",
                "give the login as `user`, or leave out `password_env` for a server without login",
            ));
        }
        if self.timeout_seconds == 0 {
            return Err(Error::config_hint(
                "`smtp.timeout_seconds` is 0",
                "give the seconds to wait for the server, e.g. 60",
            ));
        }
        Ok(())
    }
}

/// Whether `host` names this machine.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn default_timeout() -> u64 {
    60
}

/// `[delivery]`: rules every delivery of the project follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// When not empty, only addresses of these domains (and their
    /// subdomains) receive anything.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// The largest attachments a message carries, in MB (1 MB = 2^20 bytes);
    /// a larger report is sent as a link or path instead.
    #[serde(default = "default_max_attachment_mb")]
    pub max_attachment_mb: u32,
    /// Where readers find a report too large to attach: a URL or folder
    /// with `{file}` for the file's name; the file's path when not set.
    #[serde(default)]
    pub link: Option<String>,
    /// Retries of a temporary failure (SMTP 4xx, a refused connection, HTTP
    /// 429 or 5xx), each after twice the wait of the one before.
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default = "default_retry_wait")]
    pub retry_wait_seconds: f64,
    /// A PEM file of the certificate authority of a company webhook
    /// receiver; Mozilla's roots when not set.
    #[serde(default)]
    pub webhook_ca_file: Option<PathBuf>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            allowed_domains: Vec::new(),
            max_attachment_mb: default_max_attachment_mb(),
            link: None,
            retries: default_retries(),
            retry_wait_seconds: default_retry_wait(),
            webhook_ca_file: None,
        }
    }
}

fn default_max_attachment_mb() -> u32 {
    10
}

fn default_retries() -> u32 {
    3
}

fn default_retry_wait() -> f64 {
    5.0
}

impl DeliveryConfig {
    fn check(&self) -> Result<()> {
        if !(self.retry_wait_seconds.is_finite()
            && (0.0..=3600.0).contains(&self.retry_wait_seconds))
        {
            return Err(Error::config_hint(
                format!(
                    "`delivery.retry_wait_seconds` = {} is not a wait",
                    self.retry_wait_seconds
                ),
                "give seconds between 0 and 3600, e.g. 5",
            ));
        }
        if let Some(domain) = self
            .allowed_domains
            .iter()
            .find(|d| d.trim().is_empty() || d.contains('@'))
        {
            return Err(Error::config_hint(
                format!("`delivery.allowed_domains` holds `{domain}`, which is no domain"),
                "list domains without the part before @, e.g. [\"example.com.tw\"]",
            ));
        }
        Ok(())
    }

    /// Whether `address` may receive deliveries.
    pub fn allows(&self, address: &str) -> bool {
        if self.allowed_domains.is_empty() {
            return true;
        }
        let domain = address
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase())
            .unwrap_or_default();
        self.allowed_domains.iter().any(|allowed| {
            let allowed = allowed.trim().trim_start_matches('.').to_ascii_lowercase();
            domain == allowed || domain.ends_with(&format!(".{allowed}"))
        })
    }

    /// The attachment limit in bytes.
    pub fn max_attachment_bytes(&self) -> u64 {
        u64::from(self.max_attachment_mb) << 20
    }
}

/// Checks `[smtp]` and `[delivery]`.
pub fn check(smtp: Option<&SmtpConfig>, delivery: &DeliveryConfig) -> Result<()> {
    if let Some(smtp) = smtp {
        smtp.check()?;
    }
    delivery.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_domains_take_subdomains_and_nothing_else() {
        let delivery = DeliveryConfig {
            allowed_domains: vec!["example.com.tw".into()],
            ..DeliveryConfig::default()
        };
        assert!(delivery.allows("gm@example.com.tw"));
        assert!(delivery.allows("north@tpe.EXAMPLE.com.tw"));
        assert!(!delivery.allows("someone@notexample.com.tw"));
        assert!(!delivery.allows("someone@example.com.tw.evil.io"));
        assert!(!delivery.allows("no-domain"));
        assert!(DeliveryConfig::default().allows("anyone@anywhere.io"));
    }

    #[test]
    fn clear_text_smtp_is_for_this_machine_only() {
        let smtp = |host: &str| SmtpConfig {
            host: host.into(),
            port: None,
            security: Security::None,
            user: None,
            password_env: None,
            from: "a@b.c".into(),
            reply_to: None,
            ca_file: None,
            timeout_seconds: 60,
        };
        assert!(smtp("127.0.0.1").check().is_ok());
        assert!(smtp("localhost").check().is_ok());
        assert!(smtp("[::1]").check().is_ok());
        let refused = smtp("mail.example.com.tw").check().unwrap_err().to_string();
        assert!(refused.contains("clear text"), "{refused}");
        assert_eq!(smtp("x").port(), 25);
    }
}
