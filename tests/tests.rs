//! One integration-test binary, grouped by theme (see ripgrep's tests/).

mod cmd;
mod common;

mod assessment;
mod calendar;
mod cli;
mod crosscheck;
mod customers;
mod engines;
mod export;
mod frames;
mod indicators;
mod ingest;
mod ingest_direct;
mod pdf;
mod pipeline;
mod postgres;
mod report;
mod sample;
mod service;
mod supply;
