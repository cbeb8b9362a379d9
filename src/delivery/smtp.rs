//! The mail server: a lettre SMTP transport built from `[smtp]` — STARTTLS
//! required or implicit TLS, verified against the system's roots and the
//! configured company CA, the login's password read from the environment
//! variable the file names — and each message handed over in one SMTP
//! transaction per recipient, so that one refused recipient does not stop
//! the others and each one's delivery is recorded on its own.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, SmtpTransport, Transport};

use super::retry::Failure;
use crate::config::{Config, Security, SmtpConfig};
use crate::error::{Error, Result};

pub struct Mailer {
    transport: SmtpTransport,
    from: Address,
    /// `host:port`, for messages.
    server: String,
}

impl Mailer {
    /// The transport `[smtp]` describes; reads the password's variable.
    pub fn new(config: &Config, smtp: &SmtpConfig, from: Address) -> Result<Mailer> {
        let tls = match smtp.security {
            Security::None => Tls::None,
            Security::Starttls => Tls::Required(tls_parameters(config, smtp)?),
            Security::Tls => Tls::Wrapper(tls_parameters(config, smtp)?),
        };
        let mut builder = SmtpTransport::builder_dangerous(smtp.host.clone())
            .port(smtp.port())
            .tls(tls)
            .timeout(Some(Duration::from_secs(smtp.timeout_seconds)));
        if let (Some(user), Some(password)) = (&smtp.user, smtp.password()?) {
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            server: format!("{}:{}", smtp.host, smtp.port()),
        })
    }

    /// Hands `message` to the server for `recipient` alone.
    pub fn send(&self, recipient: &Address, message: &[u8]) -> std::result::Result<(), Failure> {
        let envelope = Envelope::new(Some(self.from.clone()), vec![recipient.clone()])
            .map_err(|e| Failure::Permanent(e.to_string()))?;
        self.transport
            .send_raw(&envelope, message)
            .map(|_| ())
            .map_err(|error| classify(&self.server, &error))
    }
}

/// TLS verified against the system's roots, and the company's CA if set.
fn tls_parameters(config: &Config, smtp: &SmtpConfig) -> Result<TlsParameters> {
    let mut builder = TlsParameters::builder(smtp.host.clone());
    if let Some(file) = &smtp.ca_file {
        let path = config.resolve(file);
        let pem = fs_err::read(&path)?;
        let certificate = Certificate::from_pem(&pem).map_err(|e| {
            Error::config_hint(
                format!("`smtp.ca_file` `{}`: {e}", path.display()),
                "give a PEM file of the certificate authority (-----BEGIN CERTIFICATE-----)",
            )
        })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|e| {
        Error::config_hint(
            format!("TLS to `{}`: {e}", smtp.host),
            "check `smtp.ca_file`",
        )
    })
}

/// Whether a failed SMTP exchange is worth trying again.
fn classify(server: &str, error: &lettre::transport::smtp::Error) -> Failure {
    let reason = format!("{server}: {}", describe(error));
    if refused_certificate(error) {
        // No retry makes an unknown certificate known.
        Failure::Permanent(reason)
    } else if error.is_transient() || error.is_timeout() {
        Failure::Temporary { reason, wait: None }
    } else if error.is_permanent() || error.is_tls() || error.is_client() || error.is_response() {
        Failure::Permanent(reason)
    } else {
        // A connection refused, reset or cut: the server may be back soon.
        Failure::Temporary { reason, wait: None }
    }
}

/// Whether TLS refused the server's certificate (or the server ours),
/// whichever layer wrapped rustls's error.
fn refused_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::AlertReceived(_)
            );
        }
        if let Some(tls) = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if refused_certificate(tls) {
                return true;
            }
        }
        cause = error.source();
    }
    false
}

/// The error with its causes, in one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
