//! Malformed files: a table of fixtures (one ERP sales export as UTF-8,
//! Big5 and GBK CSV, UTF-16 text, an Excel workbook, a JSON array, NDJSON
//! and Parquet) crossed with mutation operators (truncation, byte-order
//! marks, line endings, NUL, delimiters, quotes, missing, extra and
//! repeated columns, a header alone, an empty file, a 1 MB value, impossible
//! dates, −0, NaN, 1e400, look-alike digits, invalid Big5/GBK bytes, a
//! truncated Parquet footer, zero-byte and oversized workbooks, JSON nested
//! 10,000 deep). Each case is loaded by `opskpi ingest` into a warehouse
//! that already holds the tiny company, and either loads exactly what the
//! same rows load as plain UTF-8 CSV, or exits 1 naming the file, the row or
//! place, the column and a hint — with every table of the warehouse as it
//! was (DuckDB's own count and hash of each).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::cmd::{config_arg, opskpi, stderr};
use crate::common::copy_fixture;
use crate::door::digest;

/// The six order lines of tests/fixtures/erp (made by make.py there): ROC
/// dates, amounts with thousands separators, a currency sign and a
/// bracketed negative, a full-width digit, channel words in Chinese.
const HEADER: [&str; 11] = [
    "訂單編號",
    "項次",
    "銷售日期",
    "客戶編號",
    "品號",
    "門市編號",
    "通路",
    "區域",
    "數量",
    "銷售金額",
    "成本",
];
const SIMPLIFIED_HEADER: [&str; 11] = [
    "订单编号",
    "项次",
    "销售日期",
    "客户编号",
    "品号",
    "门店编号",
    "渠道",
    "区域",
    "数量",
    "销售金额",
    "成本",
];
const ROWS: [[&str; 11]; 6] = [
    [
        "A1050001",
        "1",
        "105/11/08",
        "C1",
        "P1",
        "S1",
        "門市",
        "北區",
        "1",
        "1,220.0464",
        "700.0000",
    ],
    [
        "A1050001",
        "2",
        "105/11/08",
        "C1",
        "P2",
        "S1",
        "門市",
        "北區",
        "2",
        "220.0464",
        "80.5000",
    ],
    [
        "A1050002",
        "1",
        "105/11/09",
        "C2",
        "P1",
        "W1",
        "網購",
        "南區",
        "１",
        "957.5775",
        "600",
    ],
    [
        "A1050003",
        "1",
        "105/11/30",
        "C3",
        "P2",
        "D1",
        "經銷商",
        "中區",
        "3",
        "NT$ 330.1000",
        "120.00",
    ],
    [
        "A1050004",
        "1",
        "105/12/01",
        "C1",
        "P1",
        "S1",
        "門市",
        "北區",
        "-1",
        "(220.0464)",
        "-80.5000",
    ],
    [
        "A1060001",
        "1",
        "106/01/03",
        "C2",
        "P2",
        "W1",
        "線上",
        "南區",
        "2",
        "2,000.0001",
        "90",
    ],
];

/// Column positions in the grid, with the canonical name each maps to.
const DATE: (usize, &str) = (2, "order_date");
const CUSTOMER: (usize, &str) = (3, "customer_id");
const QUANTITY: (usize, &str) = (8, "quantity");
const NET: (usize, &str) = (9, "net_amount");
const COST: (usize, &str) = (10, "cost_amount");

/// A table as text cells: a header and rows.
#[derive(Clone, PartialEq)]
struct Grid {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Grid {
    fn erp(simplified: bool) -> Grid {
        let words: HashMap<&str, &str> = [
            ("門市", "门店"),
            ("網購", "网购"),
            ("經銷商", "经销商"),
            ("線上", "线上"),
            ("北區", "北区"),
            ("南區", "南区"),
            ("中區", "中区"),
        ]
        .into();
        let header = if simplified {
            SIMPLIFIED_HEADER
        } else {
            HEADER
        };
        Grid {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: ROWS
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|cell| match words.get(cell) {
                            Some(word) if simplified => word.to_string(),
                            _ => cell.to_string(),
                        })
                        .collect()
                })
                .collect(),
        }
    }

    fn set(mut self, row: usize, column: usize, value: &str) -> Grid {
        self.rows[row - 1][column] = value.to_string();
        self
    }

    fn without_column(mut self, column: usize) -> Grid {
        self.header.remove(column);
        for row in &mut self.rows {
            row.remove(column);
        }
        self
    }

    fn with_column(mut self, name: &str, value: impl Fn(usize) -> String) -> Grid {
        self.header.push(name.to_string());
        for (i, row) in self.rows.iter_mut().enumerate() {
            row.push(value(i));
        }
        self
    }

    fn header_only(mut self) -> Grid {
        self.rows.clear();
        self
    }

    /// The grid as the plainest CSV: UTF-8, commas, every field quoted.
    fn plain_csv(&self) -> String {
        let mut writer = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Always)
            .from_writer(Vec::new());
        writer.write_record(&self.header).unwrap();
        for row in &self.rows {
            writer.write_record(row).unwrap();
        }
        String::from_utf8(writer.into_inner().unwrap()).unwrap()
    }
}

