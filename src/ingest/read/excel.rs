//! Excel and OpenDocument workbooks through `calamine`: the named or first
//! sheet, merged cells filled across their area, the header row detected
//! below titles and notes (or stated), a two-row header joined (`金額/未稅`),
//! cells as text the value readers understand — numbers in their shortest
//! exact form, dates as ISO dates. A place is the sheet's own row number.

use std::path::Path;

use calamine::{open_workbook_auto, Data, Dimensions, Reader, Sheets};
use duckdb::Connection;

use super::{append_table, appended, clean_headers, find_header, Raw};
use crate::error::{BadData, Error, Result};

fn cell_text(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty => None,
        Data::String(text) => {
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_string())
        }
        Data::Int(value) => Some(value.to_string()),
        // Rust prints the shortest text that reads back as the same double:
        // 957.5775 stays 957.5775, 15243.0 becomes 15243.
        Data::Float(value) => Some(value.to_string()),
        Data::Bool(value) => Some(value.to_string()),
        Data::DateTime(value) => value.as_datetime().map(|at| {
            if at.time() == chrono::NaiveTime::MIN {
                at.date().to_string()
            } else {
                at.format("%Y-%m-%d %H:%M:%S").to_string()
            }
        }),
        Data::DateTimeIso(text) | Data::DurationIso(text) => Some(text.clone()),
        Data::Error(error) => Some(format!("#{error:?}")),
    }
}

/// The most a workbook may unpack to: calamine holds a sheet in memory.
const MAX_UNPACKED: u64 = 2 << 30;

/// Refuses a zipped workbook (xlsx, xlsm, xlsb, ods) whose parts declare
/// more than `MAX_UNPACKED` bytes unpacked, before anything is unpacked.
/// Other files are left to calamine, which names what is wrong with them.
fn unpacked_size(path: &Path, bad: &dyn Fn(String, Option<String>) -> Error) -> Result<()> {
    let file = std::io::BufReader::new(fs_err::File::open(path)?);
    let Ok(mut archive) = zip::ZipArchive::new(file) else {
        return Ok(());
    };
    let mut total = 0u64;
    let mut largest = (0u64, String::new());
    for index in 0..archive.len() {
        let Ok(part) = archive.by_index_raw(index) else {
            continue;
        };
        total = total.saturating_add(part.size());
        if part.size() > largest.0 {
            largest = (part.size(), part.name().to_string());
        }
    }
    if total <= MAX_UNPACKED {
        return Ok(());
    }
    let gb = |bytes: u64| format!("{:.1} GB", bytes as f64 / f64::from(1u32 << 30));
    Err(bad(
        format!(
            "the workbook declares {} unpacked ({} in `{}`); opskpi reads workbooks of up to {}",
            gb(total),
            gb(largest.0),
            largest.1,
            gb(MAX_UNPACKED)
        ),
        Some(
            "save the sheet as CSV (Excel: Save As › CSV UTF-8), which is read as a stream; if the file should be small, it is damaged: export it again"
                .into(),
        ),
    ))
}

