//! Who may connect: SCRAM-SHA-256 verifiers in PostgreSQL's own format
//! (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64),
//! which prove a password without holding it — a stolen `opskpi.toml`
//! gives no one a login. The salted password is derived by pgwire's SCRAM
//! code (SASLprep, PBKDF2), the same that checks a client's proof.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pgwire::api::auth::sasl::scram::{gen_salted_password, ScramSecret};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Result};

/// PostgreSQL's default, and the least RFC 7677 allows.
pub const ITERATIONS: usize = 4096;

/// A password's verifier with a fresh random salt, as `opskpi serve passwd`
/// prints it.
pub fn verifier(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| Error::Internal("no random bytes for a salt".into()))?;
    Ok(verifier_with(password, &salt, ITERATIONS))
}

/// The verifier of `password` with `salt` and `iterations`.
pub fn verifier_with(password: &str, salt: &[u8], iterations: usize) -> String {
    let salted = gen_salted_password(password, salt, iterations);
    match ScramSecret::verifier_from_salted_password(salt.to_vec(), salted, iterations) {
        ScramSecret::Verifier {
            stored_key,
            server_key,
            ..
        } => format!(
            "SCRAM-SHA-256${iterations}:{}${}:{}",
            STANDARD.encode(salt),
            STANDARD.encode(stored_key),
            STANDARD.encode(server_key)
        ),
        ScramSecret::SaltedPassword { .. } => unreachable!("pgwire derives a verifier"),
    }
}

/// Reads a verifier of the configuration for pgwire; the error names the
/// user and never repeats the verifier.
pub fn parse(user: &str, text: &str) -> Result<ScramSecret> {
    let bad = |what: &str| {
        Error::config_hint(
            format!("`serve.users.{user}.verifier` is not a SCRAM-SHA-256 verifier: {what}"),
            format!("make one with `opskpi serve passwd {user}` and paste the line it prints"),
        )
    };
    let rest = text
        .trim()
        .strip_prefix("SCRAM-SHA-256$")
        .ok_or_else(|| bad("it does not start with `SCRAM-SHA-256$`"))?;
    let (head, keys) = rest
        .split_once('$')
        .ok_or_else(|| bad("no `$` before the keys"))?;
    let (iterations, salt) = head
        .split_once(':')
        .ok_or_else(|| bad("no `iterations:salt`"))?;
    let (stored_key, server_key) = keys
        .split_once(':')
        .ok_or_else(|| bad("no `StoredKey:ServerKey`"))?;
    let iterations: usize = iterations
        .parse()
        .map_err(|_| bad("the iteration count is not a number"))?;
    if iterations < ITERATIONS {
        return Err(bad("fewer than 4096 iterations"));
    }
    let decode = |part: &str, what: &str| STANDARD.decode(part).map_err(|_| bad(what));
    let salt = decode(salt, "the salt is not base64")?;
    let stored_key = decode(stored_key, "the StoredKey is not base64")?;
    let server_key = decode(server_key, "the ServerKey is not base64")?;
    if stored_key.len() != 32 || server_key.len() != 32 || salt.is_empty() {
        return Err(bad("a key is not 32 bytes long, or the salt is empty"));
    }
    Ok(ScramSecret::Verifier {
        salt,
        iterations,
        stored_key,
        server_key,
    })
}

/// A verifier for a user who does not exist, the same on every attempt
/// (derived from the server's secret and the name): the exchange runs to
/// its end and fails as a wrong password does, so that a client cannot tell
/// a missing user from a wrong password.
pub fn decoy(secret: &hmac::Key, user: &str) -> ScramSecret {
    let tag = |label: &str| hmac::sign(secret, format!("{label}\0{user}").as_bytes());
    ScramSecret::Verifier {
        salt: tag("salt").as_ref()[..16].to_vec(),
        iterations: ITERATIONS,
        stored_key: tag("stored").as_ref().to_vec(),
        server_key: tag("server").as_ref().to_vec(),
    }
}

/// A fresh secret for decoys, for the life of the process.
pub fn decoy_secret() -> Result<hmac::Key> {
    hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
        .map_err(|_| Error::Internal("no random bytes for a key".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_is_postgresql_s_own() {
        // The verifier of "pencil" with this salt and 4096 iterations,
        // computed with Python's hashlib.pbkdf2_hmac and hmac (not with
        // this code); tests/serve.rs has PostgreSQL accept a verifier made
        // here as a role's password.
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        assert_eq!(
            verifier_with("pencil", &salt, 4096),
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
    }

    #[test]
    fn verifiers_are_read_and_bad_ones_named() {
        let text = verifier("s3cret").unwrap();
        assert!(matches!(
            parse("ana", &text).unwrap(),
            ScramSecret::Verifier {
                iterations: 4096,
                ..
            }
        ));
        // Two verifiers of one password differ (a fresh salt each).
        assert_ne!(text, verifier("s3cret").unwrap());
        for bad in [
            "s3cret",
            "md5abcdef",
            "SCRAM-SHA-256$4096:c2FsdA==",
            "SCRAM-SHA-256$100:c2FsdA==$AAAA:AAAA",
            "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",
        ] {
            let error = parse("ana", bad).unwrap_err().to_string();
            assert!(error.contains("serve.users.ana.verifier"), "{error}");
            assert!(!error.contains(bad), "the verifier is repeated: {error}");
        }
    }
}
