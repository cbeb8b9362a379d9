//! The command line: parse (`args`), resolve once (`settings`), run one
//! function per command, and turn the outcome into output and an exit code.
//! The only module that touches the terminal, the clock and the process
//! environment, and the only one that knows clap (`choices`).

mod args;
mod choices;
mod progress;
mod settings;
mod show;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use crate::calendar::{Grain, Period};
use crate::check;
use crate::contract;
use crate::error::Result;
use crate::explain;
use crate::export::Written;
use crate::indicators::Status;
use crate::ingest::{self, Report};
use crate::jobs::{self, ReportFormat, ReportOptions};
use crate::locale::Locale;
use crate::pipeline::{self, RunOptions, RunStatus};
use crate::report::ReportKind;
use crate::sample;
use crate::serve;
use crate::sql::saved;
use crate::{assets, config::Config};
use progress::Progress;
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
/// way (docs/benchmarks.md). The binary calls this first; the benches too,
/// to measure what it runs.
pub fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer flag and changes only
    // how the kernel backs this process's memory; its result is not
    // needed (an older kernel without it just keeps huge pages).
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn run(settings: Settings) -> Result<ExitCode> {
    let quiet = settings.quiet;
    let progress = Progress::new(quiet);
    match settings.task {
        Task::Demo(task) => demo(task, &progress),
        Task::Sample { out, spec } => {
            sample::write(&spec, &out, &|message| progress.step(message))?;
            progress.done();
            println!("{}", out.join("opskpi.toml").display());
            Ok(ExitCode::SUCCESS)
        }
        Task::Ingest(task) => ingest(task, &progress, quiet),
        Task::LakeExport(task) => lake_export(task, &progress),
        Task::Check(task) => check(task, &progress),
        Task::ListIndicators { catalogue } => {
            print!("{}", explain::list(&catalogue));
            Ok(ExitCode::SUCCESS)
        }
        Task::Explain(task) => {
            print!(
                "{}",
                explain::explain(&task.catalogue, &task.id, task.offset_seconds)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Task::Kpi(task) => kpi(task, &progress),
        Task::QueryList { config } => query_list(&config),
        Task::Query(task) => {
            let written = jobs::saved_query(
                &task.config,
                task.as_of,
                &task.name,
                &task.params,
                &task.answer,
            )?;
            answer_written(&progress, written, task.answer.out.as_deref());
            Ok(ExitCode::SUCCESS)
        }
        Task::Run(task) => pipeline_run(task),
        Task::Forecast(task) => forecast(task, &progress),
        Task::Runs(task) => {
            match pipeline::runs(&task.config, task.listing, &task.answer)? {
                Some(written) => answer_written(&progress, written, task.answer.out.as_deref()),
                None => eprintln!("{}", pipeline::history::NO_RUNS),
            }
            Ok(ExitCode::SUCCESS)
        }
        Task::Sql(task) => {
            let written = jobs::sql(&task.config, task.as_of, &task.query, &task.answer)?;
            answer_written(&progress, written, task.answer.out.as_deref());
            Ok(ExitCode::SUCCESS)
        }
        Task::Report(task) => report(task, &progress),
        Task::Serve(task) => {
            let path = task.config_path.clone();
            let as_of = task.as_of;
            serve::serve(serve::Options {
                config: task.config,
                reload: Box::new(move || jobs::load_config(&path)),
                functions: Box::new(jobs::functions),
                today: Box::new(move || as_of.unwrap_or_else(|| chrono::Local::now().date_naive())),
                now: chrono::Utc::now,
                log: Box::new(|line| {
                    eprintln!(
                        "{} {line}",
                        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
                    )
                }),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Task::Passwd { name, role } => {
            let password = show::read_password(&name)?;
            println!(
                "[serve.users.{}]\nverifier = \"{}\"\nrole = \"{}\"",
                toml_key(&name),
                serve::verifier(&password)?,
                role.name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Task::Templates { out, force } => {
            for path in assets::export_templates(&out, force)? {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `opskpi demo`: the sample company written, loaded and reported on in
/// both languages.
fn demo(task: settings::Demo, progress: &Progress) -> Result<ExitCode> {
    let step = |message: &str| progress.step(message);
    let data = task.dir.join("data");
    let mut config = sample::write(&task.spec, &data, &step)?;
    // The demo's warehouse sits next to, not inside, the data folder.
    config.warehouse.path = "../warehouse.duckdb".into();
    fs_err::write(data.join("opskpi.toml"), config.to_toml())?;
    // A fresh warehouse each time: a demo at another scale must not mix with the last one.
    let warehouse = config.warehouse_path();
    if warehouse.exists() {
        fs_err::remove_file(&warehouse)?;
    }
    let outcomes = jobs::ingest(&config, task.loaded_at, &Default::default(), &|report| {
        if let Report::Step(message) = report {
            step(message)
        }
    })?;
    let rows: u64 = outcomes.iter().map(|outcome| outcome.loaded).sum();
    progress.say(&format!(
        "loaded {rows} rows from {} files into {}",
        outcomes.len(),
        task.dir.join("warehouse.duckdb").display()
    ));
    step("computing the monthly report");
    let period = Period::containing(Grain::Month, task.spec.last_day, 1);
    // The report in both languages, as HTML and PDF.
    let mut paths = Vec::new();
    for lang in [Locale::en(), Locale::zh_hant()] {
        let options = ReportOptions {
            formats: vec![ReportFormat::Html, ReportFormat::Pdf],
            lang: Some(lang),
            ..ReportOptions::default()
        };
        paths.extend(jobs::report(
            &config,
            task.as_of,
            ReportKind::Monthly,
            period,
            &task.out,
            &options,
        )?);
    }
    progress.done();
    for path in paths {
        println!("{}", path.display());
    }
    progress.say(&format!(
        "try: opskpi kpi market_share sales_growth --period {period} --by region --config {}",
        data.join("opskpi.toml").display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `opskpi ingest`: the configured sources loaded, a line per file.
fn ingest(task: settings::Ingest, progress: &Progress, quiet: bool) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let report = |report: ingest::Report<'_>| progress.ingest(report, quiet);
    let (outcomes, export) = if task.to_lake {
        jobs::ingest_to_lake(&task.config, task.loaded_at, &task.options, &report)?
    } else {
        let outcomes = jobs::ingest(&task.config, task.loaded_at, &task.options, &report)?;
        (outcomes, None)
    };
    let seconds = started.elapsed().as_secs_f64();
    let rows: u64 = outcomes.iter().map(|outcome| outcome.rows).sum();
    if rows > 0 {
        progress.say(&format!(
            "read {rows} rows in {seconds:.1} s ({:.0} rows/s)",
            rows as f64 / seconds.max(0.001)
        ));
    }
    progress.done();
    print!("{}", ingest::summary(&outcomes, task.options.dry_run));
    if let Some(export) = export {
        println!("{}", lake_line(&export, seconds));
    }
    Ok(ExitCode::SUCCESS)
}

/// `opskpi check`: the findings, and exit 4 at the `--fail-on` level.
fn check(task: settings::Check, progress: &Progress) -> Result<ExitCode> {
    progress.step("checking the warehouse");
    let findings = jobs::check(&task.config, task.as_of)?;
    progress.done();
    print!("{}", check::render(&findings, task.examples));
    let failed = task
        .fail_on
        .is_some_and(|level| findings.iter().any(|f| f.level >= level));
    Ok(if failed {
        ExitCode::from(EXIT_CHECK)
    } else {
        ExitCode::SUCCESS
    })
}

/// `opskpi lake export`: what was written, what was kept.
fn lake_export(task: settings::LakeExport, progress: &Progress) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let export = jobs::lake_export(&task.config, task.as_of, task.out.as_deref(), &|message| {
        progress.step(message)
    })?;
    progress.done();
    println!("{}", lake_line(&export, started.elapsed().as_secs_f64()));
    Ok(ExitCode::SUCCESS)
}

/// What a lake export did, in a line.
fn lake_line(export: &jobs::LakeExport, seconds: f64) -> String {
    format!(
        "lake {} (generation {}): {} tables, {} rows; {} parts written, {} unchanged, in {seconds:.1} s",
        export.folder.display(),
        export.generation,
        export.tables,
        export.rows,
        export.parts_written,
        export.parts_unchanged,
    )
}

/// `opskpi kpi`: the rows in the asked format, and exit 3 at `--fail-on`.
fn kpi(task: settings::Kpi, progress: &Progress) -> Result<ExitCode> {
    progress.step(&with_data(&task.config, "computing"));
    let rows = jobs::kpi(&task.config, task.as_of, &task.request)?;
    progress.done();
    contract::write(
        &rows,
        task.format,
        task.out.as_deref(),
        Locale::of(&task.config)?,
    )?;
    if let Some(path) = &task.out {
        progress.say(&format!("wrote {} rows to {}", rows.len(), path.display()));
    }
    let alert = task.fail_on.is_some_and(|level| {
        rows.iter().any(|row| {
            matches!(
                (row.status, level),
                (Some(Status::Bad), _) | (Some(Status::Warning), Status::Warning)
            )
        })
    });
    Ok(if alert {
        ExitCode::from(EXIT_ALERT)
    } else {
        ExitCode::SUCCESS
    })
}

/// `opskpi query --list`: every saved query with its parameters.
fn query_list(config: &Config) -> Result<ExitCode> {
    for query in saved::all(config.queries_folder().as_deref())? {
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
    Ok(ExitCode::SUCCESS)
}

/// `opskpi run`: a pipeline file's steps, its outputs on stdout.
fn pipeline_run(task: settings::Run) -> Result<ExitCode> {
    let clock = || chrono::Local::now().naive_local();
    let outcome = pipeline::run(
        &task.pipeline,
        &RunOptions {
            config: &task.config,
            period: task.period,
            as_of: task.as_of,
            log: task.log,
            clock: &clock,
            faults: task.faults,
            delivery: task.delivery,
        },
    )?;
    if let RunStatus::Failed { step, error } = &outcome.status {
        let _ = writeln!(std::io::stderr().lock(), "error: step {step}: {error}");
    }
    for output in &outcome.outputs {
        println!("{}", output.display());
    }
    Ok(ExitCode::from(pipeline::exit_code(&outcome.status)))
}

/// `opskpi forecast`: the forecast as a table or JSON.
fn forecast(task: settings::Forecast, progress: &Progress) -> Result<ExitCode> {
    progress.step("forecasting");
    let series = jobs::forecast(
        &task.config,
        task.as_of,
        task.last,
        task.by.as_deref(),
        task.months,
    )?;
    progress.done();
    print!(
        "{}",
        show::forecast(&series, task.json, Locale::of(&task.config)?)?
    );
    Ok(ExitCode::SUCCESS)
}

/// `opskpi report`: the report's files, one path per line.
fn report(task: settings::Report, progress: &Progress) -> Result<ExitCode> {
    let paths = match task.kind {
        Some(kind) => {
            progress.step(&with_data(
                &task.config,
                &format!("computing the {} report", kind.name()),
            ));
            jobs::report(
                &task.config,
                task.as_of,
                kind,
                task.period,
                &task.out,
                &task.options,
            )?
        }
        None => {
            progress.step(&with_data(
                &task.config,
                "computing the employee assessment",
            ));
            jobs::assessment(
                &task.config,
                task.as_of,
                task.period,
                &task.out,
                &task.options,
            )?
        }
    };
    progress.done();
    for path in paths {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The spinner's message for work that first loads `--data`'s folder (the
/// longer part at millions of rows).
fn with_data(config: &Config, what: &str) -> String {
    match &config.data {
        Some(folder) => format!("loading {} into memory, then {what}", folder.display()),
        None => what.to_string(),
    }
}

/// Says where an answer went (files only: the terminal shows it).
fn answer_written(progress: &Progress, written: Written, out: Option<&Path>) {
    if let Some(path) = out {
        progress.say(&format!(
            "wrote {} rows to {}",
            written.rows,
            path.display()
        ));
    }
}

/// A user name as a TOML key: bare when it can be, quoted otherwise.
fn toml_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
