//! The value readers of `values` and the word dictionary as DuckDB scalar
//! functions, so that ingest reads values as written inside DuckDB's own
//! parallel scan. Each returns canonical text, or NULL where the value cannot
//! be read (the stage turns that into a quarantine rule; `values` says why).
//! Beside them `_opskpi_padded`, which says whether `trim` would change a
//! text (so that the scan trims only the values that need it), and the key
//! order log of `key_order`.

use duckdb::core::{DataChunkHandle, Inserter, LogicalTypeHandle, LogicalTypeId};
use duckdb::ffi::duckdb_string_t;
use duckdb::types::DuckString;
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;
use duckdb::Connection;

use super::mapping;
use super::values;
use crate::config::DateOrder;
use crate::error::{Error, Result};

use crate::warehouse::functions::{read_in_place, string_bytes, CallResult};

/// Registers every function of ingest on `conn`. A load does this on the
/// connection it writes with; no other connection needs them.
pub fn register(conn: &Connection) -> Result<()> {
    let register =
        |result: duckdb::Result<()>| result.map_err(Error::query("register value functions"));
    register(conn.register_scalar_function::<PaddedFn>("_opskpi_padded"))?;
    register(super::key_order::register(conn))?;
    register(conn.register_scalar_function::<ExactFn<0>>("_opskpi_exact_0"))?;
    register(conn.register_scalar_function::<ExactFn<2>>("_opskpi_exact_2"))?;
    register(conn.register_scalar_function::<ExactFn<4>>("_opskpi_exact_4"))?;
    register(conn.register_scalar_function::<ExactFn<6>>("_opskpi_exact_6"))?;
    register(conn.register_scalar_function::<NumberFn>("_opskpi_number"))?;
    register(conn.register_scalar_function::<ArtifactFn>("_opskpi_artifact"))?;
    register(conn.register_scalar_function::<IsoDateFn>("_opskpi_iso_date"))?;
    register(conn.register_scalar_function::<DateFn>("_opskpi_date"))?;
    register(conn.register_scalar_function::<MonthFn>("_opskpi_month"))?;
    register(conn.register_scalar_function::<TimestampFn>("_opskpi_timestamp"))?;
    register(conn.register_scalar_function::<WordFn>("_opskpi_word"))?;
    Ok(())
}

pub fn date_order_name(order: DateOrder) -> &'static str {
    match order {
        DateOrder::Ymd => "ymd",
        DateOrder::Mdy => "mdy",
        DateOrder::Dmy => "dmy",
        DateOrder::Roc => "roc",
    }
}

fn date_order(name: &str) -> DateOrder {
    match name {
        "mdy" => DateOrder::Mdy,
        "dmy" => DateOrder::Dmy,
        "roc" => DateOrder::Roc,
        _ => DateOrder::Ymd,
    }
}

/// The characters DuckDB's `trim` removes from either end of a text: the
/// Unicode space separators (general category Zs).
pub fn is_space_separator(c: char) -> bool {
    matches!(
        c,
        '\u{20}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Whether `trim` would change `text` (valid UTF-8).
pub fn padded(text: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (text.first(), text.last()) else {
        return false;
    };
    // Every space separator starts with a space or a multi-byte lead, and
    // ends with a space or a continuation byte.
    if first != b' ' && first < 0x80 && last != b' ' && last < 0x80 {
        return false;
    }
    // Not UTF-8 (DuckDB's text always is): let `trim` decide.
    std::str::from_utf8(text).map_or(true, |text| {
        text.starts_with(is_space_separator) || text.ends_with(is_space_separator)
    })
}

/// `_opskpi_padded(text)`: whether the text starts or ends with a space
/// separator. The stage writes `CASE WHEN _opskpi_padded(v) THEN trim(v)
/// ELSE v END`: a text is checked in place, and only a padded one is copied
/// trimmed (trimming every value of a 10M-line file took a fifth of its
/// load).
struct PaddedFn;

impl VScalar for PaddedFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        let len = input.len();
        let column = input.flat_vector(0);
        let texts = unsafe { column.as_slice_with_len::<duckdb_string_t>(len) };
        let mut out = output.flat_vector();
        let flags = unsafe { out.as_mut_slice_with_len::<bool>(len) };
        for (row, (text, flag)) in texts.iter().zip(flags.iter_mut()).enumerate() {
            // A NULL's string is not to be read; it pads nothing.
            *flag = !column.row_is_null(row as u64) && padded(string_bytes(text));
        }
        Ok(())
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![varchar()],
            LogicalTypeHandle::from(LogicalTypeId::Boolean),
        )]
    }
}

