//! Text encodings of source files: stated in the config, or detected from a
//! byte-order mark, from the bytes being valid UTF-8, and otherwise from
//! chardetng's guess — settled, between the encodings Chinese files really
//! use (Big5, GBK/GB18030), by which one makes the header readable as column
//! names opskpi knows. Decoding streams through `encoding_rs`; nothing here
//! decodes by hand.

use std::io::{Read, Write};
use std::path::Path;

use encoding_rs::{Encoding, BIG5, GB18030, GBK, UTF_16BE, UTF_16LE, UTF_8};

use crate::error::{Error, Result};

/// How much of a file detection reads.
pub const SAMPLE_BYTES: usize = 1 << 20;

/// An encoding and how it was settled.
#[derive(Debug, Clone, Copy)]
pub struct Detected {
    pub encoding: &'static Encoding,
    /// `stated`, `byte-order mark`, `valid UTF-8` or `detected`.
    pub how: &'static str,
    /// The file starts with a byte-order mark.
    pub bom: bool,
}

impl Detected {
    /// Whether DuckDB can read the file as it is (UTF-8, a BOM at most).
    pub fn is_utf8(&self) -> bool {
        self.encoding == UTF_8
    }

    pub fn describe(&self) -> String {
        format!("{} ({})", self.encoding.name(), self.how)
    }
}

/// The encoding a config label names (`big5`, `gbk`, `utf-16`, `cp950`, …).
pub fn by_label(label: &str) -> Result<&'static Encoding> {
    let label = label.trim();
    let found = match label.to_ascii_lowercase().as_str() {
        // WHATWG's `utf-16` is little-endian; say so rather than surprise.
        "utf-16" | "utf16" => Some(UTF_16LE),
        "cp950" | "ms950" => Some(BIG5),
        "cp936" | "ms936" => Some(GBK),
        _ => Encoding::for_label(label.as_bytes()),
    };
    found.ok_or_else(|| {
        Error::config_hint(
            format!("unknown encoding `{label}`"),
            "use a name such as `utf-8`, `utf-16le`, `utf-16be`, `big5`, `gbk` or `gb18030`",
        )
    })
}

/// The first `SAMPLE_BYTES` of a file, and whether that is all of it.
pub fn sample(path: &Path) -> Result<(Vec<u8>, bool)> {
    let mut file = fs_err::File::open(path)?;
    let mut buffer = Vec::with_capacity(SAMPLE_BYTES.min(1 << 16));
    Read::by_ref(&mut file)
        .take(SAMPLE_BYTES as u64 + 1)
        .read_to_end(&mut buffer)?;
    let complete = buffer.len() <= SAMPLE_BYTES;
    buffer.truncate(SAMPLE_BYTES);
    Ok((buffer, complete))
}

/// Whether `bytes` are UTF-8, allowing a character cut at the sample's end.
fn is_utf8(bytes: &[u8], complete: bool) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(error) => !complete && error.error_len().is_none(),
    }
}

/// UTF-16 without a byte-order mark: text in Latin or CJK scripts leaves
/// many zero bytes in one of the two positions.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let pairs = bytes.len() / 2;
    if pairs < 4 {
        return None;
    }
    let zero_at = |offset: usize| {
        bytes
            .iter()
            .skip(offset)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zero_at(0), zero_at(1));
    if odd * 3 > pairs && even * 10 < pairs {
        Some(UTF_16LE)
    } else if even * 3 > pairs && odd * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Decodes a sample, cut back to its last complete line, without replacing
