//! What a file is by its first bytes: the magic numbers of the formats a
//! user may hand opskpi by mistake or on purpose (packed exports, workbooks,
//! documents, databases), and their names in words for messages. Used where
//! a file is not what it should be — a warehouse that is no DuckDB file, a
//! source whose content is not its format.

/// A gzip stream.
pub const GZIP: &[u8] = &[0x1f, 0x8b];
/// A zstd frame.
pub const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
/// A zip archive's first local header (also every .xlsx, .ods).
pub const ZIP: &[u8] = b"PK\x03\x04";
/// An OLE compound file: an old Office document (.xls).
pub const OLE: &[u8] = &[0xd0, 0xcf, 0x11, 0xe0];
/// A Parquet file.
pub const PARQUET: &[u8] = b"PAR1";

/// Magic numbers and what they are, in words.
const KNOWN: [(&[u8], &str); 15] = [
    (GZIP, "a gzip file"),
    (ZSTD, "a zstd file"),
    (ZIP, "a zip archive (or an Excel workbook)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (OLE, "an old Office file (an .xls workbook?)"),
    (PARQUET, "a Parquet file"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3\0", "an SQLite database"),
    (&[0x89, b'P', b'N', b'G'], "a PNG image"),
    (&[0xff, 0xd8, 0xff], "a JPEG image"),
    (b"BZh", "a bzip2 file"),
    (&[0xfd, b'7', b'z', b'X', b'Z'], "an xz file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program (ELF)"),
];

/// What the first bytes of a file say it is, in words (`Some("a gzip
/// file")`); `None` for anything without a known magic number, text
/// included.
pub fn describe(head: &[u8]) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, what)| *what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_name_what_a_file_is() {
        assert_eq!(describe(&[0x1f, 0x8b, 8, 0]), Some("a gzip file"));
        assert_eq!(describe(b"%PDF-1.7"), Some("a PDF document"));
        assert_eq!(
            describe(b"SQLite format 3\0..."),
            Some("an SQLite database")
        );
        assert_eq!(describe(b"order_id,sku"), None);
        assert_eq!(describe(b""), None);
    }
}
