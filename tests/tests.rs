//! One integration-test binary, grouped by theme (see ripgrep's tests/).

mod common;

mod cli;
mod indicators;
mod ingest;
mod pdf;
mod postgres;
mod report;
mod sample;