/// anything: `None` when the bytes are not in that encoding.
pub fn decode_sample(bytes: &[u8], encoding: &'static Encoding, complete: bool) -> Option<String> {
    let (encoding, bom_length) = match Encoding::for_bom(bytes) {
        Some((found, length)) if found == encoding => (found, length),
        _ => (encoding, 0),
    };
    let bytes = &bytes[bom_length..];
    let bytes = if complete {
        bytes
    } else if encoding == UTF_16LE || encoding == UTF_16BE {
        let newline: &[u8] = if encoding == UTF_16LE {
            b"\n\0"
        } else {
            b"\0\n"
        };
        let end = bytes
            .chunks(2)
            .rposition(|pair| pair == newline)
            .map(|i| i * 2 + 2)
            .unwrap_or(bytes.len() & !1);
        &bytes[..end]
    } else {
        let end = bytes
            .iter()
            .rposition(|b| *b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(bytes.len());
        &bytes[..end]
    };
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
}

/// Settles the encoding of a file from its sample. `known_headers` scores a
/// decoded sample by how many header cells name known columns.
pub fn detect(
    stated: Option<&str>,
    bytes: &[u8],
    complete: bool,
    known_headers: &dyn Fn(&str) -> usize,
) -> Result<Detected> {
    let bom = Encoding::for_bom(bytes);
    if let Some(label) = stated {
        let encoding = by_label(label)?;
        let bom = bom.is_some_and(|(found, _)| found == encoding);
        return Ok(Detected {
            encoding,
            how: "stated",
            bom,
        });
    }
    if let Some((encoding, _)) = bom {
        return Ok(Detected {
            encoding,
            how: "byte-order mark",
            bom: true,
        });
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return Ok(Detected {
            encoding,
            how: "detected",
            bom: false,
        });
    }
    if is_utf8(bytes, complete) {
        return Ok(Detected {
            encoding: UTF_8,
            how: "valid UTF-8",
            bom: false,
        });
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, complete);
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    // The guess first, so it wins ties; then the Chinese encodings a guess
    // on a short sample may confuse with each other.
    let mut best: Option<(&'static Encoding, usize)> = None;
    for candidate in [guess, BIG5, GB18030] {
        let Some(text) = decode_sample(bytes, candidate, complete) else {
            continue;
        };
        let score = known_headers(&text);
        if best.is_none_or(|(_, best_score)| score > best_score) {
            best = Some((candidate, score));
        }
    }
    // A Chinese file with a few damaged bytes does not decode cleanly, and
    // a single-byte guess then reads its header as nonsense. If Big5 or
    // GB18030 read known column names despite the damage, it is that
    // encoding, and the reader refuses the damaged line by its number.
    for candidate in [BIG5, GB18030] {
        let (text, _) = candidate.decode_without_bom_handling(bytes);
        let score = known_headers(&text);
        if best.is_none_or(|(_, best_score)| score > best_score) {
            best = Some((candidate, score));
        }
    }
    match best {
        // GBK files decode with the GB18030 decoder (a superset); name it so.
        Some((encoding, _)) => Ok(Detected {
            encoding: if encoding == GBK { GB18030 } else { encoding },
            how: "detected",
            bom: false,
        }),
        None => Err(Error::config_hint(
            "cannot tell the file's text encoding: it is not UTF-8, Big5 or GB18030".to_string(),
            "state it in the source: `encoding = \"…\"` (e.g. `big5`, `gbk`, `utf-16le`)",
        )),
    }
}

/// Where `bytes` stop being `encoding`: the 1-based line and the bytes
/// that are not a character of it.
pub fn malformed(bytes: &[u8], encoding: &'static Encoding) -> Option<(u64, Vec<u8>)> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3 + 16);
    let mut at = 0;
    loop {
        let (result, read) =
            decoder.decode_to_string_without_replacement(&bytes[at..], &mut out, true);
        at += read;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return None,
            encoding_rs::DecoderResult::OutputFull => {
                out.reserve(bytes.len() - at + 16);
            }
            encoding_rs::DecoderResult::Malformed(bad, extra) => {
                let end = at - usize::from(extra);
                let start = end.saturating_sub(usize::from(bad));
                let line = out.matches('\n').count() as u64 + 1;
                return Some((line, bytes[start..end].to_vec()));
            }
        }
    }
}

/// The message for bytes that are not the file's encoding.
pub fn malformed_message(encoding: &'static Encoding, bad: &[u8]) -> String {
    let shown: Vec<String> = bad.iter().map(|b| format!("0x{b:02X}")).collect();
    format!(
        "the bytes {} are not {} text",
        shown.join(" "),
        encoding.name()
    )
}

/// The hint for a file that is not wholly its encoding.
pub const MALFORMED_HINT: &str = "the file is damaged or not wholly in one encoding: export it again, or state its encoding in the source (`encoding = \"…\"`)";

/// Writes `path` decoded from `encoding` as UTF-8 to `out`, byte-order mark
/// dropped. Bytes that are not a character of the encoding are an error
/// naming their line (`Err(Some((line, bytes)))`); nothing is replaced.
pub fn transcode(
    path: &Path,
    encoding: &'static Encoding,
    out: &Path,
) -> std::result::Result<(), Transcode> {
    let mut file = std::io::BufReader::with_capacity(1 << 20, fs_err::File::open(path)?);
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, fs_err::File::create(out)?);
    let mut decoder = encoding.new_decoder_with_bom_removal();
    let mut input = vec![0u8; 1 << 20];
    let mut text = String::with_capacity((1 << 20) * 3 + 16);
    let mut lines = 0u64;
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let read = file.read(&mut input)?;
        let last = read == 0;
        pending.extend_from_slice(&input[..read]);
        let mut at = 0;
        loop {
            text.clear();
            let (result, used) =
                decoder.decode_to_string_without_replacement(&pending[at..], &mut text, last);
            let decoded_until = at + used;
            match result {
                encoding_rs::DecoderResult::Malformed(bad, extra) => {
                    let end = decoded_until - usize::from(extra);
                    let start = end.saturating_sub(usize::from(bad));
                    lines += text.matches('\n').count() as u64;
                    return Err(Transcode::Malformed(
                        lines + 1,
                        pending[start..end].to_vec(),
                    ));
                }
                encoding_rs::DecoderResult::OutputFull | encoding_rs::DecoderResult::InputEmpty => {
                    lines += text.matches('\n').count() as u64;
                    writer.write_all(text.as_bytes())?;
                    at = decoded_until;
                    if matches!(result, encoding_rs::DecoderResult::InputEmpty) {
                        break;
                    }
                }
            }
        }
        pending.clear();
        if last {
            break;
        }
    }
    writer.flush()?;
    Ok(())
}

