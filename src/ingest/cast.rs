//! The SQL that reads a raw value as its canonical type: DuckDB's own casts
//! where they are exact, the value readers (`values`, registered by `udf`)
//! for everything written as people write it, and NULL for what cannot be
//! read — the stage turns a NULL where a value was into a rule broken.

use super::udf::{date_order_name, EXACT_SCALES};
use crate::config::DateOrder;
use crate::model::ColumnType;

/// SQL text with its positional parameters, built in order.
#[derive(Default)]
pub(super) struct Sql {
    pub(super) text: String,
    pub(super) params: Vec<String>,
}

impl Sql {
    pub(super) fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }
    pub(super) fn param(&mut self, value: &str) {
        self.text.push('?');
        self.params.push(value.to_string());
    }
}

/// The decimals a number is parsed to on its way to a column of `ty`.
pub(super) fn scale_of(ty: ColumnType) -> Option<u8> {
    match ty {
        ColumnType::Integer | ColumnType::IntRange(..) => Some(0),
        ColumnType::Decimal(scale) | ColumnType::DecimalRange(scale, ..) => Some(scale),
        _ => None,
    }
}

/// Decimals an expression's inputs keep (an expression's result must still
/// fit its column's scale exactly).
pub(super) const EXPRESSION_SCALE: u8 = 6;

/// Appends `template` to `sql`, each `{v}` standing for the fragment `v`
/// (with its parameters). DuckDB computes a repeated subexpression once.
pub(super) fn put(sql: &mut Sql, template: &str, v: &Sql) {
    let mut rest = template;
    while let Some(at) = rest.find("{v}") {
        sql.push(&rest[..at]);
        sql.push(&v.text);
        sql.params.extend(v.params.iter().cloned());
        rest = &rest[at + 3..];
    }
    sql.push(rest);
}

/// The exact number in text `{v}` at `scale` decimals, or NULL; `BIGINT`
/// at scale 0 with `whole`, else `DECIMAL(18,scale)`. A plain number is
/// read by `_opskpi_exact_{scale}`; `COALESCE` tries the slower readers of
/// `any_number_template` only on the rows it leaves NULL.
pub(super) fn number_template(scale: u8, whole: bool) -> String {
    let slow = any_number_template(scale);
    let slow = if whole {
        format!("CAST({slow} AS BIGINT)")
    } else {
        slow
    };
    // `_opskpi_exact_0` gives BIGINT: a DECIMAL(18,0) column (none in the
    // model) takes the slower readers alone.
    if EXACT_SCALES.contains(&scale) && (whole || scale > 0) {
        format!("COALESCE(_opskpi_exact_{scale}({{v}}), {slow})")
    } else {
        slow
    }
}

/// The exact number in any text `{v}` at `scale` decimals, or NULL: with
/// at most `scale` characters after its first `.` DuckDB's own cast (which
/// tolerates spaces and never rounds under that guard); anything else —
/// separators, currency, full-width digits, more decimals — through the
/// value reader, which refuses what it cannot read exactly. No function of
/// `{v}` is written twice: DuckDB would compute a repeated one for every
/// row ahead of the `COALESCE`, not just for the rows that reach it.
fn any_number_template(scale: u8) -> String {
    format!(
        "COALESCE(CASE WHEN length(split_part({{v}}, '.', 2)) <= {scale} \
         THEN TRY_CAST({{v}} AS DECIMAL(18,{scale})) END, \
         TRY_CAST(_opskpi_number({{v}}, {scale}::INTEGER) AS DECIMAL(18,{scale})))"
    )
}

pub(super) fn is_number_type(ty: &str) -> bool {
    ty.starts_with("DECIMAL")
        || matches!(
            ty,
            "TINYINT"
                | "SMALLINT"
                | "INTEGER"
                | "BIGINT"
                | "HUGEINT"
                | "UTINYINT"
                | "USMALLINT"
                | "UINTEGER"
                | "UBIGINT"
        )
}

