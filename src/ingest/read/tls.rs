//! TLS to a PostgreSQL source, in pure Rust (rustls), with libpq's
//! `sslmode`s: `disable` (plain), `prefer` (TLS when the server offers it,
//! unverified — libpq's default), `require` (TLS or nothing; the chain
//! verified against `ca_file` when one is given, as libpq does with a root
//! certificate), `verify-ca` (the chain verified) and `verify-full` (the
//! chain and the host name). The mode and the CA file come from the source's
//! `[sources.postgres]` or from the connection string's own `sslmode` and
//! `sslrootcert`; the string is handed to the client without them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// libpq's `sslmode`, as opskpi supports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(text: &str) -> Result<SslMode> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "prefer" | "allow" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(Error::config_hint(
                    format!("unknown sslmode `{other}`"),
                    "use disable, prefer, require, verify-ca or verify-full",
                ))
            }
        })
    }
}

/// A connection string without `sslmode` and `sslrootcert`, and their
/// values — in either of libpq's forms: `postgres://…?sslmode=require&…`
/// or `host=… sslmode=require`.
pub fn split_tls_options(url: &str) -> (String, Option<String>, Option<PathBuf>) {
    let (mut mode, mut ca) = (None, None);
    let mut keep = |key: &str, value: &str| match key {
        "sslmode" => {
            mode = Some(value.to_string());
            false
        }
        "sslrootcert" => {
            ca = Some(PathBuf::from(value));
            false
        }
        _ => true,
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        keep(key, value)
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_string(),
        }
    } else {
        url.split_whitespace()
            .filter(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                keep(key.trim(), value.trim())
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, mode, ca)
}

/// The client's TLS set-up for `mode` (`None` for `disable`): the roots of
/// `ca_file`, or the system's for `verify-full` without one.
pub fn client_config(mode: SslMode, ca_file: Option<&Path>) -> Result<Option<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::Internal(format!("TLS: {error}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, ca_file) {
        (SslMode::Disable, _) => return Ok(None),
        (SslMode::Prefer, _) | (SslMode::Require, None) => Arc::new(Unverified(provider)),
        (SslMode::Require | SslMode::VerifyCa, Some(ca)) => {
            Arc::new(ChainOnly(webpki(roots(Some(ca))?, &provider)?))
        }
        (SslMode::VerifyCa, None) => Arc::new(ChainOnly(webpki(roots(None)?, &provider)?)),
        (SslMode::VerifyFull, ca) => webpki(roots(ca)?, &provider)?,
    };
    Ok(Some(
        builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    ))
}

fn webpki(
    roots: RootCertStore,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|error| Error::config(format!("TLS: {error}")))
}

/// The certificates of `ca_file` (PEM), or the system's roots.
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let bad = |what: String| {
                Error::config_hint(
                    format!("the CA file `{}`: {what}", path.display()),
                    "give the PEM file of the certificate authority that signed the server's certificate",
                )
            };
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|error| bad(error.to_string()))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|error| bad(error.to_string()))?;
            if certificates.is_empty() {
                return Err(bad("holds no certificate".into()));
            }
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|error| bad(error.to_string()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for certificate in found.certs {
                let _ = roots.add(certificate);
            }
            if roots.is_empty() {
                return Err(Error::config_hint(
                    "no trusted certificate authority on this system to verify the server with",
                    "give the server's CA file as `ca_file` in `[sources.postgres]`",
                ));
            }
        }
    }
    Ok(roots)
}

/// `prefer`, and `require` without a CA file: encrypted, but any
/// certificate is taken (libpq's meaning). The handshake's signatures are
/// still checked, so the server holds the key of the certificate it shows.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain to a trusted root is checked, the host name not.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_options_are_taken_out_of_both_forms_of_connection_string() {
        let (rest, mode, ca) = split_tls_options(
            "postgres://u:p@db.example.com:5432/crm?sslmode=verify-full&application_name=x&sslrootcert=/ca.pem",
        );
        assert_eq!(
            rest,
            "postgres://u:p@db.example.com:5432/crm?application_name=x"
        );
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(ca, Some(PathBuf::from("/ca.pem")));
        let (rest, mode, ca) = split_tls_options("host=db user=u sslmode=require dbname=crm");
        assert_eq!(rest, "host=db user=u dbname=crm");
        assert_eq!(mode.as_deref(), Some("require"));
        assert_eq!(ca, None);
        let (rest, mode, _) = split_tls_options("postgres://u@h/db?sslmode=disable");
        assert_eq!(
            (rest.as_str(), mode.as_deref()),
            ("postgres://u@h/db", Some("disable"))
        );
        assert!(SslMode::parse("verify-everything").is_err());
    }
}