/// The kinds of file the fixture is written as.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Utf8,
    Big5,
    Gbk,
    Utf16,
    Excel,
    JsonArray,
    Ndjson,
    Parquet,
}

const KINDS: [Kind; 8] = [
    Kind::Utf8,
    Kind::Big5,
    Kind::Gbk,
    Kind::Utf16,
    Kind::Excel,
    Kind::JsonArray,
    Kind::Ndjson,
    Kind::Parquet,
];

impl Kind {
    fn file(self) -> &'static str {
        match self {
            Kind::Utf8 | Kind::Big5 | Kind::Gbk => "case.csv",
            Kind::Utf16 => "case.txt",
            Kind::Excel => "case.xlsx",
            Kind::JsonArray => "case.json",
            Kind::Ndjson => "case.ndjson",
            Kind::Parquet => "case.parquet",
        }
    }

    fn is_delimited(self) -> bool {
        matches!(self, Kind::Utf8 | Kind::Big5 | Kind::Gbk | Kind::Utf16)
    }

    fn is_json(self) -> bool {
        matches!(self, Kind::JsonArray | Kind::Ndjson)
    }

    /// Whether the kind's encoding holds every character (Big5 and GBK do not).
    fn is_unicode(self) -> bool {
        !matches!(self, Kind::Big5 | Kind::Gbk)
    }

    fn grid(self) -> Grid {
        Grid::erp(self == Kind::Gbk)
    }
}

/// A file as text before its encoding, with the line each data row is on.
struct Text {
    text: String,
    lines: Vec<u64>,
}

/// The grid as the kind's text: a Big5 export starts with a title and a
/// blank line and ends its lines with CRLF, as a Taiwanese ERP writes it;
/// UTF-16 text is tab-separated, as Excel's "Unicode text".
fn text_of(kind: Kind, grid: &Grid) -> Text {
    let (prefix, separator, newline): (&[&str], &str, &str) = match kind {
        Kind::Big5 => (&["銷售明細表 民國105年11月至106年1月", ""], ",", "\r\n"),
        Kind::Utf16 => (&[], "\t", "\r\n"),
        Kind::Gbk => (&[], ",", "\r\n"),
        _ => (&[], ",", "\n"),
    };
    let quote = |cell: &str| {
        if cell.contains(separator) || cell.contains('"') {
            format!("\"{}\"", cell.replace('"', "\"\""))
        } else {
            cell.to_string()
        }
    };
    let mut lines: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
    if kind.is_json() {
        let object = |row: &Vec<String>| {
            let fields: Vec<String> = grid
                .header
                .iter()
                .zip(row)
                .map(|(key, value)| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(key).unwrap(),
                        json_string(value)
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        };
        let objects: Vec<String> = grid.rows.iter().map(object).collect();
        return if kind == Kind::JsonArray {
            // One record a line, so that a record's line is known.
            let mut text = "[\n".to_string();
            text.push_str(&objects.join(",\n"));
            text.push_str("\n]\n");
            Text {
                text,
                lines: (2..2 + grid.rows.len() as u64).collect(),
            }
        } else {
            Text {
                text: objects.iter().map(|o| format!("{o}\n")).collect(),
                lines: (1..1 + grid.rows.len() as u64).collect(),
            }
        };
    }
    lines.push(
        grid.header
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(separator),
    );
    let first = lines.len() as u64 + 1;
    for row in &grid.rows {
        lines.push(
            row.iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(separator),
        );
    }
    let mut text = lines.join(newline);
    text.push_str(newline);
    Text {
        text,
        lines: (first..first + grid.rows.len() as u64).collect(),
    }
}

/// A JSON string, with a NUL kept as the raw byte (which JSON forbids), as
/// a damaged file would hold it.
fn json_string(value: &str) -> String {
    serde_json::to_string(value)
        .unwrap()
        .replace("\\u0000", "\0")
}

fn encode(kind: Kind, text: &str) -> Vec<u8> {
    let encoding = match kind {
        Kind::Big5 => encoding_rs::BIG5,
        Kind::Gbk => encoding_rs::GBK,
        Kind::Utf16 => {
            let mut bytes = vec![0xFF, 0xFE];
            for unit in text.encode_utf16() {
                bytes.extend_from_slice(&unit.to_le_bytes());
            }
            return bytes;
        }
        _ => return text.as_bytes().to_vec(),
    };
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{kind:?} cannot hold {text}");
    bytes.into_owned()
}

/// The grid as the kind's file bytes.
fn file_bytes(kind: Kind, grid: &Grid, scratch: &Path) -> Vec<u8> {
    match kind {
        Kind::Excel => excel(grid, scratch),
        Kind::Parquet => parquet(grid, scratch),
        _ => encode(kind, &text_of(kind, grid).text),
    }
}

fn excel(grid: &Grid, scratch: &Path) -> Vec<u8> {
    let path = scratch.join("grid.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, name) in grid.header.iter().enumerate() {
        sheet.write_string(0, c as u16, name).unwrap();
    }
    for (r, row) in grid.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, cell).unwrap();
        }
    }
    workbook.save(&path).unwrap();
    std::fs::read(path).unwrap()
}