fn merged_regions(
    workbook: &mut Sheets<std::io::BufReader<std::fs::File>>,
    sheet: &str,
) -> Vec<Dimensions> {
    match workbook {
        Sheets::Xlsx(xlsx) => xlsx.merge_cells_by_sheet_name(sheet).unwrap_or_default(),
        Sheets::Xls(xls) => xls.merge_cells_by_sheet_name(sheet).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Reads a sheet of the workbook at `path` (the first when `sheet` is
/// none) into the raw table `{name}_raw`: merged cells filled, the header
/// row found below any titles (or at `header_row`), a two-row header joined.
pub fn read(
    conn: &Connection,
    path: &Path,
    sheet: Option<&str>,
    header_row: Option<u64>,
    name: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<Raw> {
    let bad =
        |message: String, hint: Option<String>| Error::data(BadData::file(path, message, hint));
    unpacked_size(path, &bad)?;
    let mut workbook = open_workbook_auto(path)
        .map_err(|error| bad(format!("cannot read the workbook: {error}"), Some("check that it is an Excel or OpenDocument file that opens in a spreadsheet program".into())))?;
    let sheet = sheet_name(&workbook.sheet_names(), sheet, &bad)?;
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|error| bad(format!("cannot read sheet `{sheet}`: {error}"), None))?;
    let Some((first_row, first_col)) = range.start() else {
        return Err(bad(format!("sheet `{sheet}` is empty"), None));
    };
    let mut grid: Vec<Vec<Option<String>>> = range
        .rows()
        .map(|row| row.iter().map(cell_text).collect())
        .collect();
    let merged = merged_regions(&mut workbook, &sheet);
    fill_merged(&mut grid, &merged, (first_row, first_col));
    let header = match header_row {
        Some(row) => (row as usize)
            .checked_sub(first_row as usize + 1)
            .filter(|index| *index < grid.len())
            .ok_or_else(|| {
                Error::config_hint(
                    format!("`header_row = {row}` is outside sheet `{sheet}`"),
                    "give the sheet row number of the header, or leave it out to detect it",
                )
            })?,
        None => find_header(&title_free_rows(&grid), known),
    };
    let (header_cells, data_start) = header_cells(&grid, header, &merged, (first_row, first_col));
    let headers = clean_headers(&header_cells);
    let width = headers.len();
    let rows = grid
        .into_iter()
        .enumerate()
        .skip(data_start)
        .filter(|(_, row)| row.iter().any(Option::is_some))
        .map(|(i, row)| (first_row as u64 + i as u64 + 1, row));
    let table = format!("{name}_raw");
    append_table(conn, &table, width, rows)?;
    let notes = vec![
        ("sheet", format!("`{sheet}`")),
        (
            "header",
            format!("sheet row {}", first_row as usize + header + 1),
        ),
    ];
    Ok(appended(&table, headers, "sheet row", notes))
}

/// The sheet asked for (it must exist), or the first.
fn sheet_name(
    names: &[String],
    wanted: Option<&str>,
    bad: &dyn Fn(String, Option<String>) -> Error,
) -> Result<String> {
    match wanted {
        Some(wanted) => names
            .iter()
            .find(|name| name.as_str() == wanted)
            .cloned()
            .ok_or_else(|| {
                bad(
                    format!("the workbook has no sheet `{wanted}`"),
                    Some(format!("its sheets are: {}", names.join(", "))),
                )
            }),
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad("the workbook has no sheets".into(), None)),
    }
}

/// Merged cells: the value of the top-left cell over the whole area. The
/// grid starts at sheet cell `start` (row, column).
fn fill_merged(grid: &mut [Vec<Option<String>>], merged: &[Dimensions], start: (u32, u32)) {
    let (first_row, first_col) = start;
    for region in merged {
        let (top, left) = region.start;
        let (bottom, right) = region.end;
        let height = grid.len();
        let width = grid.first().map(Vec::len).unwrap_or(0);
        let at = |row: u32, col: u32| -> Option<(usize, usize)> {
            let r = row.checked_sub(first_row)? as usize;
            let c = col.checked_sub(first_col)? as usize;
            (r < height && c < width).then_some((r, c))
        };
        let Some((r0, c0)) = at(top, left) else {
            continue;
        };
        let value = grid[r0][c0].clone();
        for row in top..=bottom {
            for col in left..=right {
                if let Some((r, c)) = at(row, col) {
                    grid[r][c] = value.clone();
                }
            }
        }
    }
}

/// The first 30 rows as text for finding the header; a title merged across
/// the sheet is one value repeated, not a header, and reads as empty.
fn title_free_rows(grid: &[Vec<Option<String>>]) -> Vec<Vec<String>> {
    grid.iter()
        .take(30)
        .map(|row| {
            let cells: Vec<String> = row.iter().map(|c| c.clone().unwrap_or_default()).collect();
            let distinct: std::collections::BTreeSet<&String> =
                cells.iter().filter(|c| !c.is_empty()).collect();
            if distinct.len() == 1 && cells.iter().filter(|c| !c.is_empty()).count() > 1 {
                vec![String::new(); cells.len()]
            } else {
                cells
            }
        })
        .collect()
}

/// The header row's cells and the index of the first data row. A two-row
/// header — a cell merged across columns above sub-headers — reads as
/// `upper/lower`.
fn header_cells(
    grid: &[Vec<Option<String>>],
    header: usize,
    merged: &[Dimensions],
    start: (u32, u32),
) -> (Vec<String>, usize) {
    let (first_row, first_col) = start;
    let mut header_cells: Vec<String> = grid[header]
        .iter()
        .map(|c| c.clone().unwrap_or_default())
        .collect();
    let mut data_start = header + 1;
    let spans_columns = |col: usize| {
        merged.iter().any(|region| {
            region.start.0 == first_row + header as u32
                && region.start.1 != region.end.1
                && (region.start.1..=region.end.1).contains(&(first_col + col as u32))
        })
    };
    if let Some(below) = grid.get(header + 1) {
        let sub: Vec<bool> = (0..header_cells.len())
            .map(|col| {
                spans_columns(col)
                    && below
                        .get(col)
                        .and_then(|c| c.as_deref())
                        .is_some_and(|c| !super::looks_like_data(c))
            })
            .collect();
        if sub.iter().any(|s| *s) {
            for (col, cell) in header_cells.iter_mut().enumerate() {
                let child = below.get(col).and_then(|c| c.clone()).unwrap_or_default();
                if sub[col] && !child.is_empty() && child != *cell {
                    *cell = format!("{cell}/{child}");
                }
            }
            data_start += 1;
        }
    }
    (header_cells, data_start)
}
