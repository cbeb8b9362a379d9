//! A canonical table as a Polars scan over the warehouse: Polars pushes the
//! projection down, and only the columns a query uses cross from DuckDB
//! (`read.rs`), each once per engine. DuckDB returns a
//! plain scan in insertion order, so columns read apart line up row by row;
//! the warehouse is open read-only (no other program can write it
//! meanwhile) and the engine writes nothing. Each text column also comes as
//! whole-number codes (`code_of`), made from the text once per engine.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use duckdb::Connection;
use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use super::packed;
use super::read::{self as reader, Kind, Read as Fresh, Selected};
use crate::model::{ColumnType, Table};

pub struct TableScan {
    table: &'static Table,
    schema: SchemaRef,
    conn: Mutex<Connection>,
    /// From how many rows the table is read in parallel ranges.
    split_from: usize,
    /// The columns read so far, and the table's row count.
    read: Mutex<Read>,
}

/// The Polars type a canonical column arrives as. Timestamps come as whole
/// milliseconds since the epoch (`epoch_ms`, as the SQL queries use them),
/// so Polars needs no time-zone support.
fn dtype(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Text | ColumnType::OneOf(_) => DataType::String,
        ColumnType::Date | ColumnType::Month => DataType::Date,
        ColumnType::Timestamp => DataType::Int64,
        ColumnType::Integer | ColumnType::IntRange(..) => DataType::Int64,
        ColumnType::Decimal(scale) | ColumnType::DecimalRange(scale, ..) => {
            DataType::Decimal(18, scale as usize)
        }
    }
}

/// The name of the codes of text column `column` (see `codes`).
pub fn code_of(column: &str) -> String {
    format!("{column}{CODE}")
}

const CODE: &str = ":code";

/// The name a packed text is read under (see `packed`).
const PACKED: &str = ":packed";

/// The name of the key of text column `column`: its texts packed into
/// numbers (`packed`), one-to-one, to group and join on without hashing
/// text — or the text itself when some text is too long to pack.
/// `packed::decode` gives the texts back. Unlike codes, keys of one text
/// are the same in every table.
pub fn key_of(column: &str) -> String {
    format!("{column}{KEY}")
}

const KEY: &str = ":key";

/// A read column made ready: as read, the codes and key of a packed text
/// (and the base of codes by distance), or none when a text was too long
/// to pack.
enum Finished {
    Plain(Column),
    Packed(Vec<Column>, Option<i128>),
    Unpackable,
}

/// What a table scan has read: the columns, the table's row count, and
/// the base of each text column coded by distance (`codes_of_keys`).
#[derive(Default)]
struct Read {
    columns: BTreeMap<String, Column>,
    rows: Option<usize>,
    bases: BTreeMap<String, i128>,
}

/// Whole-number codes for a text column: equal texts get equal codes, a
/// missing text a missing code. Queries group and join on these instead
/// of the text (grouping 10M order ids by text took seconds). A column
/// sorted without gaps (order ids usually are) is cut into runs, with no
/// hashing; any other is hashed once.
fn codes(values: &Column) -> PolarsResult<Column> {
    let texts = values.str()?;
    let mut series = texts.clone().into_series();
    let mut previous: Option<&str> = None;
    let ascending = texts.null_count() == 0
        && texts.iter().all(|text| {
            let in_order = previous <= text;
            previous = text;
            in_order
        });
    if ascending {
        series.set_sorted_flag(polars::series::IsSorted::Ascending);
    }
    let mut numbered = vec![0u64; texts.len()];
    match series.group_tuples(true, false)? {
        GroupsType::Idx(groups) => {
            for (code, rows) in groups.all().iter().enumerate() {
                for row in rows.iter() {
                    numbered[*row as usize] = code as u64;
                }
            }
        }
        GroupsType::Slice { groups, .. } => {
            for (code, [first, len]) in groups.iter().enumerate() {
                numbered[*first as usize..(*first + *len) as usize].fill(code as u64);
            }
        }
    }
    let name = PlSmallStr::from(code_of(texts.name()));
    let present = texts.iter().map(|text| text.is_some());
    let codes = code_column(name, numbered, texts.null_count(), present);
    Ok(codes.into_series().into())
}