/// Parquet written by DuckDB: every column text, as an export would have it.
fn parquet(grid: &Grid, scratch: &Path) -> Vec<u8> {
    let path = scratch.join("grid.parquet");
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let columns: Vec<String> = grid
        .header
        .iter()
        .map(|name| format!("\"{name}\" VARCHAR"))
        .collect();
    conn.execute_batch(&format!("CREATE TABLE grid ({})", columns.join(", ")))
        .unwrap();
    {
        let mut appender = conn.appender("grid").unwrap();
        for row in &grid.rows {
            appender
                .append_row(duckdb::appender_params_from_iter(row.iter()))
                .unwrap();
        }
    }
    conn.execute_batch(&format!(
        "COPY grid TO '{}' (FORMAT parquet)",
        path.display()
    ))
    .unwrap();
    std::fs::read(path).unwrap()
}

/// What a case must do.
#[derive(Clone)]
enum Expect {
    /// Load exactly what this grid loads as plain UTF-8 CSV.
    Loads(Grid),
    /// Exit 1, naming the file, these words (a place, a column) and a hint.
    Refused(Vec<String>),
}

struct Case {
    name: String,
    kind: Kind,
    bytes: Vec<u8>,
    expect: Expect,
}

/// A refusal naming data row `row` and `column` (its canonical name, or its
/// header in the file).
fn bad_cell(row: usize, column: (usize, &str), grid: &Grid) -> Expect {
    Expect::Refused(vec![
        format!("row {row}"),
        format!("{}|{}", column.1, grid.header[column.0]),
    ])
}

fn refused(words: &[&str]) -> Expect {
    Expect::Refused(words.iter().map(|s| s.to_string()).collect())
}

/// The cell mutations, at the first, a middle and the last row.
fn cell_cases(kind: Kind, scratch: &Path, cases: &mut Vec<Case>) {
    let base = kind.grid();
    let mut values: Vec<(&str, (usize, &str), &str, bool)> = vec![
        // (name, column, value, whether it is a valid spelling)
        ("impossible date", DATE, "2026-02-30", false),
        ("impossible ROC date", DATE, "105/02/30", false),
        ("negative zero", COST, "-0", true),
        ("NaN", NET, "NaN", false),
        ("infinity", NET, "Infinity", false),
        ("1e400", NET, "1e400", false),
        ("Roman numeral digit", QUANTITY, "Ⅲ", false),
    ];
    if kind.is_unicode() {
        values.push(("Arabic-Indic digit", QUANTITY, "٣", false));
        values.push(("mathematical digit", QUANTITY, "𝟑", false));
    }
    if kind != Kind::Excel {
        // XML, and so a workbook, cannot hold a NUL.
        values.push(("NUL", CUSTOMER, "C\u{0}1", false));
    }
    for (name, column, value, valid) in values {
        for row in [1, 4, 6] {
            let grid = base.clone().set(row, column.0, value);
            let expect = if valid {
                Expect::Loads(base.clone().set(row, column.0, "0"))
            } else if kind.is_json() && value.contains('\0') {
                // Not JSON at all: the parser names the line.
                let line = text_of(kind, &grid).lines[row - 1];
                refused(&[&format!("line {line}")])
            } else {
                bad_cell(row, column, &base)
            };
            cases.push(Case {
                name: format!("{kind:?}: {name} in row {row}"),
                kind,
                bytes: file_bytes(kind, &grid, scratch),
                expect,
            });
        }
    }
}

