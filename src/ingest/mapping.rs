//! Which of a source's columns feeds each canonical column, and how: a
//! declared name, the canonical name itself, the built-in dictionary of
//! header names (`dictionary.toml`), a constant, or an expression over the
//! file's numeric columns. Also the dictionary's canonical words
//! (`門市` → `store`). Every choice is recorded with its origin, so that
//! `ingest --dry-run` can say where each column came from.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::expr::Expr;
use super::values::fold;
use crate::config::{ColumnDetail, Source};
use crate::error::{Error, Result};
use crate::model::{Column, Table};

#[derive(Debug, Deserialize)]
struct DictionaryFile {
    headers: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    words: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// The built-in dictionary, folded for lookup.
struct Dictionary {
    /// table (or `common`) → canonical column → folded header names, in order.
    headers: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// word set (`channel`, `sales.channel`) → folded word → canonical word.
    words: BTreeMap<String, BTreeMap<String, String>>,
}

fn dictionary() -> &'static Dictionary {
    static DICTIONARY: OnceLock<Dictionary> = OnceLock::new();
    DICTIONARY.get_or_init(|| {
        let file: DictionaryFile = toml::from_str(include_str!("dictionary.toml"))
            .expect("the built-in dictionary parses (a unit test checks it)");
        let headers = file
            .headers
            .into_iter()
            .map(|(table, columns)| {
                let columns = columns
                    .into_iter()
                    .map(|(column, names)| (column, names.iter().map(|n| fold(n)).collect()))
                    .collect();
                (table, columns)
            })
            .collect();
        let words = file
            .words
            .into_iter()
            .map(|(set, canonical)| {
                let mut folded = BTreeMap::new();
                for (word, spellings) in canonical {
                    folded.insert(fold(&word), word.clone());
                    for spelling in spellings {
                        folded.insert(fold(&spelling), word.clone());
                    }
                }
                (set, folded)
            })
            .collect();
        Dictionary { headers, words }
    })
}

/// The name of the word set for a column that takes fixed words.
pub fn word_set(table: &Table, column: &Column) -> String {
    format!("{}.{}", table.name, column.name)
}

/// The canonical word the dictionary gives for `text` in `set`
/// (`sales.channel`, falling back to the column's name, `channel`).
pub fn canonical_word(set: &str, text: &str) -> Option<&'static str> {
    let words = &dictionary().words;
    let folded = fold(text);
    let column = set.rsplit('.').next().unwrap_or(set);
    words
        .get(set)
        .or_else(|| words.get(column))
        .and_then(|map| map.get(&folded))
        .map(String::as_str)
}

/// The dictionary's header names for `table.column`, table-specific first.
fn header_names(table: &str, column: &str) -> Vec<&'static String> {
    let headers = &dictionary().headers;
    [table, "common"]
        .iter()
        .filter_map(|scope| headers.get(*scope).and_then(|columns| columns.get(column)))
        .flatten()
        .collect()
}

/// Whether a header cell names one of `table`'s columns for this source: a
/// declared name, a canonical name, or a dictionary name. Header detection
/// counts these.
pub fn is_known_header(table: &Table, source: &Source, cell: &str) -> bool {
    let folded = fold(cell);
    if folded.is_empty() {
        return false;
    }
    let declared = source
        .columns
        .values()
        .filter_map(|spec| spec.detail().column)
        .any(|name| fold(&name) == folded);
    declared
        || table.columns.iter().any(|column| {
            fold(column.name) == folded
                || header_names(table.name, column.name)
                    .iter()
                    .any(|name| **name == folded)
        })
}

/// Where a canonical column's values come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// The file's column, named in `[sources.columns]`.
    Declared(usize),
    /// The file's column of the same (folded) name.
    SameName(usize),
    /// The file's column, by the built-in dictionary.
    Dictionary(usize),
    Constant(String),
    Expression(Expr),
    /// Not in the file: the column stays empty.
    Missing,
    /// Made by opskpi (`generate = "per_order"`).
    Generated,
}

impl Origin {
    /// The file column this origin reads, if it reads exactly one.
    pub fn file_column(&self) -> Option<usize> {
        match self {
            Origin::Declared(i) | Origin::SameName(i) | Origin::Dictionary(i) => Some(*i),
            _ => None,
        }
    }