/// Codes as a column, missing where `present` (a flag per row) is false
/// (`nulls` of them).
pub(super) fn code_column(
    name: PlSmallStr,
    numbered: Vec<u64>,
    nulls: usize,
    present: impl Iterator<Item = bool>,
) -> UInt64Chunked {
    if nulls == 0 {
        UInt64Chunked::from_vec(name, numbered)
    } else {
        UInt64Chunked::from_iter_options(
            name,
            numbered
                .into_iter()
                .zip(present)
                .map(|(code, present)| present.then_some(code)),
        )
    }
}

impl TableScan {
    pub fn new(table: &'static Table, conn: Connection, split_from: usize) -> TableScan {
        let mut schema: Schema = table
            .columns
            .iter()
            .map(|c| Field::new(c.name.into(), dtype(c.ty)))
            .collect();
        for column in table.columns {
            if dtype(column.ty) == DataType::String {
                schema.with_column(code_of(column.name).into(), DataType::UInt64);
            }
        }
        TableScan {
            table,
            schema: Arc::new(schema),
            conn: Mutex::new(conn),
            split_from,
            read: Mutex::new(Read::default()),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn error(&self, message: impl std::fmt::Display) -> PolarsError {
        PolarsError::ComputeError(format!("reading `{}`: {message}", self.table.name).into())
    }

    /// The table's columns `names`, reading those not read yet in one query.
    /// A text's codes (`code_of`) come from the text packed in DuckDB's scan
    /// (`packed`), unless the text itself is wanted or already read, or some
    /// text of the column is too long to pack: then from the text (`codes`).
    /// A text's key (`key_of`) is its packed numbers (Int128), or the text
    /// itself when some text is too long to pack.
    pub fn columns(&self, names: &[PlSmallStr]) -> PolarsResult<DataFrame> {
        let mut read = self.read.lock().map_err(|e| self.error(e))?;
        let conn = self.conn.lock().map_err(|e| self.error(e))?;
        if read.rows.is_none() {
            let rows: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM {}", self.table.name),
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.error(e))?;
            read.rows = Some(rows as usize);
        }
        let rows = read.rows.unwrap_or(0);
        let wanted = |name: &str| names.iter().any(|n| n.as_str() == name);
        let select = self.selection(&read, names, &wanted)?;
        if !select.is_empty() {
            let texts = self.read_selected(&conn, &mut read, &select, rows, &wanted)?;
            if !texts.is_empty() {
                self.read_texts(&conn, &mut read, texts, rows)?;
            }
        }
        for name in names {
            let name = name.as_str();
            if read.columns.contains_key(name) {
                continue;
            }
            if let Some(text) = name.strip_suffix(CODE) {
                let coded = codes(&read.columns[text])?;
                read.columns.insert(name.to_string(), coded);
            } else if let Some(text) = name.strip_suffix(KEY) {
                // The text itself is the key.
                let key = read.columns[text].clone().with_name(name.into());
                read.columns.insert(name.to_string(), key);
            }
        }
        let columns: Vec<Column> = names
            .iter()
            .map(|name| read.columns[name.as_str()].clone())
            .collect();
        DataFrame::new(rows, columns)
    }

    /// What to read of `names` that is not read yet: plain columns, and
    /// texts packed for their codes or keys.
    fn selection(
        &self,
        read: &Read,
        names: &[PlSmallStr],
        wanted: &dyn Fn(&str) -> bool,
    ) -> PolarsResult<Vec<Selected>> {
        let mut select: Vec<Selected> = Vec::new();
        for name in names {
            let name = name.as_str();
            if read.columns.contains_key(name) || select.iter().any(|s| s.name == name) {
                continue;
            }
            let packs = match (name.strip_suffix(CODE), name.strip_suffix(KEY)) {
                (Some(text), _) => {
                    (!read.columns.contains_key(text) && !wanted(text)).then_some(text)
                }
                (_, Some(text)) => Some(text),
                _ => None,
            };
            match packs {
                Some(text) => {
                    let packed = format!("{text}{PACKED}");
                    if !select.iter().any(|s| s.name == packed) {
                        self.column(text)?;
                        select.push(Selected {
                            sql: format!("{}({text})", packed::FUNCTION),
                            name: packed,
                            kind: Kind::Packed,
                        });
                    }
                }
                None if name.ends_with(CODE) => {}
                None => select.push(self.selected(self.column(name)?)),
            }
        }
        Ok(select)
    }

    /// Reads `select` in one query and keeps its columns, the packed texts
    /// coded (or kept as keys) each on a thread of its own. The texts too
    /// long to pack, to be read as text.
    fn read_selected(
        &self,
        conn: &Connection,
        read: &mut Read,
        select: &[Selected],
        rows: usize,
        wanted: &(dyn Fn(&str) -> bool + Sync),
    ) -> PolarsResult<Vec<String>> {
        let columns = reader::read(conn, self.table.name, select, rows, self.parts(rows))?;
        let finished: Vec<PolarsResult<Finished>> = std::thread::scope(|scope| {
            let handles: Vec<_> = select
                .iter()
                .zip(columns)
                .map(|(selected, column)| {
                    scope.spawn(move || match column {
                        Fresh::Column(column) => Ok(Finished::Plain(column)),
                        Fresh::Packed(values, valid) => {
                            let text = selected.name.trim_end_matches(PACKED);
                            Ok(self.finish_packed(text, values, valid, wanted))
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(self.error("a thread coding ids failed")))
                })
                .collect()
        });
        let mut texts = Vec::new();
        for (selected, finished) in select.iter().zip(finished) {
            let text = selected.name.trim_end_matches(PACKED);
            match finished? {
                Finished::Plain(column) => {
                    read.columns.insert(selected.name.clone(), column);
                }
                Finished::Packed(columns, base) => {
                    if let Some(base) = base {
                        read.bases.insert(text.to_string(), base);
                    }
                    for column in columns {
                        read.columns.insert(column.name().to_string(), column);
                    }
                }
                Finished::Unpackable => texts.push(text.to_string()),
            }
        }
        Ok(texts)
    }

    /// Reads `texts` as text: some text of theirs is too long to pack.
    fn read_texts(
        &self,
        conn: &Connection,
        read: &mut Read,
        texts: Vec<String>,
        rows: usize,
    ) -> PolarsResult<()> {
        let select: Vec<Selected> = texts
            .iter()
            .map(|text| self.column(text).map(|c| self.selected(c)))
            .collect::<PolarsResult<_>>()?;
        let columns = reader::read(conn, self.table.name, &select, rows, self.parts(rows))?;
        for (text, column) in texts.into_iter().zip(columns) {
            if let Fresh::Column(values) = column {
                read.columns.insert(text, values);
            }
        }
        Ok(())
    }

    /// A packed text's codes and key, those of them `wanted`; Unpackable
    /// when some text was too long to pack.
    fn finish_packed(
        &self,
        text: &str,
        values: Vec<i128>,
        valid: Option<Bitmap>,
        wanted: &dyn Fn(&str) -> bool,
    ) -> Finished {
        let (mut columns, mut base) = (Vec::new(), None);
        if wanted(&code_of(text)) {
            match packed::codes(&values, valid.as_ref(), code_of(text).into()) {
                Some(coded) => {
                    base = coded.base;
                    columns.push(coded.codes);
                }
                None => return Finished::Unpackable,
            }
        }
        if wanted(&key_of(text)) {
            if packed::any_unpackable(&values, valid.as_ref()) {
                return Finished::Unpackable;
            }
            let key = Int128Chunked::from_vec_validity(key_of(text).into(), values, valid);
            columns.push(key.into_column());
        }
        Finished::Packed(columns, base)
    }

    /// The codes (`code_of`) that `keys` — packed texts of another table's
    /// column — have in this table's text column `column`, when that
    /// column's codes are distances from one packed number; a key no text
    /// of this column has gets no code. None when the codes are made
    /// otherwise (runs, a hash map, from text) or `keys` are text.
    pub fn codes_of_keys(&self, column: &str, keys: &Column) -> PolarsResult<Option<Column>> {
        let read = self.read.lock().map_err(|e| self.error(e))?;
        let (Some(base), DataType::Int128) = (read.bases.get(column), keys.dtype()) else {
            return Ok(None);
        };
        let codes: UInt64Chunked = keys
            .i128()?
            .iter()
            .map(|key| key.and_then(|key| packed::code_of_key(key, *base)))
            .collect();
        Ok(Some(codes.with_name(code_of(column).into()).into_column()))
    }

    /// The canonical column `name` of the table.
    fn column(&self, name: &str) -> PolarsResult<&'static crate::model::Column> {
        self.table
            .columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| self.error(format!("no column `{name}`")))
    }

    /// How a column is read: a timestamp as milliseconds since the epoch.
    fn selected(&self, column: &crate::model::Column) -> Selected {
        let (sql, kind) = match column.ty {
            ColumnType::Text | ColumnType::OneOf(_) => (column.name.to_string(), Kind::Text),
            ColumnType::Date | ColumnType::Month => (column.name.to_string(), Kind::Date),
            ColumnType::Timestamp => (format!("epoch_ms({})", column.name), Kind::Integer),
            ColumnType::Integer | ColumnType::IntRange(..) => {
                (column.name.to_string(), Kind::Integer)
            }
            ColumnType::Decimal(scale) | ColumnType::DecimalRange(scale, ..) => {
                (column.name.to_string(), Kind::Decimal(scale as usize))
            }
        };
        Selected {
            sql,
            name: column.name.to_string(),
            kind,
        }
    }

    /// In how many ranges a table of `rows` rows is read: two per core
    /// (DuckDB scans one range while another is copied), from about a
    /// million rows.
    fn parts(&self, rows: usize) -> usize {
        if rows < self.split_from.max(2) {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| (2 * n.get()).min(8))
        }
    }
}