/// Whole-file mutations of the grid, for every kind that can hold them.
fn grid_cases(kind: Kind, scratch: &Path, cases: &mut Vec<Case>) {
    let base = kind.grid();
    let megabyte = "x".repeat(1 << 20);
    let mut grids: Vec<(&str, Grid, Expect)> = vec![
        ("as exported", base.clone(), Expect::Loads(base.clone())),
        (
            "a missing column",
            base.clone().without_column(NET.0),
            refused(&[NET.1]),
        ),
        (
            "an extra column",
            base.clone().with_column("備註", |i| format!("note {i}")),
            Expect::Loads(base.clone()),
        ),
    ];
    if kind != Kind::Parquet {
        // A Parquet schema cannot repeat a name (DuckDB will not write one).
        let quantity = base.header[QUANTITY.0].clone();
        grids.push((
            "a repeated column",
            base.clone()
                .with_column(&quantity, |i| base.rows[i][QUANTITY.0].clone()),
            refused(&[&quantity]),
        ));
    }
    if kind != Kind::Ndjson {
        // Lines of JSON have no header: with no line the file is empty.
        grids.push((
            "a header and no rows",
            base.clone().header_only(),
            Expect::Loads(base.clone().header_only()),
        ));
    }
    if kind != Kind::Excel {
        // A spreadsheet cell holds at most 32,767 characters.
        grids.push((
            "a 1 MB value",
            base.clone().set(4, 7, &megabyte),
            Expect::Loads(base.clone().set(4, 7, &megabyte)),
        ));
    }
    for (name, grid, expect) in grids {
        cases.push(Case {
            name: format!("{kind:?}: {name}"),
            kind,
            bytes: file_bytes(kind, &grid, scratch),
            expect,
        });
    }
    cases.push(Case {
        name: format!("{kind:?}: an empty file"),
        kind,
        bytes: Vec::new(),
        expect: refused(&["empty"]),
    });
}

/// Byte and text mutations of delimited and JSON files.
fn text_cases(kind: Kind, cases: &mut Vec<Case>) {
    let base = kind.grid();
    let Text { text, lines } = text_of(kind, &base);
    let last = *lines.last().unwrap();
    let mut add = |name: String, text: String, expect: Expect| {
        cases.push(Case {
            name: format!("{kind:?}: {name}"),
            kind,
            bytes: encode(kind, &text),
            expect,
        })
    };
    // Cut in the middle of the last row (the line before a JSON array's
    // closing bracket), with no line end.
    let last_row: usize = text
        .split_inclusive('\n')
        .take(last as usize - 1)
        .map(str::len)
        .sum();
    let cut: String = text[last_row..].chars().take(12).collect();
    add(
        "truncated in the last row".into(),
        format!("{}{cut}", &text[..last_row]),
        refused(&[&format!("line {last}")]),
    );
    let other_newlines = if text.contains("\r\n") {
        text.replace("\r\n", "\n")
    } else {
        text.replace('\n', "\r\n")
    };
    add(
        "the other line ends".into(),
        other_newlines,
        Expect::Loads(base.clone()),
    );
    if matches!(kind, Kind::Utf8 | Kind::JsonArray | Kind::Ndjson) {
        add(
            "a UTF-8 byte-order mark".into(),
            format!("\u{FEFF}{text}"),
            Expect::Loads(base.clone()),
        );
    }
    if kind.is_json() {
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let nested = text.replacen("\"C2\"", &deep, 1);
        let line = lines[2];
        add(
            "a value nested 10,000 deep".into(),
            nested,
            refused(&[&format!("line {line}")]),
        );
        return;
    }
    let rows: Vec<&str> = text.split_inclusive('\n').collect();
    let header_lines = rows.len() - base.rows.len();
    for row in [1, 4, 6] {
        let at = header_lines + row - 1;
        let separator = if kind == Kind::Utf16 { "\t" } else { "," };
        // A row pasted from a file with another delimiter.
        let mut edited = rows.clone();
        let pasted = rows[at].replace(separator, ";").replace('"', "");
        edited[at] = &pasted;
        add(
            format!("row {row} with semicolons"),
            edited.concat(),
            refused(&[&format!("line {}", lines[row - 1])]),
        );
        // A quote opened and never closed.
        let mut edited = rows.clone();
        let quoted = rows[at].replacen(&format!("{separator}C"), &format!("{separator}\"C"), 1);
        edited[at] = &quoted;
        add(
            format!("an unbalanced quote in row {row}"),
            edited.concat(),
            refused(&[&format!("line {}", lines[row - 1])]),
        );
    }
    if kind != Kind::Utf16 {
        add(
            "semicolons throughout".into(),
            text.replace(',', ";")
                .replace("\"1;220.0464\"", "1,220.0464")
                .replace("\"2;000.0001\"", "2,000.0001"),
            Expect::Loads(base.clone()),
        );
    }
}

