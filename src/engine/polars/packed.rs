//! Text ids as whole numbers made inside DuckDB's scan, so that an id
//! column (order, customer) crosses to Polars as 16 bytes a row and is
//! never copied out as text. `_opskpi_pack(text)` writes a short text
//! exactly as a 128-bit number — one number per text, a different number
//! for a different text — and `codes` turns those into 64-bit codes for
//! the queries to group and join on. A text too long to pack is marked,
//! and the scan then reads that column as text (`scan::codes`): never a
//! hash, which two texts could share.
//!
//! Reading two id columns of 10M lines as text took about 2.4 s and coding
//! them 1.2 s; packed, about 0.6 s and 0.2 s (docs/benchmarks.md).

use std::collections::HashMap;

use duckdb::core::{DataChunkHandle, LogicalTypeHandle, LogicalTypeId};
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;
use duckdb::Connection;
use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use crate::warehouse::functions::{read_in_place, CallResult};

/// What `pack` gives a text it cannot pack.
pub const UNPACKABLE: i128 = -1;

/// The SQL name of the packing function.
pub const FUNCTION: &str = "_opskpi_pack";

/// A text as a whole number, one-to-one: ASCII texts of up to 17 bytes as
/// 7-bit digits then the length (5 bits: under 2^124), other texts of up to
/// 15 bytes as 8-bit digits then the length (4 bits), plus 2^126, which no
/// ASCII packing reaches. The length keeps `"A"` apart from `"\0A"`. A
/// longer text is `UNPACKABLE`.
pub fn pack(text: &[u8]) -> i128 {
    if text.len() <= 17 && text.is_ascii() {
        let digits = text
            .iter()
            .fold(0i128, |packed, byte| (packed << 7) | i128::from(*byte));
        (digits << 5) | text.len() as i128
    } else if text.len() <= 15 {
        let digits = text
            .iter()
            .fold(0i128, |packed, byte| (packed << 8) | i128::from(*byte));
        (1 << 126) | (digits << 4) | text.len() as i128
    } else {
        UNPACKABLE
    }
}

/// The text `pack` made `packed` from (None for `UNPACKABLE` or a number
/// no text packs into).
pub fn unpack(packed: i128) -> Option<String> {
    let (digits, length, bits) = if packed >= 1 << 126 {
        ((packed - (1 << 126)) >> 4, (packed & 15) as usize, 8)
    } else if packed >= 0 {
        (packed >> 5, (packed & 31) as usize, 7)
    } else {
        return None;
    };
    let mask = (1i128 << bits) - 1;
    let bytes: Vec<u8> = (0..length)
        .rev()
        .map(|i| ((digits >> (i * bits)) & mask) as u8)
        .collect();
    String::from_utf8(bytes)
        .ok()
        .filter(|text| pack(text.as_bytes()) == packed)
}

/// Whether a packed column holds a text too long to pack.
pub fn any_unpackable(packed: &[i128], valid: Option<&Bitmap>) -> bool {
    packed
        .iter()
        .enumerate()
        .any(|(i, value)| *value == UNPACKABLE && valid.is_none_or(|v| v.get_bit(i)))
}

/// A key column (`scan::key_of`) as text: packed numbers unpacked, text
/// as it is.
pub fn decode(key: &Column) -> PolarsResult<Column> {
    if key.dtype() != &DataType::Int128 {
        return Ok(key.clone());
    }
    let texts: StringChunked = key
        .i128()?
        .iter()
        .map(|packed| packed.and_then(unpack))
        .collect();
    Ok(texts.with_name(key.name().clone()).into_column())
}

/// `_opskpi_pack(text)`: `pack` as a `HUGEINT` (NULL for NULL).
struct PackFn;

impl VScalar for PackFn {
    type State = ();
    fn invoke(_: &(), input: &mut DataChunkHandle, output: &mut dyn WritableVector) -> CallResult {
        // A HUGEINT is stored as a 128-bit integer.
        read_in_place::<i128>(input, output, |text| Some(pack(text)))
    }
    fn signatures() -> Vec<ScalarFunctionSignature> {
        vec![ScalarFunctionSignature::exact(
            vec![LogicalTypeHandle::from(LogicalTypeId::Varchar)],
            LogicalTypeHandle::from(LogicalTypeId::Hugeint),
        )]
    }
}

/// Registers `_opskpi_pack` with the database of `conn` (its other
/// connections see it too).
pub fn register(conn: &Connection) -> duckdb::Result<()> {
    conn.register_scalar_function::<PackFn>(FUNCTION)
}

