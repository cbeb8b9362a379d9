//! Proof, gathered while a file's rows are inserted, that no key repeats
//! within the file — so that the direct load need not group millions of
//! keys afterwards (a tenth of a 10M-line load).
//!
//! `_opskpi_key_order(log id, key parts…)` sees the inserted rows chunk by
//! chunk, in whatever order DuckDB's threads deliver them, and notes for
//! each chunk whether its keys strictly increase and its first and last
//! key. If every chunk increases and the chunks' ranges, sorted, do not
//! overlap, no key can appear twice: within a chunk it would break the
//! increase, across chunks the ranges would meet. Nothing here relies on
//! how DuckDB cuts or orders chunks — a row seen twice makes ranges meet,
//! and the rows seen must number the rows inserted. A file whose keys are
//! not in order (or any doubt) is checked the slow way, by grouping.
//!
//! Key parts arrive as BIGINT or VARCHAR (`part_sql`: an injective form of
//! each canonical type), so any consistent order will do: the proof needs
//! one, not the file's own.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use duckdb::core::{DataChunkHandle, LogicalTypeHandle, LogicalTypeId};
use duckdb::ffi::duckdb_string_t;
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;

use crate::model::{ColumnType, Table};
use crate::warehouse::functions::string_bytes;

/// The log the function writes to. One for the process: DuckDB calls the
/// function from its own threads with the state it was registered with, and
/// the function is registered again on every load's connection (which
/// keeps the first registration or the last, either way this same log).
/// Each scan notes under a number of its own, so loads never mix.
static ORDERS: LazyLock<Arc<KeyOrders>> = LazyLock::new(Default::default);

/// The process's key order log.
pub fn orders() -> &'static KeyOrders {
    &ORDERS
}

/// Registers `_opskpi_key_order` on `conn`, writing to the process's log.
pub fn register(conn: &duckdb::Connection) -> duckdb::Result<()> {
    conn.register_scalar_function_with_state::<KeyOrderFn>("_opskpi_key_order", &ORDERS)
}

/// What was seen of each scan, by the number `start` gave it.
#[derive(Debug, Default)]
pub struct KeyOrders {
    scans: Mutex<HashMap<i64, Seen>>,
    next: std::sync::atomic::AtomicI64,
}

#[derive(Debug, Default)]
struct Seen {
    rows: u64,
    /// A chunk whose keys do not strictly increase (or hold a NULL).
    unordered: bool,
    /// Each chunk's first and last key.
    ranges: Vec<(Key, Key)>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Integer(i64),
    Text(Vec<u8>),
}

type Key = Vec<Part>;

impl KeyOrders {
    /// Starts a record for a scan about to run (forgotten when dropped,
    /// also when the scan fails).
    pub fn start(&self) -> Log<'_> {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock().insert(id, Seen::default());
        Log { orders: self, id }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Seen>> {
        // A panic elsewhere leaves the map usable: a half-noted scan only
        // fails its proof.
        self.scans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What one scan shows the function.
pub struct Log<'a> {
    orders: &'a KeyOrders,
    id: i64,
}

impl Log<'_> {
    /// The SQL that shows each row's key (`table`'s key columns by name)
    /// to this log; always true.
    pub fn call(&self, table: &Table) -> String {
        let parts: Vec<String> = table.key.iter().map(|name| part_sql(table, name)).collect();
        format!(
            "_opskpi_key_order(CAST({} AS BIGINT), {})",
            self.id,
            parts.join(", ")
        )
    }

    /// Whether what was seen proves the `rows` rows shown have no key twice.
    pub fn proves_unique(self, rows: u64) -> bool {
        let Some(mut seen) = self.orders.lock().remove(&self.id) else {
            return false;
        };
        if seen.unordered || seen.rows != rows {
            return false;
        }
        seen.ranges.sort_by(|a, b| a.0.cmp(&b.0));
        seen.ranges.windows(2).all(|pair| pair[0].1 < pair[1].0)
    }
}

impl Drop for Log<'_> {
    fn drop(&mut self) {
        self.orders.lock().remove(&self.id);
    }
}

/// A key column as the function reads it.
enum Column<'a> {
    Integer(&'a [i64]),
    Text(&'a [duckdb_string_t]),
}

impl Column<'_> {
    fn part(&self, row: usize) -> Part {
        match self {
            Column::Integer(values) => Part::Integer(values[row]),
            Column::Text(values) => Part::Text(string_bytes(&values[row]).to_vec()),
        }
    }

    /// How row `row` compares with the row before it.
    fn against_previous(&self, row: usize) -> std::cmp::Ordering {
        match self {
            Column::Integer(values) => values[row].cmp(&values[row - 1]),
            Column::Text(values) => string_bytes(&values[row]).cmp(string_bytes(&values[row - 1])),
        }
    }
}

