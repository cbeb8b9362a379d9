//! Running the `opskpi` binary as scripts do, on fixture projects.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

pub fn opskpi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opskpi"))
        .args(args)
        .env_remove("OPSKPI_CONFIG")
        .output()
        .unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The tiny fixture copied into a temp folder, ingested through the CLI.
pub fn tiny_project() -> tempfile::TempDir {
    let dir = copy_fixture("tiny", "");
    let config = config_arg(dir.path());
    let output = opskpi(&["ingest", "--config", &config, "--quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

pub fn config_arg(dir: &Path) -> String {
    dir.join("opskpi.toml").display().to_string()
}

/// `opskpi sql QUERY ARGS` on a project.
pub fn sql(project: &Path, query: &str, args: &[&str]) -> Output {
    let config = config_arg(project);
    let mut all = vec!["sql", query];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", &config]);
    opskpi(&all)
}

/// Sets `[warehouse] wait_seconds` in a project's opskpi.toml.
pub fn set_wait(project: &Path, seconds: u64) {
    let path = project.join("opskpi.toml");
    let text: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("wait_seconds"))
        .map(|line| format!("{line}\n"))
        .collect();
    let text = text.replace(
        "[warehouse]\n",
        &format!("[warehouse]\nwait_seconds = {seconds}\n"),
    );
    std::fs::write(&path, text).unwrap();
}

/// `opskpi kpi ARGS` on a project, as of 2024-12-31 (the tiny fixture's numbers
/// in indicators.rs are worked out for that date).
pub fn kpi(project: &Path, args: &[&str]) -> Output {
    let config = config_arg(project);
    let mut all = vec!["kpi"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", &config, "--as-of", "2024-12-31"]);
    opskpi(&all)
}