fn varchar() -> LogicalTypeHandle {
    LogicalTypeHandle::from(LogicalTypeId::Varchar)
}

/// Applies `read` to every row of text column `text_column`, with access to
/// the other arguments by row, writing its text or NULL.
fn map_text(
    input: &mut DataChunkHandle,
    output: &mut dyn WritableVector,
    text_column: usize,
    read: impl Fn(&str, &DataChunkHandle, usize) -> Option<String>,
) -> CallResult {
    let len = input.len();
    let column = input.flat_vector(text_column);
    let texts = unsafe { column.as_slice_with_len::<duckdb_string_t>(len) };
    let mut out = output.flat_vector();
    for (row, text) in texts.iter().enumerate() {
        if column.row_is_null(row as u64) {
            out.set_null(row);
            continue;
        }
        let mut text = *text;
        let text = DuckString::new(&mut text).as_str();
        match read(&text, input, row) {
            Some(value) => out.insert(row, value.as_str()),
            None => out.set_null(row),
        }
    }
    Ok(())
}

/// The text of argument `column` at `row` (a constant argument arrives flattened).
fn text_arg(input: &DataChunkHandle, column: usize, row: usize) -> String {
    let vector = input.flat_vector(column);
    let texts = unsafe { vector.as_slice_with_len::<duckdb_string_t>(input.len()) };
    let mut text = texts[row];
    DuckString::new(&mut text).as_str().to_string()
}

fn int_arg(input: &DataChunkHandle, column: usize, row: usize) -> i32 {
    let vector = input.flat_vector(column);
    let values = unsafe { vector.as_slice_with_len::<i32>(input.len()) };
    values[row]
}

/// The scales `_opskpi_exact_{scale}` exists for: every number column of
/// the model (whole numbers, percentages, money, unit costs).
pub(super) const EXACT_SCALES: [u8; 4] = [0, 2, 4, 6];

/// `_opskpi_exact_4(v)`: a plain number (`values::plain_number`) as
/// `DECIMAL(18,4)` — `BIGINT` at scale 0 — or NULL for anything else, which
/// the slower readers after it in the stage's `COALESCE` then read. Most
/// values of a load are plain; for them this replaces a text test and
/// DuckDB's cast (a tenth of a 10M-line CSV load).
struct ExactFn<const SCALE: u8>;

impl<const SCALE: u8> VScalar for ExactFn<SCALE> {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        // Both BIGINT and DECIMAL(18,_) are stored as 64-bit integers.
        read_in_place::<i64>(input, output, |text| values::plain_number(text, SCALE))
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        let returns = if SCALE == 0 {
            LogicalTypeHandle::from(LogicalTypeId::Bigint)
        } else {
            LogicalTypeHandle::decimal(18, SCALE)
        };
        vec![ScalarFunctionSignature::exact(vec![varchar()], returns)]
    }
}

/// `_opskpi_iso_date(v)`: a text written exactly `YYYY-MM-DD` as a `DATE`,
/// NULL for anything else (read after it by DuckDB's cast and `_opskpi_date`).
struct IsoDateFn;

impl VScalar for IsoDateFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        // A DATE is stored as its days since 1970-01-01, a 32-bit integer.
        read_in_place::<i32>(input, output, values::iso_date_days)
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![varchar()],
            LogicalTypeHandle::from(LogicalTypeId::Date),
        )]
    }
}

struct NumberFn;