/// Bytes that no Big5 or GBK text holds, in a row's customer value.
fn invalid_byte_cases(kind: Kind, cases: &mut Vec<Case>) {
    let base = kind.grid();
    let Text { text, lines } = text_of(kind, &base);
    for row in [1, 4, 6] {
        let marker = format!(
            "C{}",
            base.rows[row - 1][CUSTOMER.0].trim_start_matches('C')
        );
        let line_start: usize = text
            .split_inclusive('\n')
            .take(lines[row - 1] as usize - 1)
            .map(str::len)
            .sum();
        let at = line_start + text[line_start..].find(&format!(",{marker},")).unwrap() + 1;
        let mut bytes = encode(kind, &text[..at]);
        // A lead byte followed by a byte no trail may be.
        bytes.extend_from_slice(&[0x81, 0x7F]);
        bytes.extend(encode(kind, &text[at..]));
        cases.push(Case {
            name: format!("{kind:?}: invalid bytes in row {row}"),
            kind,
            bytes,
            expect: refused(&[&format!("line {}", lines[row - 1])]),
        });
    }
}

/// Damaged containers: Parquet without its footer, workbooks cut, empty,
/// not a zip, or declaring a sheet of gigabytes.
fn binary_cases(scratch: &Path, cases: &mut Vec<Case>) {
    let parquet_bytes = parquet(&Kind::Parquet.grid(), scratch);
    let excel_bytes = excel(&Kind::Excel.grid(), scratch);
    let mut add = |name: &str, kind: Kind, bytes: Vec<u8>, words: &[&str]| {
        cases.push(Case {
            name: format!("{kind:?}: {name}"),
            kind,
            bytes,
            expect: refused(words),
        })
    };
    add(
        "a truncated footer",
        Kind::Parquet,
        parquet_bytes[..parquet_bytes.len() - 10].to_vec(),
        &["Parquet"],
    );
    add(
        "cut in half",
        Kind::Parquet,
        parquet_bytes[..parquet_bytes.len() / 2].to_vec(),
        &["Parquet"],
    );
    add(
        "CSV text named .parquet",
        Kind::Parquet,
        Kind::Utf8.grid().plain_csv().into_bytes(),
        &["Parquet"],
    );
    add(
        "cut in half",
        Kind::Excel,
        excel_bytes[..excel_bytes.len() / 2].to_vec(),
        &["workbook"],
    );
    add(
        "CSV text named .xlsx",
        Kind::Excel,
        Kind::Utf8.grid().plain_csv().into_bytes(),
        &["workbook"],
    );
    add(
        "a sheet declaring 4 GB",
        Kind::Excel,
        oversized(excel_bytes),
        &["GB"],
    );
}

/// A workbook whose sheet's central-directory entry declares 4 GB unpacked
/// (the shape of a zip bomb, without the gigabytes).
fn oversized(mut bytes: Vec<u8>) -> Vec<u8> {
    let name = b"xl/worksheets/sheet1.xml";
    let signature = [0x50, 0x4b, 0x01, 0x02];
    let entry = (0..bytes.len() - 46)
        .find(|&at| bytes[at..at + 4] == signature && bytes[at + 46..].starts_with(name))
        .expect("the sheet's central-directory entry");
    // Offset 24: the uncompressed size.
    bytes[entry + 24..entry + 28].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    bytes
}

fn all_cases(scratch: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    for kind in KINDS {
        cell_cases(kind, scratch, &mut cases);
        grid_cases(kind, scratch, &mut cases);
        if kind.is_delimited() || kind.is_json() {
            text_cases(kind, &mut cases);
        }
        if matches!(kind, Kind::Big5 | Kind::Gbk) {
            invalid_byte_cases(kind, &mut cases);
        }
    }
    binary_cases(scratch, &mut cases);
    cases
}

