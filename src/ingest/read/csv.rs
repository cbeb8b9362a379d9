//! Delimited text: the encoding settled (and the file transcoded to UTF-8
//! when it is not), the delimiter and the header row detected on a sample
//! unless stated, then DuckDB's own CSV scanner with that dialect given, not
//! sniffed, every field read as text. Rows the scanner cannot read (a field
//! too many or too few, broken quotes) are recorded, not fatal; a file that
//! ends inside a row is refused as truncated.

use std::path::{Path, PathBuf};

use duckdb::Connection;

use super::{clean_headers, find_header, text_columns, Lines, Raw, Reject};
use crate::error::{BadData, Error, Result};
use crate::ingest::encoding;

/// What the CSV reader needs beyond the file.
pub struct CsvOptions<'a> {
    pub encoding: Option<&'a str>,
    pub delimiter: Option<char>,
    /// 1-based line of the header.
    pub header_row: Option<u64>,
    /// Where a transcoded copy may be written.
    pub scratch: &'a Path,
    /// A name for this scan's temporary tables.
    pub name: &'a str,
}

const DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];

/// The first records of `text` split by `delimiter`, with the line each starts on.
fn records(text: &str, delimiter: u8, limit: usize) -> Vec<(u64, Vec<String>)> {
    records_quoted(text, delimiter, limit, true)
}

/// `records`, with quotes read as quotes or as ordinary characters.
fn records_quoted(
    text: &str,
    delimiter: u8,
    limit: usize,
    quoting: bool,
) -> Vec<(u64, Vec<String>)> {
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(quoting)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut record = ::csv::StringRecord::new();
    while out.len() < limit {
        match reader.read_record(&mut record) {
            Ok(true) => {
                // The line the record starts on, counted from its byte
                // offset (the reader's own line count lags behind `\r\n`).
                let mut at = record
                    .position()
                    .map(|p| p.byte() as usize)
                    .unwrap_or(0)
                    .min(text.len());
                while text
                    .as_bytes()
                    .get(at)
                    .is_some_and(|b| *b == b'\r' || *b == b'\n')
                {
                    at += 1;
                }
                let line = text.as_bytes()[..at]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count() as u64
                    + 1;
                out.push((line, record.iter().map(str::to_string).collect()));
            }
            _ => break,
        }
    }
    out
}

/// The delimiter that splits the sample's rows most consistently: the most
/// rows sharing one field count above 1, then the widest such count — with
/// quotes read as quotes, or as characters (a quote opened and never closed
/// swallows the rest of the file, and must not hide the delimiter).
fn detect_delimiter(text: &str) -> u8 {
    let score = |delimiter: u8, quoting: bool| {
        let rows = records_quoted(text, delimiter, 50, quoting);
        let mut counts = std::collections::BTreeMap::<usize, usize>::new();
        for (_, row) in rows.iter().filter(|(_, row)| row.len() > 1) {
            *counts.entry(row.len()).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|(width, rows)| (rows, width))
            .max()
            .unwrap_or((0, 0))
    };
    DELIMITERS
        .iter()
        .map(|delimiter| {
            let best = score(*delimiter, true).max(score(*delimiter, false));
            (best, *delimiter)
        })
        .max_by_key(|(score, delimiter)| (*score, *delimiter == b','))
        .map(|(_, delimiter)| delimiter)
        .unwrap_or(b',')
}

/// The best header score of a decoded sample, for encoding detection.
pub fn header_score(text: &str, known: &dyn Fn(&str) -> bool) -> usize {
    let delimiter = detect_delimiter(text);
    records(text, delimiter, 30)
        .iter()
        .map(|(_, row)| row.iter().filter(|cell| known(cell)).count())
        .max()
        .unwrap_or(0)
}