impl VScalar for NumberFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        map_text(input, output, 0, |text, input, row| {
            // More decimals than the column keeps is refused, not rounded.
            let scale = int_arg(input, 1, row).max(0) as usize;
            values::parse_number(text)
                .ok()
                .filter(|number| values::decimals(number) <= scale)
        })
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![varchar(), LogicalTypeHandle::from(LogicalTypeId::Integer)],
            varchar(),
        )]
    }
}

/// `_opskpi_artifact(text, scale)`: a float artifact rounded to `scale`
/// decimals (`values::round_artifact`), as text; NULL for anything else.
struct ArtifactFn;

impl VScalar for ArtifactFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        map_text(input, output, 0, |text, input, row| {
            let scale = int_arg(input, 1, row).max(0) as u32;
            values::round_artifact(text, scale)
        })
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![varchar(), LogicalTypeHandle::from(LogicalTypeId::Integer)],
            varchar(),
        )]
    }
}

/// A date reader over `(text, date order)`: the shared body of `DateFn`
/// and `MonthFn`.
fn read_dated(
    input: &mut DataChunkHandle,
    output: &mut dyn WritableVector,
    read: impl Fn(&str, DateOrder) -> Result<chrono::NaiveDate, values::Problem>,
) -> CallResult {
    map_text(input, output, 0, |text, input, row| {
        let order = date_order(&text_arg(input, 1, row));
        read(text, order).ok().map(|date| date.to_string())
    })
}

fn two_texts() -> Vec<ScalarFunctionSignature> {
    vec![ScalarFunctionSignature::exact(
        vec![varchar(), varchar()],
        varchar(),
    )]
}

struct DateFn;

impl VScalar for DateFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        read_dated(input, output, values::parse_date)
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        two_texts()
    }
}

struct MonthFn;

impl VScalar for MonthFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        read_dated(input, output, values::parse_month)
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        two_texts()
    }
}

struct TimestampFn;

impl VScalar for TimestampFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        map_text(input, output, 0, |text, input, row| {
            let order = date_order(&text_arg(input, 1, row));
            values::parse_timestamp(text, order, int_arg(input, 2, row)).ok()
        })
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![
                varchar(),
                varchar(),
                LogicalTypeHandle::from(LogicalTypeId::Integer),
            ],
            varchar(),
        )]
    }
}

/// `_opskpi_word(v, 'sales.channel')`: the canonical word the dictionary
/// gives for `v`, or NULL for a word it does not know (the type rule then
/// refuses the value, naming the allowed words).
struct WordFn;