/// Whether every value of a DuckDB number type has at most `scale`
/// decimals (an integer type, or `DECIMAL(p,s)` with `s <= scale`).
pub(super) fn within_scale(raw_type: &str, scale: u8) -> bool {
    match raw_type.strip_prefix("DECIMAL(") {
        Some(rest) => rest
            .trim_end_matches(')')
            .split(',')
            .nth(1)
            .and_then(|s| s.trim().parse::<u8>().ok())
            .is_some_and(|decimals| decimals <= scale),
        None => is_number_type(raw_type),
    }
}

/// Whether a typed (Parquet) column can feed a canonical column as it is.
pub(super) fn fits(raw_type: &str, ty: ColumnType) -> bool {
    match ty {
        ColumnType::Date | ColumnType::Month => raw_type == "DATE",
        ColumnType::Timestamp => raw_type == "TIMESTAMP WITH TIME ZONE",
        ColumnType::Integer
        | ColumnType::IntRange(..)
        | ColumnType::Decimal(_)
        | ColumnType::DecimalRange(..) => is_number_type(raw_type),
        ColumnType::Text | ColumnType::OneOf(_) => false,
    }
}

/// Appends SQL turning the raw value `v` into the canonical type, NULL
/// where it cannot. `typed_input`: `v` is already a DATE, timestamp or
/// number (a Parquet column) of this DuckDB type, not text.
#[allow(clippy::too_many_arguments)]
pub(super) fn typed(
    sql: &mut Sql,
    ty: ColumnType,
    v: &Sql,
    set: &str,
    dates: DateOrder,
    offset: i32,
    typed_input: Option<&str>,
) {
    let order = date_order_name(dates);
    let template = match ty {
        ColumnType::Text => "{v}".to_string(),
        ColumnType::OneOf(words) => {
            let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
            format!(
                "CASE WHEN {{v}} IN ({}) THEN {{v}} ELSE _opskpi_word({{v}}, '{set}') END",
                quoted.join(", ")
            )
        }
        ColumnType::Date | ColumnType::Timestamp if typed_input.is_some() => "{v}".to_string(),
        ColumnType::Month if typed_input.is_some() => {
            "CASE WHEN day({v}) = 1 THEN {v} END".to_string()
        }
        // A four-digit year first is the only form DuckDB's cast may take:
        // it would read `105/11/08` as the year 105.
        ColumnType::Date => format!(
            "COALESCE(_opskpi_iso_date({{v}}), CASE WHEN {{v}} LIKE '____-__-__' THEN TRY_CAST({{v}} AS DATE) END, \
             TRY_CAST(_opskpi_date({{v}}, '{order}') AS DATE))"
        ),
        ColumnType::Month => format!(
            "COALESCE(CASE WHEN {{v}} LIKE '____-__-01' THEN TRY_CAST({{v}} AS DATE) END, \
             TRY_CAST(_opskpi_month({{v}}, '{order}') AS DATE))"
        ),
        ColumnType::Timestamp => format!(
            "TRY_CAST(_opskpi_timestamp({{v}}, '{order}', {offset}::INTEGER) AS TIMESTAMPTZ)"
        ),
        ColumnType::Integer
        | ColumnType::IntRange(..)
        | ColumnType::Decimal(_)
        | ColumnType::DecimalRange(..) => {
            let scale = scale_of(ty).expect("a number type");
            match typed_input {
                // An integer, or a decimal with no more decimals than the
                // column keeps: the cast is exact (NULL only past the range).
                Some(raw) if within_scale(raw, scale) => {
                    let target = if scale == 0 {
                        "BIGINT".to_string()
                    } else {
                        format!("DECIMAL(18,{scale})")
                    };
                    format!("TRY_CAST({{v}} AS {target})")
                }
                // More decimals than the column keeps: only if they are zeros.
                Some(_) => {
                    let number = format!(
                        "CASE WHEN {{v}} = round({{v}}, {scale}) THEN TRY_CAST({{v}} AS DECIMAL(18,{scale})) END"
                    );
                    if scale == 0 {
                        format!("CAST({number} AS BIGINT)")
                    } else {
                        number
                    }
                }
                None => number_template(scale, scale == 0),
            }
        }
    };
    put(sql, &template, v);
}
