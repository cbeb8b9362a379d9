//! What the person at a terminal sees while a command works: a spinner
//! with the step, a bar with rows and rows per second while a file is
//! checked; silent in pipelines (no terminal) and with `--quiet`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::ingest::read::RowCount;
use crate::ingest::Report;

/// A spinner on a terminal; silent in pipelines and with --quiet.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// The rows of the file being checked, when its reader counted them.
    rows: std::sync::Mutex<Option<RowCount>>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                rows: Default::default(),
            };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}").expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar: Some(bar),
            rows: Default::default(),
        }
    }

    pub fn step(&self, message: &str) {
        if let Ok(mut rows) = self.rows.lock() {
            *rows = None;
        }
        if let Some(bar) = &self.bar {
            // Back from a row count to a spinner.
            bar.set_length(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}")
                    .expect("valid template"),
            );
            bar.set_message(message.to_string());
        }
    }

    /// Ingest's progress: steps as the spinner's message, a file's check as a
    /// bar — with its rows and rows per second when the reader could count
    /// them (`≈`: a CSV's estimate); in a pipeline, the steps as plain lines
    /// on stderr.
    pub fn ingest(&self, report: Report, quiet: bool) {
        let rows = self.rows.lock().ok().and_then(|rows| *rows);
        match (report, &self.bar) {
            (Report::Step(message), Some(_)) => self.step(message),
            (Report::Step(message), None) if !quiet => eprintln!("{message}"),
            (Report::Rows(count), Some(bar)) if count.rows > 0 => {
                if let Ok(mut rows) = self.rows.lock() {
                    *rows = Some(count);
                }
                let about = if count.exact { "" } else { "≈" };
                bar.set_style(
                    ProgressStyle::with_template(&format!(
                        "{{spinner}} {{elapsed:>3}} {{msg}} [{{bar:30}}] {{percent:>3}}% \
                         {about}{{human_pos}}/{about}{{human_len}} rows, {about}{{per_sec:0}}"
                    ))
                    .expect("valid template"),
                );
                bar.set_length(count.rows);
                bar.set_position(0);
                bar.reset_eta();
            }
            (Report::Fraction(fraction), Some(bar)) if rows.is_some() => {
                let total = rows.map_or(0, |r| r.rows) as f64;
                bar.set_position((fraction.clamp(0.0, 1.0) * total) as u64);
            }
            (Report::Fraction(fraction), Some(bar)) => {
                if bar.length() != Some(1000) {
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} {elapsed:>3} {msg} [{bar:30}] {percent:>3}%",
                        )
                        .expect("valid template"),
                    );
                    bar.set_length(1000);
                }
                bar.set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
            }
            _ => {}
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// A line for the person at the terminal, kept clear of the spinner;
    /// nothing in pipelines or with --quiet.
    pub fn say(&self, line: &str) {
        if let Some(bar) = &self.bar {
            bar.suspend(|| eprintln!("{line}"));
        }
    }
}