/// Whole-number codes of packed texts (missing where `valid` says so):
/// equal texts get equal codes, a missing text a missing code; None when a
/// text could not be packed. Values in ascending order (order ids usually
/// are) are numbered by runs, and the codes are flagged sorted for Polars;
/// others that span less than 2^64 (ids of one pattern, such as
/// `C00091040`, differ only in their last characters) are their distance
/// from the smallest, with no hashing at all; any others are numbered
/// through one hash map.
pub fn codes(packed: &[i128], valid: Option<&Bitmap>, name: PlSmallStr) -> Option<Coded> {
    let values = || {
        packed
            .iter()
            .enumerate()
            .map(move |(i, value)| valid.is_none_or(|v| v.get_bit(i)).then_some(*value))
    };
    let mut previous = None;
    let mut ascending = true;
    let (mut smallest, mut largest) = (i128::MAX, 0);
    for value in values().flatten() {
        if value == UNPACKABLE {
            return None;
        }
        ascending &= previous <= Some(value);
        previous = Some(value);
        smallest = smallest.min(value);
        largest = largest.max(value);
    }
    let mut numbered = vec![0u64; packed.len()];
    let mut base = None;
    if ascending {
        let mut code = 0u64;
        let mut previous = None;
        for (value, numbered) in values().zip(numbered.iter_mut()) {
            let Some(value) = value else { continue };
            if previous.is_some_and(|p| p != value) {
                code += 1;
            }
            *numbered = code;
            previous = Some(value);
        }
    } else if largest - smallest <= i128::from(u64::MAX) {
        base = Some(smallest);
        for (value, numbered) in values().zip(numbered.iter_mut()) {
            if let Some(value) = value {
                *numbered = (value - smallest) as u64;
            }
        }
    } else {
        let mut seen: HashMap<i128, u64, foldhash::fast::FixedState> =
            HashMap::with_hasher(foldhash::fast::FixedState::default());
        for (value, numbered) in values().zip(numbered.iter_mut()) {
            let Some(value) = value else { continue };
            let next = seen.len() as u64;
            *numbered = *seen.entry(value).or_insert(next);
        }
    }
    let nulls = valid.map_or(0, Bitmap::unset_bits);
    let present = values().map(|value| value.is_some());
    let mut codes = super::scan::code_column(name, numbered, nulls, present);
    if ascending && nulls == 0 {
        codes.set_sorted_flag(polars::series::IsSorted::Ascending);
    }
    Some(Coded {
        codes: codes.into_series().into(),
        base,
    })
}

/// Codes, and the packed number of code 0 when each code is its text's
/// distance from it (`code_of_key` then codes texts of another table alike).
pub struct Coded {
    pub codes: Column,
    pub base: Option<i128>,
}

