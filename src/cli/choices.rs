//! How the command line offers the library's choices: each enum's values
//! with their help, as clap lists them under `--help`. The library's enums
//! know their names; only here do they meet clap.

use clap::builder::PossibleValue;
use clap::ValueEnum;

use crate::config::EngineKind;
use crate::export::ExportFormat;
use crate::jobs::ReportFormat;
use crate::pipeline::LogFormat;
use crate::report::pdf::{Orientation, Paper};

/// A value named `name`, with `help` under `--help` when there is one.
fn value(name: &'static str, help: Option<&'static str>) -> Option<PossibleValue> {
    let value = PossibleValue::new(name);
    Some(match help {
        Some(help) => value.help(help),
        None => value,
    })
}

impl ValueEnum for ExportFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            ExportFormat::Table,
            ExportFormat::Csv,
            ExportFormat::Json,
            ExportFormat::Ndjson,
            ExportFormat::Parquet,
            ExportFormat::Xlsx,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            ExportFormat::Table => Some(
                "Aligned columns for a terminal (`sql` and `query`: the first 100 rows unless --limit)",
            ),
            ExportFormat::Csv => None,
            ExportFormat::Json => {
                Some("An array of objects; numbers as JSON numbers with every digit")
            }
            ExportFormat::Ndjson => Some("One JSON object per line (newline-delimited JSON)"),
            ExportFormat::Parquet => {
                Some("Apache Parquet (typed columns, exact decimals; needs --out)")
            }
            ExportFormat::Xlsx => {
                Some("An Excel workbook (a further sheet every 1,048,575 rows; needs --out)")
            }
        };
        value(self.name(), help)
    }
}

impl ValueEnum for EngineKind {
    fn value_variants<'a>() -> &'a [Self] {
        &EngineKind::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            EngineKind::Duckdb => "SQL in the DuckDB warehouse (the default)",
            EngineKind::Polars => "Polars lazy frames over the warehouse's tables",
            EngineKind::Spark => "the same SQL on Apache Spark (Spark Connect) over the lake",
        };
        value(self.name(), Some(help))
    }
}

impl ValueEnum for ReportFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[ReportFormat::Html, ReportFormat::Pdf]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        value(self.extension(), None)
    }
}

impl ValueEnum for Paper {
    fn value_variants<'a>() -> &'a [Self] {
        &[Paper::A4, Paper::A3, Paper::Letter, Paper::Legal]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        value(self.name(), None)
    }
}

impl ValueEnum for Orientation {
    fn value_variants<'a>() -> &'a [Self] {
        &[Orientation::Portrait, Orientation::Landscape]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        value(self.name(), None)
    }
}

impl ValueEnum for LogFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[LogFormat::Text, LogFormat::Json]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        value(self.name(), None)
    }
}