    /// How the dry run says it.
    pub fn describe(&self, headers: &[String]) -> String {
        match self {
            Origin::Declared(i) => format!("`{}` (declared)", headers[*i]),
            Origin::SameName(i) => format!("`{}`", headers[*i]),
            Origin::Dictionary(i) => format!("`{}` (dictionary)", headers[*i]),
            Origin::Constant(value) => format!("constant `{value}`"),
            Origin::Expression(expr) => format!("expression `{}`", expr.display(headers)),
            Origin::Missing => "not in the source".into(),
            Origin::Generated => {
                "generated: the line's position within its order, in file order".into()
            }
        }
    }
}

/// One canonical column and where it comes from.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub column: &'static Column,
    pub origin: Origin,
    /// The project's own words for this column (file word → canonical word).
    pub values: BTreeMap<String, String>,
}

/// The file column called `name` (exactly, then folded).
pub(super) fn find(headers: &[String], name: &str) -> Option<usize> {
    headers
        .iter()
        .position(|header| header == name)
        .or_else(|| {
            let folded = fold(name);
            headers.iter().position(|header| fold(header) == folded)
        })
}

/// A file with no columns and no rows (a JSON array `[]`): every column
/// missing, which no row can break.
pub fn nothing(table: &'static Table) -> Vec<Mapped> {
    table
        .columns
        .iter()
        .map(|column| Mapped {
            column,
            origin: Origin::Missing,
            values: BTreeMap::new(),
        })
        .collect()
}

/// Maps every column of `table` onto the source's `headers`.
pub fn map(
    table: &'static Table,
    source: &Source,
    headers: &[String],
    file: &str,
) -> Result<Vec<Mapped>> {
    let mut mapped = Vec::with_capacity(table.columns.len());
    let mut used = vec![false; headers.len()];
    // Declared columns first, so the dictionary never takes a column the
    // project assigned elsewhere.
    let details: BTreeMap<&str, ColumnDetail> = source
        .columns
        .iter()
        .map(|(name, spec)| (name.as_str(), spec.detail()))
        .collect();
    for detail in details.values() {
        if let Some(name) = &detail.column {
            if let Some(i) = find(headers, name) {
                used[i] = true;
            }
        }
    }
    for column in table.columns {
        let detail = details.get(column.name).cloned().unwrap_or_default();
        let origin = if let Some(name) = &detail.column {
            match find(headers, name) {
                Some(i) => Origin::Declared(i),
                None => {
                    return Err(Error::config_hint(
                        format!(
                            "`{file}` has no column `{name}` (mapped to `{}.{}`)",
                            table.name, column.name
                        ),
                        format!("its columns are: {}", list(headers)),
                    ))
                }
            }
        } else if let Some(value) = &detail.constant {
            Origin::Constant(value.clone())
        } else if detail.generate.is_some() {
            Origin::Generated
        } else if let Some(text) = &detail.expr {
            let expr = Expr::parse(text, headers).map_err(|message| {
                Error::config_hint(
                    format!("the expression for `{}.{}` in the source `{file}`: {message}", table.name, column.name),
                    format!(
                        "write arithmetic (+ - * and brackets) over the file's columns, quoting names with spaces in backticks; its columns are: {}",
                        list(headers)
                    ),
                )
            })?;
            Origin::Expression(expr)
        } else {
            match find_free(
                headers,
                &used,
                column.name,
                &header_names(table.name, column.name),
            ) {
                Some((i, same)) => {
                    if let Some(j) = repeated(headers, i) {
                        return Err(Error::config_hint(
                            format!(
                                "`{file}` has the column `{}` twice (columns {} and {}), so `{}.{}` could be read from either",
                                headers[i],
                                i + 1,
                                j + 1,
                                table.name,
                                column.name
                            ),
                            format!(
                                "keep one in the export, or say which: `[sources.columns] {} = \"{}\"` reads the second",
                                column.name, headers[j]
                            ),
                        ));
                    }
                    used[i] = true;
                    if same {
                        Origin::SameName(i)
                    } else {
                        Origin::Dictionary(i)
                    }
                }
                None => Origin::Missing,
            }
        };
        match origin {
            Origin::Dictionary(i) => {
                super::tax::check(table.name, column.name, headers, Some(i), file)?
            }
            Origin::Missing => super::tax::check(table.name, column.name, headers, None, file)?,
            _ => {}
        }
        if origin == Origin::Missing && !column.nullable {
            return Err(Error::config_hint(
                format!(
                    "`{file}` has no column for `{}.{}`, which is required",
                    table.name, column.name
                ),
                format!(
                    "its columns are: {}; map one with `[sources.columns] {} = \"…\"` in opskpi.toml",
                    list(headers),
                    column.name
                ),
            ));
        }
        mapped.push(Mapped {
            column,
            origin,
            values: detail.values,
        });
    }
    Ok(mapped)
}

