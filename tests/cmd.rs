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
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("tiny")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
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
