//! Compressed exports: a gzip or zstd file, or a zip holding one file, read
//! as their content. The content is unpacked (streaming) into the load's
//! scratch folder and read from there by the reader of its format, so that
//! encoding, delimiter and header detection see the real bytes. A file is
//! known by its magic bytes, not its name; what still cannot be read is
//! refused in words ("a gzip file whose content is not CSV text: it holds a
//! PDF document"), never with undecodable text.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::config::Format;
use crate::error::{BadData, Error, Result};
use crate::magic;

/// How a file is packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    Gzip,
    Zstd,
    /// A zip archive that is not itself a workbook.
    Zip,
}

impl Packing {
    pub fn name(self) -> &'static str {
        match self {
            Packing::Gzip => "gzip",
            Packing::Zstd => "zstd",
            Packing::Zip => "zip",
        }
    }
}

/// The most a packed file may unpack to: past it, the file is refused
/// rather than filling the disk (a 10M-line sales export is about 1 GB).
const MAX_UNPACKED: u64 = 16 << 30;

/// A packed file's content, unpacked into the scratch folder.
#[derive(Debug)]
pub struct Unpacked {
    pub path: PathBuf,
    pub packing: Packing,
    /// The content's own name: the file's name without `.gz`/`.zst`, or
    /// the zip entry's name.
    pub inner: String,
}

/// Whether the first bytes look like text: no NUL byte, unless every
/// other byte is one (UTF-16, which the CSV reader decodes).
fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return true;
    }
    !head.contains(&0)
}

fn head(path: &Path, bytes: usize) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(bytes);
    fs_err::File::open(path)?
        .take(bytes as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// How `path` is packed, by its first bytes; a zip that is a workbook
/// (Excel, OpenDocument) is not packed, it is the workbook.
pub fn packing(path: &Path) -> Result<Option<Packing>> {
    let first = head(path, 4)?;
    if first.starts_with(magic::GZIP) {
        return Ok(Some(Packing::Gzip));
    }
    if first.starts_with(magic::ZSTD) {
        return Ok(Some(Packing::Zstd));
    }
    if first.starts_with(magic::ZIP) {
        let file = fs_err::File::open(path)?;
        if let Ok(archive) = zip::ZipArchive::new(file) {
            let workbook = archive.file_names().any(|name| {
                name == "[Content_Types].xml" || name == "mimetype" || name == "xl/workbook.xml"
            });
            if !workbook {
                return Ok(Some(Packing::Zip));
            }
        }
    }
    Ok(None)
}

/// Unpacks `path` into `scratch` as `{name}.unpacked`.
pub fn unpack(path: &Path, packing: Packing, scratch: &Path, name: &str) -> Result<Unpacked> {
    let out = scratch.join(format!("{name}.unpacked"));
    let bad =
        |message: String, hint: &str| Error::data(BadData::file(path, message, Some(hint.into())));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let (inner, written) = match packing {
        Packing::Gzip | Packing::Zstd => {
            let inner = strip_suffix(&file_name, packing);
            let file = std::io::BufReader::new(fs_err::File::open(path)?);
            let mut reader: Box<dyn Read> = match packing {
                // Several gzip members in a row are one file (`cat a.gz b.gz`).
                Packing::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
                _ => Box::new(zstd::stream::read::Decoder::with_buffer(file)?),
            };
            let written = copy_limited(&mut reader, &out).map_err(|error| {
                bad(
                    format!("cannot unpack the {} file: {error}", packing.name()),
                    "the file looks damaged or cut off: export or copy it again",
                )
            })?;
            (inner, written)
        }
        Packing::Zip => unzip_one(path, &out, &bad)?,
    };
    if written > MAX_UNPACKED {
        let _ = fs_err::remove_file(&out);
        return Err(bad(
            format!(
                "the {} file unpacks to more than {} GiB",
                packing.name(),
                MAX_UNPACKED >> 30
            ),
            "split the export, or unpack it and load the files it holds",
        ));
    }
    Ok(Unpacked {
        path: out,
        packing,
        inner,
    })
}

/// The zip's one file (folders and macOS metadata aside) into `out`: its
/// name and the bytes written.
fn unzip_one(
    path: &Path,
    out: &Path,
    bad: &dyn Fn(String, &str) -> Error,
) -> Result<(String, u64)> {
    let mut archive = zip::ZipArchive::new(fs_err::File::open(path)?).map_err(|error| {
        bad(
            format!("cannot read the zip archive: {error}"),
            "the file looks damaged or cut off: export or copy it again",
        )
    })?;
    let files: Vec<String> = archive
        .file_names()
        .filter(|name| {
            !name.ends_with('/')
                && !name.starts_with("__MACOSX/")
                && !name.rsplit('/').next().unwrap_or(name).starts_with('.')
        })
        .map(str::to_string)
        .collect();
    let [only] = files.as_slice() else {
        let listed = files
            .iter()
            .take(5)
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(bad(
            format!(
                "the zip archive holds {} files{}{}",
                files.len(),
                if files.is_empty() { "" } else { ": " },
                listed
            ),
            "opskpi reads a zip that holds one CSV, JSON, Parquet file or workbook; unpack it and point the source at the folder",
        ));
    };
    let mut entry = archive.by_name(only).map_err(|error| {
        bad(
            format!("cannot read `{only}` in the zip archive: {error}"),
            "the file looks damaged or cut off: export or copy it again",
        )
    })?;
    if entry.size() > MAX_UNPACKED {
        return Ok((only.clone(), entry.size()));
    }
    let written = copy_limited(&mut entry, out).map_err(|error| {
        bad(
            format!("cannot unpack `{only}` from the zip archive: {error}"),
            "the file looks damaged or cut off: export or copy it again",
        )
    })?;
    Ok((only.clone(), written))
}

/// Copies at most `MAX_UNPACKED + 1` bytes: the bytes copied.
fn copy_limited(reader: &mut dyn Read, out: &Path) -> std::io::Result<u64> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let written = std::io::copy(&mut reader.take(MAX_UNPACKED + 1), &mut file)?;
    file.flush()?;
    Ok(written)
}