/// Reads a CSV file into a raw relation DuckDB scans: its encoding,
/// delimiter and header row settled (detected unless the source says),
/// other encodings transcoded to UTF-8 first, unreadable rows kept aside.
pub fn read(
    conn: &Connection,
    path: &Path,
    options: &CsvOptions,
    known: &dyn Fn(&str) -> bool,
) -> Result<Raw> {
    let (bytes, complete) = encoding::sample(path)?;
    let detected = encoding::detect(options.encoding, &bytes, complete, &|text| {
        header_score(text, known)
    })
    .map_err(|error| at_file(path, error))?;
    let text = encoding::decode_sample(&bytes, detected.encoding, complete).ok_or_else(|| {
        let skip = if detected.bom {
            encoding_rs::Encoding::for_bom(&bytes).map_or(0, |(_, length)| length)
        } else {
            0
        };
        malformed(
            path,
            detected.encoding,
            encoding::malformed(&bytes[skip..], detected.encoding),
        )
    })?;
    let delimiter = delimiter(path, options.delimiter, &text)?;
    let sample = records(&text, delimiter, 30);
    if sample.is_empty() {
        return Err(Error::data(BadData::file(
            path,
            "the file is empty".into(),
            None,
        )));
    }
    let header = header_index(path, options.header_row, &sample, known)?;
    let (header_line, header_cells) = &sample[header];
    let headers = clean_headers(header_cells);
    // Lines before the first data row: the header's own line and all above it.
    let skip = sample
        .get(header + 1)
        .map(|(line, _)| line - 1)
        .unwrap_or(*header_line);
    let notes = vec![
        ("encoding", detected.describe()),
        (
            "delimiter",
            if delimiter == b'\t' {
                "tab".to_string()
            } else {
                format!("`{}`", delimiter as char)
            },
        ),
        ("header", format!("line {header_line}")),
    ];
    let scanned: PathBuf = if detected.is_utf8() {
        path.to_path_buf()
    } else {
        let out = options.scratch.join(format!("{}.utf8.csv", options.name));
        match encoding::transcode(path, detected.encoding, &out) {
            Ok(()) => {}
            Err(encoding::Transcode::Io(error)) => return Err(error.into()),
            Err(encoding::Transcode::Malformed(line, bad)) => {
                return Err(malformed(path, detected.encoding, Some((line, bad))))
            }
        }
        out
    };
    let (from, rejects_table) = scan(conn, options.name, skip, headers.len())?;
    let size = fs_err::metadata(path)?.len();
    Ok(Raw {
        rows: Some(estimated_rows(&bytes, complete, size, skip)),
        from,
        params: vec![
            scanned.display().to_string(),
            (delimiter as char).to_string(),
        ],
        columns: text_columns(headers),
        lines: Lines::Offset(skip + 1),
        line_word: "line",
        rejects: Vec::new(),
        rejects_table: Some(rejects_table),
        notes,
    })
}

/// Bytes that are not the file's encoding, at a line when it is known.
fn malformed(
    path: &Path,
    encoding: &'static encoding_rs::Encoding,
    found: Option<(u64, Vec<u8>)>,
) -> Error {
    let (line, message) = match found {
        Some((line, bad)) => (Some(line), encoding::malformed_message(encoding, &bad)),
        None => (None, format!("the file is not {} text", encoding.name())),
    };
    let mut bad = BadData::file(path, message, Some(encoding::MALFORMED_HINT.into()));
    bad.line = line;
    Error::data(bad)
}

/// The delimiter the source gives (a single byte), else the detected one.
fn delimiter(path: &Path, given: Option<char>, text: &str) -> Result<u8> {
    match given {
        Some(delimiter) if delimiter.is_ascii() => Ok(delimiter as u8),
        Some(delimiter) => Err(Error::config_hint(
            format!(
                "the delimiter `{delimiter}` of `{}` is not a single-byte character",
                path.display()
            ),
            "use `,`, `;`, `|` or `\\t`",
        )),
        None => Ok(detect_delimiter(text)),
    }
}

/// The header's row among the sample's: at the line the source gives, else
/// found below any titles.
fn header_index(
    path: &Path,
    header_row: Option<u64>,
    sample: &[(u64, Vec<String>)],
    known: &dyn Fn(&str) -> bool,
) -> Result<usize> {
    match header_row {
        Some(line) => sample
            .iter()
            .position(|(start, _)| *start == line)
            .ok_or_else(|| {
                Error::config_hint(
                    format!("`header_row = {line}` of `{}` is not the first line of a row in its first 30 rows", path.display()),
                    "give the 1-based line number of the header, or leave `header_row` out to detect it",
                )
            }),
        None => Ok(find_header(
            &sample.iter().map(|(_, row)| row.clone()).collect::<Vec<_>>(),
            known,
        )),
    }
}