/// The SQL of key column `name` as the function takes it: integers and
/// days as BIGINT, everything else as its text (both one-to-one).
fn part_sql(table: &Table, name: &str) -> String {
    match table.column(name).map(|column| column.ty) {
        Some(ColumnType::Integer | ColumnType::IntRange(..)) => format!("CAST({name} AS BIGINT)"),
        Some(ColumnType::Date | ColumnType::Month) => {
            format!("CAST({name} - DATE '1970-01-01' AS BIGINT)")
        }
        _ => format!("CAST({name} AS VARCHAR)"),
    }
}

/// The most key parts a table has (a rating: employee, period, rater, dimension).
const MOST_PARTS: usize = 4;

/// `_opskpi_key_order(log id, part, …)`: always true; notes the chunk.
pub struct KeyOrderFn;

impl VScalar for KeyOrderFn {
    type State = Arc<KeyOrders>;
    fn invoke(
        state: &Arc<KeyOrders>,
        input: &mut DataChunkHandle,
        output: &mut dyn WritableVector,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let len = input.len();
        let mut out = output.flat_vector();
        unsafe { out.as_mut_slice_with_len::<bool>(len) }.fill(true);
        if len == 0 {
            return Ok(());
        }
        let id = unsafe { input.flat_vector(0).as_slice_with_len::<i64>(len) }[0];
        let vectors: Vec<_> = (1..input.num_columns())
            .map(|c| input.flat_vector(c))
            .collect();
        let mut columns = Vec::with_capacity(vectors.len());
        let mut nulls = false;
        for vector in &vectors {
            nulls |= (0..len).any(|row| vector.row_is_null(row as u64));
            columns.push(match vector.logical_type().id() {
                LogicalTypeId::Bigint => {
                    Column::Integer(unsafe { vector.as_slice_with_len::<i64>(len) })
                }
                _ => Column::Text(unsafe { vector.as_slice_with_len::<duckdb_string_t>(len) }),
            });
        }
        let increasing = !nulls
            && (1..len).all(|row| {
                columns
                    .iter()
                    .map(|column| column.against_previous(row))
                    .find(|order| order.is_ne())
                    == Some(std::cmp::Ordering::Greater)
            });
        let key = |row: usize| -> Key { columns.iter().map(|column| column.part(row)).collect() };
        let range = increasing.then(|| (key(0), key(len - 1)));
        let mut scans = state.lock();
        let seen = scans.entry(id).or_default();
        seen.rows += len as u64;
        match range {
            Some(range) if !seen.unordered => seen.ranges.push(range),
            Some(_) => {}
            None => {
                seen.unordered = true;
                seen.ranges.clear();
            }
        }
        Ok(())
    }

    fn signatures() -> Vec<ScalarFunctionSignature> {
        let boolean = || LogicalTypeHandle::from(LogicalTypeId::Boolean);
        let mut signatures = Vec::new();
        for parts in 1..=MOST_PARTS {
            for kinds in 0..(1u32 << parts) {
                let mut types = vec![LogicalTypeHandle::from(LogicalTypeId::Bigint)];
                types.extend((0..parts).map(|p| {
                    LogicalTypeHandle::from(if kinds & (1 << p) == 0 {
                        LogicalTypeId::Varchar
                    } else {
                        LogicalTypeId::Bigint
                    })
                }));
                signatures.push(ScalarFunctionSignature::exact(types, boolean()));
            }
        }
        signatures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Part {
        Part::Text(s.as_bytes().to_vec())
    }

    /// Whether `ranges`, seen in `rows` rows, prove the keys unique.
    fn proves(ranges: Vec<(Key, Key)>, seen_rows: u64, rows: u64) -> bool {
        let orders = KeyOrders::default();
        let log = orders.start();
        orders.lock().insert(
            log.id,
            Seen {
                rows: seen_rows,
                unordered: false,
                ranges,
            },
        );
        log.proves_unique(rows)
    }

    #[test]
    fn ranges_apart_prove_and_ranges_that_meet_do_not() {
        // Chunks delivered out of order, apart once sorted.
        let apart = vec![
            (
                vec![text("B"), Part::Integer(1)],
                vec![text("C"), Part::Integer(2)],
            ),
            (
                vec![text("A"), Part::Integer(1)],
                vec![text("A"), Part::Integer(9)],
            ),
        ];
        assert!(proves(apart.clone(), 10, 10));
        // The rows seen must be the rows inserted.
        assert!(!proves(apart, 11, 10));
        // Two chunks sharing a last and a first key: (A, 9) may be twice.
        let meeting = vec![
            (
                vec![text("A"), Part::Integer(1)],
                vec![text("A"), Part::Integer(9)],
            ),
            (
                vec![text("A"), Part::Integer(9)],
                vec![text("B"), Part::Integer(1)],
            ),
        ];
        assert!(!proves(meeting, 4, 4));
        // One chunk inside another's range.
        let inside = vec![
            (vec![text("A")], vec![text("D")]),
            (vec![text("B")], vec![text("C")]),
        ];
        assert!(!proves(inside, 4, 4));
        // A failed scan's log is forgotten: nothing is kept.
        let orders = KeyOrders::default();
        drop(orders.start());
        assert!(orders.lock().is_empty());
    }
}