fn strip_suffix(name: &str, packing: Packing) -> String {
    let lower = name.to_ascii_lowercase();
    let suffixes: &[&str] = match packing {
        Packing::Gzip => &[".gz", ".gzip"],
        _ => &[".zst", ".zstd"],
    };
    for suffix in suffixes {
        if lower.ends_with(suffix) {
            return name[..name.len() - suffix.len()].to_string();
        }
    }
    name.to_string()
}

/// The format of the unpacked content: the source's, else its own name's
/// extension, else what its first bytes are (text is CSV).
pub fn content_format(unpacked: &Unpacked, given: Option<Format>) -> Result<Format> {
    if let Some(format) = given {
        return Ok(format);
    }
    if let Some(format) = Format::from_extension(Path::new(&unpacked.inner)) {
        return Ok(format);
    }
    let first = head(&unpacked.path, 8192)?;
    Ok(if first.starts_with(b"PAR1") {
        Format::Parquet
    } else if first.starts_with(b"PK") || first.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        Format::Excel
    } else {
        match first.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | Some(b'[') => Format::Json,
            _ => Format::Csv,
        }
    })
}

/// Refuses content that is not what `format` reads: binary where text is
/// expected, or not a workbook or Parquet file where one is.
///
/// `encoding_given`: the source names the text's encoding (UTF-16 without
/// a byte-order mark has NUL bytes); otherwise packed text with NUL bytes
/// is refused as binary.
pub fn check_content(
    original: &Path,
    content: &Path,
    packing: Option<Packing>,
    format: Format,
    encoding_given: bool,
) -> Result<()> {
    let first = head(content, 8192)?;
    let found = magic::describe(&first);
    let text_test = packing.is_some() && !encoding_given;
    let fits = match format {
        Format::Csv | Format::Json => found.is_none() && (!text_test || looks_like_text(&first)),
        Format::Parquet => first.starts_with(magic::PARQUET),
        Format::Excel => first.starts_with(b"PK") || first.starts_with(magic::OLE),
        Format::Postgres => true,
    };
    if fits || first.is_empty() {
        return Ok(());
    }
    let wanted = match format {
        Format::Csv => "CSV text",
        Format::Json => "JSON text",
        Format::Parquet => "a Parquet file",
        Format::Excel => "a workbook",
        Format::Postgres => "",
    };
    let holds = match found {
        Some(what) => format!(": it is {what}"),
        None => ": it is binary data".to_string(),
    };
    let message = match packing {
        Some(packing) => format!(
            "a {} file whose content is not {wanted}{}",
            packing.name(),
            holds.replace("it is", "it holds")
        ),
        None => format!("the file is not {wanted}{holds}"),
    };
    Err(Error::data(BadData::file(
        original,
        message,
        Some("check the file and the source's `format`: opskpi reads CSV, JSON, Parquet and workbooks, plain or packed in gzip, zstd or a zip of one file".into()),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_come_off_whatever_their_case() {
        assert_eq!(strip_suffix("sales.csv.gz", Packing::Gzip), "sales.csv");
        assert_eq!(strip_suffix("SALES.CSV.GZ", Packing::Gzip), "SALES.CSV");
        assert_eq!(strip_suffix("sales.json.zst", Packing::Zstd), "sales.json");
        assert_eq!(strip_suffix("sales", Packing::Gzip), "sales");
    }

    #[test]
    fn text_is_what_has_no_nul_byte_or_a_utf16_mark() {
        assert!(looks_like_text(b"order_id,sku\n1,2"));
        assert!(!looks_like_text(b"a\0b"));
        assert!(looks_like_text(&[0xff, 0xfe, b'a', 0]));
    }
}