/// The first unused header equal to the canonical name (`true`) or, failing
/// that, to a dictionary name in the dictionary's order (`false`).
fn find_free(
    headers: &[String],
    used: &[bool],
    canonical: &str,
    names: &[&String],
) -> Option<(usize, bool)> {
    let folded: Vec<String> = headers.iter().map(|h| fold(h)).collect();
    let free = |target: &str| {
        folded
            .iter()
            .enumerate()
            .position(|(i, header)| !used[i] && header == target)
    };
    if let Some(i) = free(&fold(canonical)) {
        return Some((i, true));
    }
    names.iter().find_map(|name| free(name).map(|i| (i, false)))
}

/// Another column of the same name as column `i` (numbered `name (2)`, …
/// by the reader), if the file repeats it.
fn repeated(headers: &[String], i: usize) -> Option<usize> {
    let prefix = format!("{} (", headers[i]);
    headers.iter().position(|header| {
        header.strip_prefix(&prefix).is_some_and(|rest| {
            rest.strip_suffix(')')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

/// The file's columns for a message: `` `a`, `b` ``.
pub(super) fn list(headers: &[String]) -> String {
    headers
        .iter()
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    #[test]
    fn the_dictionary_parses_and_names_real_columns() {
        let file: DictionaryFile = toml::from_str(include_str!("dictionary.toml")).unwrap();
        for (scope, columns) in &file.headers {
            for column in columns.keys() {
                let known = if scope == "common" {
                    model::TABLES.iter().any(|t| t.column(column).is_some())
                } else {
                    model::table(scope).and_then(|t| t.column(column)).is_some()
                };
                assert!(known, "{scope}.{column}");
            }
        }
        for (set, words) in &file.words {
            let (table, column) = match set.split_once('.') {
                Some((table, column)) => (Some(table), column),
                None => (None, set.as_str()),
            };
            let allowed: Vec<&str> = model::TABLES
                .iter()
                .filter(|t| table.is_none_or(|name| t.name == name))
                .filter_map(|t| t.column(column))
                .filter_map(|c| match c.ty {
                    model::ColumnType::OneOf(words) => Some(words),
                    _ => None,
                })
                .flatten()
                .copied()
                .collect();
            for word in words.keys() {
                assert!(allowed.contains(&word.as_str()), "{set}: {word}");
            }
        }
    }

    #[test]
    fn words_map_to_canonical_ones() {
        assert_eq!(canonical_word("sales.channel", "門市"), Some("store"));
        assert_eq!(canonical_word("sales.channel", "網購"), Some("online"));
        assert_eq!(canonical_word("sales.channel", "經銷商"), Some("dealer"));
        assert_eq!(canonical_word("sales.channel", "  Online "), Some("online"));
        assert_eq!(
            canonical_word("service_tickets.channel", "電話"),
            Some("hotline")
        );
        assert_eq!(
            canonical_word("service_tickets.channel", "線上"),
            Some("online")
        );
        assert_eq!(canonical_word("customers.segment", "零售"), Some("retail"));
        assert_eq!(canonical_word("sales.channel", "carrier pigeon"), None);
    }

    #[test]
    fn an_erp_export_needs_no_mapping() {
        let table = model::table("sales").unwrap();
        let headers: Vec<String> = [
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
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let source = Source::new("sales", "sales.csv");
        let mapped = map(table, &source, &headers, "sales.csv").unwrap();
        let origin = |name: &str| {
            mapped
                .iter()
                .find(|m| m.column.name == name)
                .unwrap()
                .origin
                .clone()
        };
        assert_eq!(origin("order_id"), Origin::Dictionary(0));
        assert_eq!(origin("order_date"), Origin::Dictionary(2));
        assert_eq!(origin("net_amount"), Origin::Dictionary(9));
        assert_eq!(origin("cost_amount"), Origin::Dictionary(10));
        assert_eq!(origin("salesperson_id"), Origin::Missing);
    }

    /// The canonical column a file's lone `header` feeds, as `map` finds it.
    fn claimed_by(table: &str, header: &str) -> Option<&'static str> {
        let table = model::table(table).unwrap();
        let headers = vec![header.to_string()];
        table
            .columns
            .iter()
            .find(|column| {
                find_free(
                    &headers,
                    &[false],
                    column.name,
                    &header_names(table.name, column.name),
                )
                .is_some()
            })
            .map(|column| column.name)
    }

    /// The words of Taiwan's and mainland China's ERP exports (鼎新/Digiwin,
    /// 正航, SAP's Chinese labels, 用友, 金蝶) and of public datasets, one
    /// by one: which canonical column each feeds.
    #[test]
    fn erp_vocabularies_map_word_by_word() {
        let cases: &[(&str, &str, &str)] = &[
            // Costs.
            ("sales", "銷售成本", "cost_amount"),
            ("sales", "銷貨成本", "cost_amount"),
            ("sales", "成本金額", "cost_amount"),
            ("sales", "進貨成本", "cost_amount"),
            ("sales", "销售成本", "cost_amount"),
            ("sales", "出库成本", "cost_amount"),
            ("sales", "成本合計", "cost_amount"),
            ("sales", "Cost of Sales", "cost_amount"),
            // Amounts before tax; plain amounts.
            ("sales", "未稅金額", "net_amount"),
            ("sales", "本幣未稅金額", "net_amount"),
            ("sales", "原幣未稅金額", "net_amount"),
            ("sales", "不含稅金額", "net_amount"),
            ("sales", "無稅金額", "net_amount"),
            ("sales", "无税金额", "net_amount"),
            ("sales", "本币无税金额", "net_amount"),
            ("sales", "不含税金额", "net_amount"),
            ("sales", "淨值", "net_amount"),
            ("sales", "净值", "net_amount"),
            ("sales", "銷售金額", "net_amount"),
            ("sales", "金額", "net_amount"),
            ("sales", "金额", "net_amount"),
            ("sales", "Net Value", "net_amount"),
            // Tax-included amounts feed nothing.
            ("sales", "含稅金額", ""),
            ("sales", "价税合计", ""),
            ("sales", "稅額", ""),
            // Units.
            ("sales", "數量", "quantity"),
            ("sales", "件數", "quantity"),
            ("sales", "銷貨數量", "quantity"),
            ("sales", "出貨數量", "quantity"),
            ("sales", "实发数量", "quantity"),
            ("sales", "发货数量", "quantity"),
            ("sales", "Quantity", "quantity"),
            // Dates of document, invoice and delivery.
            ("sales", "單據日期", "order_date"),
            ("sales", "单据日期", "order_date"),
            ("sales", "凭证日期", "order_date"),
            ("sales", "開票日期", "order_date"),
            ("sales", "发票日期", "order_date"),
            ("sales", "銷貨日期", "order_date"),
            ("sales", "InvoiceDate", "order_date"),
            ("deliveries", "預計交貨日", "promised_on"),
            ("deliveries", "预计交货日期", "promised_on"),
            ("deliveries", "出貨日期", "shipped_at"),
            ("deliveries", "发货日期", "shipped_at"),
            ("deliveries", "簽收日期", "delivered_at"),
            ("deliveries", "order_estimated_delivery_date", "promised_on"),
            (
                "deliveries",
                "order_delivered_customer_date",
                "delivered_at",
            ),
            ("deliveries", "order_delivered_carrier_date", "shipped_at"),
            ("deliveries", "訂單狀態", "status"),
            ("deliveries", "order_status", "status"),
            ("purchase_orders", "單據日期", "ordered_on"),
            ("purchase_orders", "預定交貨日", "promised_on"),
            ("purchase_orders", "交货日期", "promised_on"),
            ("purchase_orders", "入庫日期", "received_on"),
            ("purchase_orders", "入库日期", "received_on"),
            // Documents, customers, products.
            ("sales", "單據編號", "order_id"),
            ("sales", "单据编号", "order_id"),
            ("sales", "銷貨單號", "order_id"),
            ("sales", "销售订单号", "order_id"),
            ("sales", "發票號碼", "order_id"),
            ("sales", "序號", "line_no"),
            ("sales", "行项目", "line_no"),
            ("sales", "order_item_id", "line_no"),
            ("sales", "客戶代號", "customer_id"),
            ("sales", "客戶代碼", "customer_id"),
            ("sales", "客户编码", "customer_id"),
            ("sales", "售達方", "customer_id"),
            ("sales", "品號", "sku"),
            ("sales", "料號", "sku"),
            ("sales", "料件編號", "sku"),
            ("sales", "存货编码", "sku"),
            ("sales", "物料编码", "sku"),
            ("sales", "物料代码", "sku"),
            ("sales", "物料", "sku"),
            ("sales", "StockCode", "sku"),
            ("sales", "業務員", "salesperson_id"),
            ("sales", "Store", "store_id"),
            // Purchases.
            ("purchase_orders", "採購單號", "po_id"),
            ("purchase_orders", "采购订单号", "po_id"),
            ("purchase_orders", "數量", "qty_ordered"),
            ("purchase_orders", "入庫數量", "qty_received"),
            ("purchase_orders", "验收数量", "qty_received"),
            ("purchase_orders", "驗退數量", "qty_rejected"),
            ("purchase_orders", "未稅單價", "unit_cost"),
            ("purchase_orders", "无税单价", "unit_cost"),
            ("purchase_orders", "單價", "unit_cost"),
            ("purchase_orders", "含稅單價", ""),
            ("purchase_orders", "供應商編號", "supplier_id"),
            // Inventory.
            ("inventory_snapshots", "現存量", "on_hand_qty"),
            ("inventory_snapshots", "现存数量", "on_hand_qty"),
            ("inventory_snapshots", "期末數量", "on_hand_qty"),
            ("inventory_snapshots", "庫別", "location_id"),
            ("inventory_snapshots", "仓库编码", "location_id"),
            ("inventory_snapshots", "截止日期", "snapshot_date"),
            // Products.
            ("products", "存貨名稱", "name"),
            ("products", "物料名称", "name"),
            ("products", "零售價", "list_price"),
            ("products", "標準成本", "unit_cost"),
        ];
        let mut wrong = Vec::new();
        for (table, header, column) in cases {
            let found = claimed_by(table, header).unwrap_or("");
            if found != *column {
                wrong.push(format!(
                    "{table}: `{header}` → `{found}`, expected `{column}`"
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn before_or_after_tax_is_asked_not_guessed() {
        let table = model::table("sales").unwrap();
        let source = Source::new("sales", "sales.csv");
        let base = ["單號", "序號", "單據日期", "品號", "數量"];
        let try_map = |extra: &[&str]| {
            let mut all: Vec<&str> = base.to_vec();
            all.extend_from_slice(extra);
            let headers = headers(&all);
            map(table, &source, &headers, "sales.csv").map(|mapped| {
                let net = mapped
                    .iter()
                    .find(|m| m.column.name == "net_amount")
                    .unwrap();
                net.origin.file_column().map(|i| headers[i].clone())
            })
        };
        // A plain amount beside the tax: before or after it? Asked.
        let error = try_map(&["金額", "稅額"]).unwrap_err().to_string();
        assert!(error.contains("is `金額` before or after tax"), "{error}");
        assert!(error.contains("the tax column `稅額`"), "{error}");
        assert!(error.contains("net_amount = \"金額\""), "{error}");
        // A plain amount beside a tax-included one: asked.
        let error = try_map(&["金額", "價稅合計"]).unwrap_err().to_string();
        assert!(error.contains("tax-included `價稅合計`"), "{error}");
        // Only a tax-included amount: asked, not taken.
        let error = try_map(&["含稅金額"]).unwrap_err().to_string();
        assert!(
            error.contains("only a tax-included amount (`含稅金額`)"),
            "{error}"
        );
        // Both, named: the one before tax.
        assert_eq!(
            try_map(&["含稅金額", "稅額", "未稅金額"]).unwrap(),
            Some("未稅金額".to_string())
        );
        assert_eq!(
            try_map(&["价税合计", "税额", "无税金额"]).unwrap(),
            Some("无税金额".to_string())
        );
        // A plain amount and no tax anywhere: the amount.
        assert_eq!(try_map(&["金額"]).unwrap(), Some("金額".to_string()));
        // Declared: never second-guessed.
        let declared = Source::new("sales", "sales.csv").map("net_amount", "金額");
        let mut all: Vec<&str> = base.to_vec();
        all.extend_from_slice(&["金額", "稅額"]);
        assert!(map(table, &declared, &headers(&all), "sales.csv").is_ok());
        // A purchase's unit cost alike.
        let po = model::table("purchase_orders").unwrap();
        let source = Source::new("purchase_orders", "po.csv");
        let error = map(
            po,
            &source,
            &headers(&[
                "採購單號",
                "項次",
                "廠商編號",
                "品號",
                "採購日期",
                "預交日期",
                "採購數量",
                "單價",
                "含稅單價",
            ]),
            "po.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("is `單價` before or after tax"), "{error}");
    }
}