impl AnonymousScan for TableScan {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self, _infer_schema_length: Option<usize>) -> PolarsResult<SchemaRef> {
        Ok(self.schema())
    }

    fn allows_projection_pushdown(&self) -> bool {
        true
    }

    fn scan(&self, args: AnonymousScanArgs) -> PolarsResult<DataFrame> {
        let names: Vec<PlSmallStr> = match &args.with_columns {
            Some(columns) => columns.iter().cloned().collect(),
            None => self.schema.iter_names().cloned().collect(),
        };
        let frame = self.columns(&names)?;
        Ok(match args.n_rows {
            Some(n) => frame.head(Some(n)),
            None => frame,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coded(texts: &[Option<&str>]) -> Vec<Option<u64>> {
        let column: Column = Series::new("id".into(), texts).into();
        codes(&column).unwrap().u64().unwrap().iter().collect()
    }

    /// Equal texts, equal codes; different texts, different codes; a
    /// missing text, a missing code — hashed (out of order, with a gap)
    /// and cut into runs (in order, no gap).
    #[test]
    fn codes_stand_for_texts_one_to_one() {
        let shuffled = [
            Some("O2"),
            Some("O10"),
            Some("O2"),
            None,
            Some("O1"),
            Some("O10"),
        ];
        let in_order = [
            Some("O1"),
            Some("O1"),
            Some("O10"),
            Some("O2"),
            Some("O2"),
            Some("O3"),
        ];
        for texts in [&shuffled[..], &in_order[..]] {
            let codes = coded(texts);
            for (i, (text, code)) in texts.iter().zip(&codes).enumerate() {
                assert_eq!(text.is_none(), code.is_none(), "{texts:?} {codes:?}");
                for (other_text, other_code) in texts.iter().zip(&codes).skip(i + 1) {
                    if text.is_some() && other_text.is_some() {
                        assert_eq!(
                            text == other_text,
                            code == other_code,
                            "{texts:?} {codes:?}"
                        );
                    }
                }
            }
        }
        assert_eq!(
            coded(&in_order),
            [Some(0), Some(0), Some(1), Some(2), Some(2), Some(3)]
        );
    }
}
