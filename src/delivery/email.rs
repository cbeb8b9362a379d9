//! Messages as MIME: a plain-text body with an HTML alternative (the same
//! words), the report's files attached, a stable `Message-ID`. Built with
//! lettre, which encodes Chinese subjects and file names (RFC 2047, 2231).

use std::time::SystemTime;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// What a message says, before it is addressed.
#[derive(Debug, Clone)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attached>,
}

#[derive(Debug, Clone)]
pub struct Attached {
    pub name: String,
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

/// Who a message is from and to.
pub struct Addressing<'a> {
    pub from: &'a Mailbox,
    pub reply_to: Option<&'a Mailbox>,
    pub to: &'a [Mailbox],
}

impl Letter {
    /// The SHA-256 of what the message says (subject, both bodies, every
    /// attachment's name and bytes): the same content, the same hash.
    pub fn content_sha256(&self) -> String {
        let mut hash = Sha256::new();
        for part in [&self.subject, &self.text, &self.html] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
        for attached in &self.attachments {
            hash.update((attached.name.len() as u64).to_le_bytes());
            hash.update(attached.name.as_bytes());
            hash.update((attached.bytes.len() as u64).to_le_bytes());
            hash.update(&attached.bytes);
        }
        hex(&hash.finalize())
    }

    /// The message's bytes as a mail server receives them.
    pub fn message(
        &self,
        addressing: &Addressing,
        message_id: &str,
        date: SystemTime,
    ) -> Result<Vec<u8>> {
        let mut builder = Message::builder()
            .from(addressing.from.clone())
            .subject(self.subject.clone())
            .message_id(Some(message_id.to_string()))
            .date(date)
            .user_agent(format!("opskpi {}", env!("CARGO_PKG_VERSION")));
        if let Some(reply_to) = addressing.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        for to in addressing.to {
            builder = builder.to(to.clone());
        }
        let bodies = MultiPart::alternative_plain_html(self.text.clone(), self.html.clone());
        let message = if self.attachments.is_empty() {
            builder.multipart(bodies)
        } else {
            let mut mixed = MultiPart::mixed().multipart(bodies);
            for attached in &self.attachments {
                mixed = mixed.singlepart(attachment(attached)?);
            }
            builder.multipart(mixed)
        };
        message
            .map(|m| m.formatted())
            .map_err(|e| Error::Internal(format!("a message could not be built: {e}")))
    }
}

fn attachment(attached: &Attached) -> Result<SinglePart> {
    let mime = ContentType::parse(attached.mime)
        .map_err(|e| Error::Internal(format!("content type {}: {e}", attached.mime)))?;
    Ok(Attachment::new(attached.name.clone()).body(attached.bytes.clone(), mime))
}

/// A `Message-ID` that stays the same for the same delivery and content:
/// a retry or a rerun after a crash sends the very same identifier.
pub fn message_id(key: &str, content_sha256: &str, from: &Mailbox) -> String {
    format!(
        "<opskpi.{}.{}@{}>",
        &key[..20],
        &content_sha256[..12],
        from.email.domain()
    )
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A size as people read it, rounded half up: whole KB below 1 MB, else
/// MB with one decimal (1 KB = 2^10 bytes, 1 MB = 2^20 bytes).
pub fn size(bytes: u64) -> String {
    let bytes = u128::from(bytes);
    if bytes < 1 << 20 {
        return format!("{} KB", (bytes + 512) >> 10);
    }
    let tenths = (bytes * 10 + (1 << 19)) >> 20;
    format!("{}.{} MB", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_kilobytes_below_a_megabyte_of_two_to_the_twentieth_bytes() {
        assert_eq!(size(10 << 20), "10.0 MB");
        assert_eq!(size((12 << 20) + (3 << 20) / 10), "12.3 MB");
        // 1.05 MB is 1,101,004.8 bytes: the byte above rounds up, the
        // byte below down.
        assert_eq!(size(1_101_005), "1.1 MB");
        assert_eq!(size(1_101_004), "1.0 MB");
        assert_eq!(size(48 * 1024 + 511), "48 KB");
        assert_eq!(size(48 * 1024 + 512), "49 KB");
        assert_eq!(size(0), "0 KB");
        assert_eq!(size(u64::MAX), "17592186044416.0 MB");
    }

    #[test]
    fn the_content_hash_changes_with_any_part_and_not_otherwise() {
        let letter = Letter {
            subject: "營運報告 2026年10月：北區".into(),
            text: "a".into(),
            html: "<p>a</p>".into(),
            attachments: vec![Attached {
                name: "r.pdf".into(),
                mime: "application/pdf",
                bytes: vec![1, 2, 3],
            }],
        };
        let same = letter.clone();
        assert_eq!(letter.content_sha256(), same.content_sha256());
        let mut other = letter.clone();
        other.attachments[0].bytes = vec![1, 2, 4];
        assert_ne!(letter.content_sha256(), other.content_sha256());
        // Parts do not run into each other: "ab" + "" is not "a" + "b".
        let (mut one, mut two) = (letter.clone(), letter.clone());
        one.text = "ab".into();
        one.html = "".into();
        two.text = "a".into();
        two.html = "b".into();
        assert_ne!(one.content_sha256(), two.content_sha256());
    }
}