/// The tiny company loaded without its sales (the ERP rows name its
/// customers, products and stores), and a sales source `file` to come.
fn base_project() -> tempfile::TempDir {
    let dir = copy_fixture("tiny", "");
    let path = dir.path().join("opskpi.toml");
    let toml = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[[sources]]\ntable = \"sales\"\npath = \"sales.csv\"\n", "");
    std::fs::write(&path, toml).unwrap();
    let output = opskpi(&["ingest", "--config", &config_arg(dir.path()), "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

/// A copy of the base project whose sales come from `file` holding `bytes`.
fn project_with(base: &Path, file: &str, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(base).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(dir.path().join(file), bytes).unwrap();
    let mut toml = std::fs::read_to_string(dir.path().join("opskpi.toml")).unwrap();
    toml.push_str(&format!(
        "\n[[sources]]\ntable = \"sales\"\npath = \"{file}\"\n"
    ));
    std::fs::write(dir.path().join("opskpi.toml"), toml).unwrap();
    dir
}

type Digest = Vec<(String, i64, String)>;

/// The warehouse's tables, without the file and load logs (whose names,
/// hashes and times differ between two files of the same rows).
fn data_digest(warehouse: &Path) -> Digest {
    digest(warehouse)
        .into_iter()
        .filter(|(table, _, _)| !matches!(table.as_str(), "_opskpi_files" | "_opskpi_loads"))
        .collect()
}

/// What `grid` loads as plain UTF-8 CSV, remembered by its text.
fn expected(base: &Path, grid: &Grid, cache: &Mutex<HashMap<String, Digest>>) -> Digest {
    let csv = grid.plain_csv();
    if let Some(digest) = cache.lock().unwrap().get(&csv) {
        return digest.clone();
    }
    let project = project_with(base, "expected.csv", csv.as_bytes());
    let output = opskpi(&["ingest", "--config", &config_arg(project.path()), "--quiet"]);
    assert!(output.status.success(), "plain CSV: {}", stderr(&output));
    let digest = data_digest(&project.path().join("warehouse.duckdb"));
    let sales = digest
        .iter()
        .find(|(table, _, _)| table == "sales")
        .unwrap();
    assert_eq!(sales.1, grid.rows.len() as i64, "plain CSV rows");
    cache.lock().unwrap().insert(csv, digest.clone());
    digest
}

/// Runs one case; the reason it fails, if it does.
fn run(
    case: &Case,
    base: &Path,
    before: &Digest,
    cache: &Mutex<HashMap<String, Digest>>,
) -> Option<String> {
    let project = project_with(base, case.kind.file(), &case.bytes);
    let output = opskpi(&["ingest", "--config", &config_arg(project.path()), "--quiet"]);
    let error = stderr(&output);
    let after = digest(&project.path().join("warehouse.duckdb"));
    match &case.expect {
        Expect::Loads(grid) => {
            if !output.status.success() {
                return Some(format!("expected a load, got: {error}"));
            }
            let want = expected(base, grid, cache);
            let got = data_digest(&project.path().join("warehouse.duckdb"));
            (got != want).then(|| format!("loaded {got:?}, the plain CSV loads {want:?}"))
        }
        Expect::Refused(words) => {
            let mut wrong = Vec::new();
            if output.status.code() != Some(1) {
                wrong.push(format!("exit {:?}", output.status.code()));
            }
            if !error.contains(case.kind.file()) {
                wrong.push("no file name".to_string());
            }
            if !error.contains("hint:") {
                wrong.push("no hint".to_string());
            }
            for word in words {
                if !word.split('|').any(|w| error.contains(w)) {
                    wrong.push(format!("no `{word}`"));
                }
            }
            if &after != before {
                wrong.push("the warehouse changed".to_string());
            }
            (!wrong.is_empty()).then(|| format!("{}: {error}", wrong.join(", ")))
        }
    }
}

#[test]
fn malformed_files_load_exactly_or_are_refused_leaving_the_warehouse_as_it_was() {
    let scratch = tempfile::tempdir().unwrap();
    let cases = all_cases(scratch.path());
    assert!(cases.len() >= 300, "{} cases", cases.len());
    let base = base_project();
    let before = digest(&base.path().join("warehouse.duckdb"));
    let cache = Mutex::new(HashMap::new());
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                if let Some(why) = run(case, base.path(), &before, &cache) {
                    let why: String = why.chars().take(600).collect();
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{}: {why}", case.name));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