/// DuckDB's scan of the file (its path and delimiter bound as the two
/// parameters): every column text, the rows after `skip` lines, rows it
/// cannot read kept in a rejects table of the stage `name` (returned
/// beside the scan).
fn scan(conn: &Connection, name: &str, skip: u64, width: usize) -> Result<(String, String)> {
    let rejects_table = format!("{name}_rejects");
    let rejects_scan = format!("{name}_reject_scans");
    let types: Vec<String> = (0..width).map(|i| format!("'c{i}': 'VARCHAR'")).collect();
    let from = format!(
        "read_csv(?, header = false, skip = {skip}, delim = ?, quote = '\"', escape = '\"', \
         columns = {{{}}}, auto_detect = false, null_padding = false, strict_mode = true, \
         ignore_errors = true, store_rejects = true, rejects_table = '{rejects_table}', \
         rejects_scan = '{rejects_scan}')",
        types.join(", ")
    );
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {rejects_table}; DROP TABLE IF EXISTS {rejects_scan};"
    ))
    .map_err(Error::query("reset rejects"))?;
    Ok((from, rejects_table))
}

/// About how many data rows a text file of `size` bytes holds, from its
/// first bytes `sample` (`complete`: the whole file): the sample's lines per
/// byte times the size, less the `skip` lines above the first data row.
/// Never exact: a quoted field may hold a line break.
fn estimated_rows(sample: &[u8], complete: bool, size: u64, skip: u64) -> super::RowCount {
    let breaks = sample.iter().filter(|b| **b == b'\n').count() as u64;
    let lines = if complete {
        breaks + u64::from(!sample.is_empty() && !sample.ends_with(b"\n"))
    } else if sample.is_empty() {
        0
    } else {
        (size as f64 * breaks as f64 / sample.len() as f64).round() as u64
    };
    super::RowCount {
        rows: lines.saturating_sub(skip),
        exact: false,
    }
}

/// The rows DuckDB's scanner could not read, after the scan ran.
pub fn collect_rejects(conn: &Connection, raw: &mut Raw) -> Result<()> {
    let Some(table) = &raw.rejects_table else {
        return Ok(());
    };
    let exists: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
            [table],
            |row| row.get(0),
        )
        .map_err(Error::query("read rejects"))?;
    if exists == 0 {
        return Ok(());
    }
    let mut statement = conn
        .prepare(&format!(
            "SELECT line, error_type::VARCHAR, csv_line FROM {table} ORDER BY line"
        ))
        .map_err(Error::query("read rejects"))?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(Error::query("read rejects"))?;
    let mut seen = std::collections::BTreeSet::new();
    for row in rows {
        let (line, kind, text) = row.map_err(Error::query("read rejects"))?;
        // One reject per line: a broken row can break several rules.
        if !seen.insert(line) {
            continue;
        }
        let message = match kind.as_str() {
            "TOO MANY COLUMNS" => format!(
                "the row has more fields than the header's {}",
                raw.columns.len()
            ),
            "MISSING COLUMNS" => format!(
                "the row has fewer fields than the header's {}",
                raw.columns.len()
            ),
            "UNQUOTED VALUE" | "UNTERMINATED QUOTES" => {
                "a quoted field is not closed properly".to_string()
            }
            "INVALID ENCODING" | "INVALID UNICODE" => {
                "the row is not valid text in the file's encoding".to_string()
            }
            "LINE SIZE OVER MAXIMUM" => "the row is longer than 2 MB".to_string(),
            other => format!("the row cannot be read ({})", other.to_lowercase()),
        };
        raw.rejects.push(Reject {
            line: line as u64,
            message,
            value: text,
        });
    }
    Ok(())
}

/// Whether the file's last byte ends a line (a file cut off mid-row does not).
pub fn ends_with_newline(path: &Path) -> Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = fs_err::File::open(path)?;
    let length = file.metadata()?.len();
    if length == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n' || last[0] == b'\r')
}

fn at_file(path: &Path, error: Error) -> Error {
    match error {
        Error::Config { message, hint } => Error::data(BadData::file(path, message, hint)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_detected() {
        assert_eq!(detect_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter("a;b;c\n1;\"2;5\";3\n"), b';');
        assert_eq!(detect_delimiter("a\tb\tc\n1\t2,5\t3\n"), b'\t');
        // A title line without separators does not decide.
        assert_eq!(
            detect_delimiter("Sales report\n\na|b|c\n1|2|3\n4|5|6\n"),
            b'|'
        );
    }
}
