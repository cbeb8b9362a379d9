//! One integration-test binary, grouped by theme (see ripgrep's tests/).

mod cmd;
mod common;

mod architecture;
mod assessment;
mod calendar;
mod catalogues;
mod cli;
mod crash;
mod crosscheck;
mod customers;
mod delivery;
mod door;
mod engines;
mod export;
mod exports;
mod formats;
mod frames;
mod fuzz;
mod indicators;
mod ingest;
mod ingest_direct;
mod locking;
mod malformed;
mod pdf;
mod pipeline;
mod postgres;
mod readers;
mod report;
mod sample;
mod serve;
mod service;
mod spark;
mod sql;
mod supply;
mod trust;