/// The code a packed `key` has in a column coded by distance from `base`
/// (None: no text of that column has it — outside the codes' range).
pub fn code_of_key(key: i128, base: i128) -> Option<u64> {
    key.checked_sub(base).and_then(|d| u64::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packings worked out by hand, digit by digit.
    #[test]
    fn packs_digits_then_length() {
        assert_eq!(pack(b""), 0);
        // 'A' = 65: 65·32 + 1.
        assert_eq!(pack(b"A"), 2081);
        // NUL then 'A': (0·128 + 65)·32 + 2 — not the same as "A".
        assert_eq!(pack(b"\0A"), 2082);
        // "C1" = 67, 49: (67·128 + 49)·32 + 2.
        assert_eq!(pack(b"C1"), (67 * 128 + 49) * 32 + 2);
        // 17 ASCII bytes fit; 18 do not, and are not UTF-8 of 15 or less.
        assert!(pack(&[b'9'; 17]) > 0);
        assert!(pack(&[b'9'; 17]) < 1 << 124);
        assert_eq!(pack(&[b'9'; 18]), UNPACKABLE);
        // "王" = E7 8E 8B: 8-bit digits, length 3, and 2^126.
        let king = "王".as_bytes();
        assert_eq!(
            pack(king),
            (1 << 126) | (((0xE7 * 256 + 0x8E) * 256 + 0x8B) << 4) | 3
        );
        // Five CJK characters are 15 bytes and fit; six do not.
        assert!(pack("台北市大安".as_bytes()) > 1 << 126);
        assert_eq!(pack("台北市大安區".as_bytes()), UNPACKABLE);
        // Back: 2081 is "A"; no text for UNPACKABLE, nor for 2080 ("A"
        // with length 0: digits beyond the length).
        assert_eq!(unpack(2081).as_deref(), Some("A"));
        assert_eq!(unpack(2082).as_deref(), Some("\0A"));
        assert_eq!(unpack(UNPACKABLE), None);
        assert_eq!(unpack(2080), None);
    }

    /// One number per text and a different one for a different text, over
    /// every text of up to three bytes from a small alphabet that mixes
    /// both packings (ASCII, NUL, and a two-byte character).
    #[test]
    fn different_texts_pack_differently() {
        let alphabet: [&[u8]; 5] = [b"\0", b"A", b"z", b"\x7f", "é".as_bytes()];
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..3 {
            let longer: Vec<Vec<u8>> = texts
                .iter()
                .flat_map(|text| {
                    alphabet.iter().map(move |piece| {
                        let mut text = text.clone();
                        text.extend_from_slice(piece);
                        text
                    })
                })
                .collect();
            texts.extend(longer);
        }
        texts.sort();
        texts.dedup();
        // 1 + 5 + 25 + 125 texts of up to three pieces.
        assert_eq!(texts.len(), 156);
        let mut packed: Vec<i128> = texts.iter().map(|t| pack(t)).collect();
        assert!(!packed.contains(&UNPACKABLE));
        // And each unpacks to its text.
        for (text, value) in texts.iter().zip(&packed) {
            assert_eq!(
                unpack(*value).as_deref().map(str::as_bytes),
                Some(&text[..])
            );
        }
        packed.sort_unstable();
        packed.dedup();
        assert_eq!(packed.len(), 156);
    }

    fn coded(packed: &[Option<i128>]) -> (Vec<Option<u64>>, bool) {
        let values: Vec<i128> = packed.iter().map(|v| v.unwrap_or(0)).collect();
        let valid: Bitmap = packed.iter().map(Option::is_some).collect();
        match codes(&values, Some(&valid), "id:code".into()) {
            Some(Coded { codes, .. }) => {
                let sorted = codes.as_materialized_series().is_sorted_flag()
                    == polars::series::IsSorted::Ascending;
                (codes.u64().unwrap().iter().collect(), sorted)
            }
            None => (Vec::new(), false),
        }
    }

    /// In order: numbered by runs, flagged sorted (not with a gap, which
    /// Polars would not take as sorted). Out of order: the distance from
    /// the smallest, or over a span of 2^64 or more, numbered in order of
    /// first sight. Unpackable: no codes.
    #[test]
    fn codes_number_equal_values_alike() {
        assert_eq!(
            coded(&[Some(5), Some(5), Some(9), Some(12), Some(12)]),
            (vec![Some(0), Some(0), Some(1), Some(2), Some(2)], true)
        );
        assert_eq!(
            coded(&[Some(9), Some(5), None, Some(9), Some(12), Some(5)]),
            (
                vec![Some(4), Some(0), None, Some(4), Some(7), Some(0)],
                false
            )
        );
        assert_eq!(
            coded(&[Some(5), None, Some(5), Some(7)]),
            (vec![Some(0), None, Some(0), Some(1)], false)
        );
        // 2^64 + 5 − 5 is one past the largest u64: hashed.
        let far = (1i128 << 64) + 5;
        assert_eq!(
            coded(&[Some(far), Some(5), None, Some(far), Some(7)]),
            (vec![Some(0), Some(1), None, Some(0), Some(2)], false)
        );
        // One less still spans under 2^64.
        let near = far - 1;
        assert_eq!(
            coded(&[Some(near), Some(5), Some(near)]),
            (vec![Some(u64::MAX), Some(0), Some(u64::MAX)], false)
        );
        assert_eq!(coded(&[Some(5), Some(UNPACKABLE)]), (Vec::new(), false));
    }

    /// Another table's packed text gets the code a column coded by distance
    /// gives it: its distance from the base, within the codes' range.
    #[test]
    fn keys_take_the_codes_of_a_column_coded_by_distance() {
        // Coded by distance from 5: 9 is code 4, 12 code 7 (see above).
        let values = [9, 5, 12];
        let coded = codes(&values, None, "id:code".into()).unwrap();
        assert_eq!(coded.base, Some(5));
        assert_eq!(code_of_key(12, 5), Some(7));
        assert_eq!(code_of_key(5, 5), Some(0));
        assert_eq!(code_of_key(4, 5), None);
        let far = 5 + i128::from(u64::MAX);
        assert_eq!(code_of_key(far, 5), Some(u64::MAX));
        assert_eq!(code_of_key(far + 1, 5), None);
        assert_eq!(code_of_key(i128::MIN, 5), None);
        // Runs and hashed codes have no base.
        assert_eq!(codes(&[5, 5, 9], None, "id".into()).unwrap().base, None);
        let wide = [1i128 << 100, 5];
        assert_eq!(codes(&wide, None, "id".into()).unwrap().base, None);
    }
}
