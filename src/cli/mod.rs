//! The command line: parse (`args`), resolve once (`settings`), run, and turn
//! the outcome into output and an exit code. The only module that touches
//! the terminal, the clock and the process environment.

mod args;
mod settings;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use crate::indicators::Status;
use crate::{output, pipeline, report, sample};
use settings::{Settings, Task};

pub use crate::error::{EXIT_ALERT, EXIT_CHECK, EXIT_INTERNAL, EXIT_USER_ERROR};

pub fn main() -> ExitCode {
    without_huge_pages();
    let cli = args::Cli::parse();
    let outcome = Settings::resolve(cli).and_then(run);
    match outcome {
        Ok(code) => code,
        Err(error) => {
            // Each variant's message already carries its cause.
            let _ = writeln!(std::io::stderr().lock(), "error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// Turns transparent huge pages off for this process (Linux; elsewhere
/// nothing). The allocator asks for huge pages on its large regions, and
/// where the kernel compacts memory to find one (`defrag` = `madvise`, the
/// usual setting) a fault could take milliseconds: at 10M sales lines the
/// Polars engine then spent 2–3 s in the kernel instead of 0.9 s, and took
/// 2.8–3.3 s instead of 2.0–2.3 s; the DuckDB engine is the same either
/// way (README, engines benchmark). The binary calls this first; the
/// benches too, to measure what it runs.
pub fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer flag and changes only
    // how the kernel backs this process's memory; its result is not
    // needed (an older kernel without it just keeps huge pages).
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// A spinner on a terminal; silent in pipelines and with --quiet.
struct Progress {
    bar: Option<ProgressBar>,
    /// The rows of the file being checked, when its reader counted them.
    rows: std::sync::Mutex<Option<crate::ingest::read::RowCount>>,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
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

    fn step(&self, message: &str) {
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
    fn ingest(&self, report: crate::ingest::Report, quiet: bool) {
        use crate::ingest::Report;
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

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// A line for the person at the terminal, kept clear of the spinner;
    /// nothing in pipelines or with --quiet.
    fn say(&self, line: &str) {
        if let Some(bar) = &self.bar {
            bar.suspend(|| eprintln!("{line}"));
        }
    }
}

/// The spinner's message for work that first loads `--data`'s folder (the
/// longer part at millions of rows).
fn with_data(config: &crate::config::Config, what: &str) -> String {
    match &config.data {
        Some(folder) => format!("loading {} into memory, then {what}", folder.display()),
        None => what.to_string(),
    }
}

/// Says where an answer went (files only: the terminal shows it).
fn answer_written(
    progress: &Progress,
    written: crate::export::Written,
    out: Option<&std::path::Path>,
) {
    if let Some(path) = out {
        progress.say(&format!(
            "wrote {} rows to {}",
            written.rows,
            path.display()
        ));
    }
}

fn run(settings: Settings) -> crate::Result<ExitCode> {
    let quiet = settings.quiet;
    let progress = Progress::new(quiet);
    let step = |message: &str| progress.step(message);
    let ingest_step = |report: crate::ingest::Report| progress.ingest(report, quiet);
    let code = match settings.task {
        Task::Demo {
            dir,
            out,
            spec,
            as_of,
            loaded_at,
        } => {
            let data = dir.join("data");
            let mut config = sample::write(&spec, &data, &step)?;
            // The demo's warehouse sits next to, not inside, the data folder.
            config.warehouse.path = "../warehouse.duckdb".into();
            fs_err::write(data.join("opskpi.toml"), config.to_toml())?;
            // A fresh warehouse each time: a demo at another scale must not mix with the last one.
            let warehouse = config.warehouse_path();
            if warehouse.exists() {
                fs_err::remove_file(&warehouse)?;
            }
            let outcomes = pipeline::ingest(&config, loaded_at, &Default::default(), &|report| {
                if let crate::ingest::Report::Step(message) = report {
                    step(message)
                }
            })?;
            let rows: u64 = outcomes.iter().map(|outcome| outcome.loaded).sum();
            progress.say(&format!(
                "loaded {rows} rows from {} files into {}",
                outcomes.len(),
                dir.join("warehouse.duckdb").display()
            ));
            step("computing the monthly report");
            let period = crate::calendar::Period::containing(
                crate::calendar::Grain::Month,
                spec.last_day,
                1,
            );
            // The report in both languages, as HTML and PDF.
            let mut paths = Vec::new();
            for lang in [
                crate::format::Locale::en(),
                crate::format::Locale::zh_hant(),
            ] {
                let options = pipeline::ReportOptions {
                    formats: vec![pipeline::ReportFormat::Html, pipeline::ReportFormat::Pdf],
                    lang: Some(lang),
                    ..pipeline::ReportOptions::default()
                };
                paths.extend(pipeline::report(
                    &config,
                    as_of,
                    crate::report::ReportKind::Monthly,
                    period,
                    &out,
                    &options,
                )?);
            }
            progress.done();
            for path in paths {
                println!("{}", path.display());
            }
            progress.say(
                &format!("try: opskpi kpi market_share sales_growth --period {period} --by region --config {}", data.join("opskpi.toml").display())
            );
            ExitCode::SUCCESS
        }
        Task::Sample { out, spec } => {
            sample::write(&spec, &out, &step)?;
            progress.done();
            println!("{}", out.join("opskpi.toml").display());
            ExitCode::SUCCESS
        }
        Task::Ingest {
            config,
            loaded_at,
            options,
        } => {
            let started = std::time::Instant::now();
            let outcomes = pipeline::ingest(&config, loaded_at, &options, &ingest_step)?;
            let seconds = started.elapsed().as_secs_f64();
            let rows: u64 = outcomes.iter().map(|outcome| outcome.rows).sum();
            if rows > 0 {
                progress.say(&format!(
                    "read {rows} rows in {seconds:.1} s ({:.0} rows/s)",
                    rows as f64 / seconds.max(0.001)
                ));
            }
            progress.done();
            print!("{}", output::ingest_report(&outcomes, options.dry_run));
            ExitCode::SUCCESS
        }
        Task::Check {
            config,
            as_of,
            fail_on,
            examples,
        } => {
            step("checking the warehouse");
            let findings = pipeline::check(&config, as_of)?;
            progress.done();
            print!("{}", crate::check::render(&findings, examples));
            let failed = fail_on.is_some_and(|level| findings.iter().any(|f| f.level >= level));
            if failed {
                ExitCode::from(EXIT_CHECK)
            } else {
                ExitCode::SUCCESS
            }
        }
        Task::ListIndicators { catalogue } => {
            print!("{}", crate::explain::list(&catalogue));
            ExitCode::SUCCESS
        }
        Task::Explain {
            catalogue,
            id,
            offset_seconds,
        } => {
            print!(
                "{}",
                crate::explain::explain(&catalogue, &id, offset_seconds)?
            );
            ExitCode::SUCCESS
        }
        Task::Kpi {
            config,
            as_of,
            request,
            format,
            fail_on,
            out,
        } => {
            step(&with_data(&config, "computing"));
            let rows = pipeline::kpi(&config, as_of, &request)?;
            progress.done();
            output::write(&rows, format, out.as_deref(), config.locale())?;
            if let Some(path) = &out {
                progress.say(&format!("wrote {} rows to {}", rows.len(), path.display()));
            }
            let alert = fail_on.is_some_and(|level| {
                rows.iter().any(|row| {
                    matches!(
                        (row.status, level),
                        (Some(Status::Bad), _) | (Some(Status::Warning), Status::Warning)
                    )
                })
            });
            if alert {
                ExitCode::from(EXIT_ALERT)
            } else {
                ExitCode::SUCCESS
            }
        }
        Task::QueryList { config } => {
            for query in crate::saved::all(config.queries_folder().as_deref())? {
                println!("{}  ({})", query.name, query.origin);
                println!("    {}", query.description);
                for param in &query.params {
                    let default = param
                        .default
                        .as_ref()
                        .map(|d| format!(" = {d}"))
                        .unwrap_or_default();
                    println!(
                        "    --param {}=<{}>{default}  {}",
                        param.name,
                        param.ty.name(),
                        param.description
                    );
                }
                println!();
            }
            ExitCode::SUCCESS
        }
        Task::Query {
            config,
            as_of,
            name,
            params,
            answer,
        } => {
            let written = pipeline::saved_query(&config, as_of, &name, &params, &answer)?;
            answer_written(&progress, written, answer.out.as_deref());
            ExitCode::SUCCESS
        }
        Task::Run {
            config,
            pipeline,
            period,
            as_of,
            log,
        } => {
            let clock = || chrono::Local::now().naive_local();
            let outcome = crate::run::run(
                &pipeline,
                &crate::run::RunOptions {
                    config: &config,
                    period,
                    as_of,
                    log,
                    clock: &clock,
                },
            )?;
            if let crate::run::RunStatus::Failed { step, error } = &outcome.status {
                let _ = writeln!(std::io::stderr().lock(), "error: step {step}: {error}");
            }
            for output in &outcome.outputs {
                println!("{}", output.display());
            }
            ExitCode::from(crate::run::exit_code(&outcome.status))
        }
        Task::Forecast {
            config,
            as_of,
            last,
            by,
            months,
            json,
        } => {
            step("forecasting");
            let series = pipeline::forecast(&config, as_of, last, by.as_deref(), months)?;
            progress.done();
            print!(
                "{}",
                crate::output::forecast(&series, json, config.locale())?
            );
            ExitCode::SUCCESS
        }
        Task::Runs {
            config,
            run,
            last,
            answer,
        } => {
            let written = pipeline::runs(&config, run, last, &answer)?;
            answer_written(&progress, written, answer.out.as_deref());
            ExitCode::SUCCESS
        }
        Task::Sql {
            config,
            as_of,
            query,
            answer,
        } => {
            let written = pipeline::sql(&config, as_of, &query, &answer)?;
            answer_written(&progress, written, answer.out.as_deref());
            ExitCode::SUCCESS
        }
        Task::Report {
            config,
            as_of,
            kind,
            period,
            out,
            options,
        } => {
            let paths = match kind {
                Some(kind) => {
                    step(&with_data(
                        &config,
                        &format!("computing the {} report", kind.name()),
                    ));
                    pipeline::report(&config, as_of, kind, period, &out, &options)?
                }
                None => {
                    step(&with_data(&config, "computing the employee assessment"));
                    pipeline::assessment(&config, as_of, period, &out, &options)?
                }
            };
            progress.done();
            for path in paths {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Task::Templates { out } => {
            for path in report::templates::export(&out)? {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
    };
    Ok(code)
}