impl VScalar for WordFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        map_text(input, output, 0, |text, input, row| {
            let set = text_arg(input, 1, row);
            mapping::canonical_word(&set, text).map(str::to_string)
        })
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        two_texts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DuckDB's own cast is the oracle: over plain numbers of every length
    /// and decimals, signed and not, `_opskpi_exact_{scale}` reads exactly
    /// what `TRY_CAST(v AS DECIMAL(18,scale))` reads, for every value the
    /// cast does not round — and nothing it would round or refuse.
    #[test]
    fn exact_numbers_agree_with_duckdb_s_cast_wherever_it_does_not_round() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        // Integer parts of 1 to 20 digits (from 9… and from 1…), 0 to 8
        // decimals (some all zeros, some ending in zeros), with and
        // without a minus: 2 × 2 × 20 × 9 × 4 = 2,880 texts, each at every
        // scale.
        conn.execute_batch(
            "CREATE TABLE t AS SELECT sign || left(int, digits) || \
               CASE WHEN decimals = 0 THEN '' ELSE '.' || left(fraction, decimals) END AS v \
             FROM (VALUES ('-'), ('')) s(sign), (VALUES ('98765432109876543210'), \
               ('12345678901234567890')) i(int), range(1, 21) d(digits), range(0, 9) f(decimals), \
               (VALUES ('12345678'), ('00000000'), ('50000000'), ('10200000')) r(fraction)",
        )
        .unwrap();
        for scale in EXACT_SCALES {
            let exact = if scale == 0 {
                "CAST(_opskpi_exact_0(v) AS DECIMAL(18,0))".to_string()
            } else {
                format!("_opskpi_exact_{scale}(v)")
            };
            let (texts, read, disagreements): (i64, i64, i64) = conn
                .query_row(
                    &format!(
                        "WITH c AS (SELECT v, {exact} AS exact, \
                           TRY_CAST(v AS DECIMAL(18,{scale})) AS duck, \
                           TRY_CAST(v AS DECIMAL(38,18)) AS wide FROM t) \
                         SELECT count(*), count(exact), \
                           count(*) FILTER (WHERE exact IS DISTINCT FROM \
                             CASE WHEN duck = wide THEN duck END) FROM c"
                    ),
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .unwrap();
            assert_eq!((texts, disagreements), (2880, 0), "scale {scale}");
            // By hand: 18 - scale lengths fit, × 2 integer parts × 2 signs, × the decimals (of 0..=8) whose digits
            // past the scale are zeros: of `12345678` 0..=scale; of
            // `00000000` all 9; of `50000000` 1 at scale 0, else 9; of
            // `10200000` 0..=2 at scales 1–2 (the 2 is third), 1 at 0, 9 from 3.
            let expected = match scale {
                0 => 18 * 4 * (1 + 9 + 1 + 1),
                2 => 16 * 4 * (3 + 9 + 9 + 3),
                4 => 14 * 4 * (5 + 9 + 9 + 9),
                _ => 12 * 4 * (7 + 9 + 9 + 9),
            };
            assert_eq!(read, expected, "scale {scale}");
        }
    }

    /// DuckDB's own cast is the oracle: every text `YYYY-MM-DD` of years
    /// 1899–2201, months 00–13 and days 00–32 (real dates and not) reads
    /// to the date DuckDB's `TRY_CAST` reads, or to NULL where it refuses.
    #[test]
    fn iso_dates_agree_with_duckdb_s_cast() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let (texts, dates, disagreements): (i64, i64, i64) = conn
            .query_row(
                "WITH t AS (SELECT printf('%04d-%02d-%02d', y, m, d) AS v \
                   FROM range(1899, 2202) a(y), range(0, 14) b(m), range(0, 33) c(d)) \
                 SELECT count(*), count(_opskpi_iso_date(v)), \
                   count(*) FILTER (WHERE _opskpi_iso_date(v) IS DISTINCT FROM TRY_CAST(v AS DATE)) \
                 FROM t",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .unwrap();
        // 303 years × 14 × 33 texts; the real days of 303 years, of which
        // 73 leap (1904…2200 every 4th, less 2100 and 2200).
        assert_eq!(
            (texts, dates, disagreements),
            (303 * 14 * 33, 303 * 365 + 73, 0)
        );
    }

    /// DuckDB's own `trim` is the oracle: over every code point, at either
    /// end of a text, `_opskpi_padded` says true exactly where `trim`
    /// changes the text.
    #[test]
    fn padded_is_true_exactly_where_duckdb_s_trim_changes_the_text() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let disagreements: Vec<(i64, bool, bool)> = conn
            .prepare(
                "WITH t AS (SELECT i, chr(i::INTEGER) || 'x' AS lead, 'x' || chr(i::INTEGER) AS tail \
                 FROM range(1, 1114112) r(i) WHERE i NOT BETWEEN 55296 AND 57343) \
                 SELECT i, _opskpi_padded(lead), _opskpi_padded(tail) FROM t \
                 WHERE _opskpi_padded(lead) <> (trim(lead) <> lead) \
                    OR _opskpi_padded(tail) <> (trim(tail) <> tail)",
            )
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        assert_eq!(disagreements, []);
        // And the set is the one written down: 17 space separators.
        let spaces: i64 = conn
            .query_row(
                "SELECT count(*) FROM range(1, 1114112) r(i) \
                 WHERE i NOT BETWEEN 55296 AND 57343 AND _opskpi_padded(chr(i::INTEGER))",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(spaces, 17);
        assert!(padded("\u{3000}台北".as_bytes()) && padded(b"C1 ") && !padded(b"C 1"));
        assert!(!padded(b"") && !padded("台北".as_bytes()) && !padded(b"\tC1"));
    }
}