/// Why a file could not be transcoded.
pub enum Transcode {
    Io(std::io::Error),
    /// The line, and the bytes that are not the encoding's.
    Malformed(u64, Vec<u8>),
}

impl From<std::io::Error> for Transcode {
    fn from(error: std::io::Error) -> Transcode {
        Transcode::Io(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> usize {
        0
    }

    #[test]
    fn utf8_and_boms() {
        let detected = detect(None, "訂單編號,金額\n".as_bytes(), true, &none).unwrap();
        assert_eq!((detected.encoding, detected.how), (UTF_8, "valid UTF-8"));
        let detected = detect(None, b"\xEF\xBB\xBFa,b\n", true, &none).unwrap();
        assert_eq!((detected.encoding, detected.bom), (UTF_8, true));
        // encoding_rs encodes to UTF-16 as UTF-8 (per the standard); build it by hand.
        let text: Vec<u8> = "order_id,amount\nA1,1\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(detect(None, &text, true, &none).unwrap().encoding, UTF_16LE);
    }

    #[test]
    fn big5_and_gbk_are_told_apart_by_their_headers() {
        let header = "訂單編號,銷售日期,銷售金額\nA1,105/11/08,220.0464\n";
        let known = |text: &str| {
            ["訂單編號", "銷售日期", "銷售金額"]
                .iter()
                .filter(|h| text.contains(**h))
                .count()
        };
        let (big5, _, _) = BIG5.encode(header);
        assert_eq!(detect(None, &big5, true, &known).unwrap().encoding, BIG5);
        let simplified = "订单编号,销售日期,销售金额\nA1,2016-11-08,220.0464\n";
        let known = |text: &str| {
            ["订单编号", "销售日期", "销售金额"]
                .iter()
                .filter(|h| text.contains(**h))
                .count()
        };
        let (gbk, _, _) = GBK.encode(simplified);
        assert_eq!(detect(None, &gbk, true, &known).unwrap().encoding, GB18030);
    }

    #[test]
    fn labels() {
        assert_eq!(by_label("Big5").unwrap(), BIG5);
        assert_eq!(by_label("cp950").unwrap(), BIG5);
        assert_eq!(by_label("gbk").unwrap(), GBK);
        assert_eq!(by_label("utf-16").unwrap(), UTF_16LE);
        assert!(by_label("klingon")
            .unwrap_err()
            .to_string()
            .contains("hint:"));
    }
}
