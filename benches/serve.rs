//! `opskpi serve` under a dashboard's load: the sample company at about 10
//! million order lines (`OPSKPI_BENCH_SERVE_SCALE`, default 45), served on
//! loopback, and rust-postgres clients — 1, 10 and 50 at once, each on its
//! own connection — sending
//!
//! - a KPI query, `kpi('net_sales,gross_margin', month, by := dim)`: cold
//!   (a request not asked before on this copy: each query a different
//!   month × dimension) and warm (the same request again, as a dashboard
//!   does on every open);
//! - a table read, `SELECT * FROM sales LIMIT 1000000`, streamed.
//!
//! Baselines in the same run, on the same warehouse: the same queries
//! through `opskpi sql` (a process per query, as a script calls it) and
//! through DuckDB's own Python client (`benches/serve_duckdb.py`, in one
//! process with a cursor per thread, the KPI numbers by hand-written SQL:
//! net sales and gross margin by region for the month and last year) when
//! `OPSKPI_BENCH_PYTHON` names a Python with duckdb. Prints queries per
//! second, p50 and p99 latency, and the server's peak memory; asserts no
//! time. `cargo bench --bench serve`.

mod scales;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

const KPI: &str = "SELECT region_or_dim, value, change_vs_last_year, status FROM kpi('net_sales,gross_margin', '{month}', by := '{dim}')";
const TABLE: &str = "SELECT * FROM sales LIMIT 1000000";
const PASSWORD: &str = "bench-Pa55";

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()
}

fn kpi(month: &str, dim: &str) -> String {
    KPI.replace("region_or_dim", dim)
        .replace("{month}", month)
        .replace("{dim}", dim)
}

/// Distinct KPI requests: the 24 months to 2026-10 × three dimensions.
fn cold_requests() -> Vec<String> {
    let mut requests = Vec::new();
    for dim in ["region", "channel", "category"] {
        for i in 0..24 {
            let month = NaiveDate::from_ymd_opt(2026, 10, 1)
                .unwrap()
                .checked_sub_months(chrono::Months::new(i))
                .unwrap();
            requests.push(kpi(&month.format("%Y-%m").to_string(), dim));
        }
    }
    requests
}

struct Figures {
    queries: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    rows: u64,
}

impl Figures {
    fn row(&self, what: &str, clients: usize) -> String {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let at =
            |q: f64| sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1];
        format!(
            "| {what} | {clients} | {} | {:.1} | {} | {} | {} |",
            self.queries,
            self.queries as f64 / self.wall.as_secs_f64(),
            ms(at(0.5)),
            ms(at(0.99)),
            self.rows / self.queries.max(1) as u64,
        )
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// `clients` threads, each its own connection, each running its share of
/// `queries` (client i takes queries i, i + clients, …), timed one by one.
fn load(port: u16, clients: usize, queries: &[String]) -> Figures {
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let rows = Arc::new(Mutex::new(0u64));
    let mut connections: Vec<postgres::Client> = (0..clients)
        .map(|_| {
            postgres::Config::new()
                .host("127.0.0.1")
                .port(port)
                .user("ana")
                .password(PASSWORD)
                .dbname("opskpi")
                .connect(postgres::NoTls)
                .expect("a connection to opskpi serve")
        })
        .collect();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (i, client) in connections.iter_mut().enumerate() {
            let (latencies, rows) = (latencies.clone(), rows.clone());
            let mine: Vec<&String> = queries.iter().skip(i).step_by(clients).collect();
            scope.spawn(move || {
                for sql in mine {
                    let began = Instant::now();
                    let mut count = 0u64;
                    let mut answer = client
                        .query_raw(sql.as_str(), std::iter::empty::<i32>())
                        .expect("the query runs");
                    while let Some(_row) =
                        postgres::fallible_iterator::FallibleIterator::next(&mut answer)
                            .unwrap_or_else(|error| panic!("{sql}: {error}"))
                    {
                        count += 1;
                    }
                    latencies.lock().unwrap().push(began.elapsed());
                    *rows.lock().unwrap() += count;
                }
            });
        }
    });
    let wall = started.elapsed();
    let latencies = latencies.lock().unwrap().clone();
    let rows = *rows.lock().unwrap();
    Figures {
        queries: latencies.len(),
        wall,
        latencies,
        rows,
    }
}

/// The same queries through `opskpi sql`, a process each, `clients` at once.
fn through_opskpi_sql(config: &str, clients: usize, queries: &[String]) -> Figures {
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for i in 0..clients {
            let latencies = latencies.clone();
            let mine: Vec<&String> = queries.iter().skip(i).step_by(clients).collect();
            scope.spawn(move || {
                for sql in mine {
                    let began = Instant::now();
                    let output = Command::new(env!("CARGO_BIN_EXE_opskpi"))
                        .args([
                            "sql",
                            sql,
                            "--config",
                            config,
                            "--format",
                            "csv",
                            "--as-of",
                            "2026-10-31",
                        ])
                        .stdout(Stdio::null())
                        .stderr(Stdio::piped())
                        .output()
                        .unwrap();
                    assert!(
                        output.status.success(),
                        "{}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                    latencies.lock().unwrap().push(began.elapsed());
                }
            });
        }
    });
    let latencies = latencies.lock().unwrap().clone();
    Figures {
        queries: latencies.len(),
        wall: started.elapsed(),
        latencies,
        rows: 0,
    }
}

fn main() {
    let scale: f64 = std::env::var("OPSKPI_BENCH_SERVE_SCALE")
        .map(|s| s.parse().expect("a scale is a number"))
        .unwrap_or(45.0);
    eprintln!("writing and ingesting the sample company at scale {scale} …");
    let (dir, config, _) = scales::company(scale, as_of());
    let config_path = dir.path().join("opskpi.toml");
    let config_arg = config_path.display().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut passwd = Command::new(env!("CARGO_BIN_EXE_opskpi"))
        .args(["serve", "passwd", "ana"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(passwd.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let user = String::from_utf8(passwd.wait_with_output().unwrap().stdout).unwrap();
    let mut text = std::fs::read_to_string(&config_path).unwrap();
    text.push_str(&format!(
        "\n[serve]\nlisten = \"127.0.0.1:{port}\"\nplaintext_on_loopback = true\n\n{user}"
    ));
    std::fs::write(&config_path, text).unwrap();
    let lines: u64 = {
        let output = Command::new(env!("CARGO_BIN_EXE_opskpi"))
            .args([
                "sql",
                "select count(*) from sales",
                "--config",
                &config_arg,
                "--format",
                "csv",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let started = Instant::now();
    let mut server = Command::new(env!("CARGO_BIN_EXE_opskpi"))
        .args(["serve", "--config", &config_arg, "--as-of", "2026-10-31"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(server.stderr.take().unwrap());
    let mut stderr_lines = stderr.lines();
    for line in stderr_lines.by_ref() {
        if line.unwrap().contains("listening on") {
            break;
        }
    }
    let ready = started.elapsed();
    let ready_peak = scales::peak_kb(&server.id().to_string());
    std::thread::spawn(move || for _ in stderr_lines {});
    let cold = cold_requests();
    let warm = kpi("2026-10", "region");
    // The warm request asked once, so that it is kept.
    load(port, 1, std::slice::from_ref(&warm));
    let mut rows = Vec::new();
    let mut at = 0;
    for clients in [1, 10, 50] {
        let take = if clients == 1 { 12 } else { clients };
        rows.push(load(port, clients, &cold[at..at + take]).row("KPI, cold", clients));
        at += take;
        rows.push(load(port, clients, &vec![warm.clone(); clients * 20]).row("KPI, warm", clients));
        let reads = if clients == 1 { 3 } else { clients };
        rows.push(load(port, clients, &vec![TABLE.to_string(); reads]).row("1M-row read", clients));
    }
    let server_peak = scales::peak_kb(&server.id().to_string());
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let mut baseline = Vec::new();
    for clients in [1, 10] {
        let kpis: Vec<String> = (0..clients.max(3)).map(|_| warm.clone()).collect();
        baseline.push(
            through_opskpi_sql(&config_arg, clients, &kpis).row("KPI via `opskpi sql`", clients),
        );
        let reads = vec![TABLE.to_string(); clients.max(3)];
        baseline.push(
            through_opskpi_sql(&config_arg, clients, &reads)
                .row("1M-row read via `opskpi sql` (CSV to /dev/null)", clients),
        );
    }
    println!(
        "\n{lines} order lines; the server listening after {:.1} s (its first copy and kpi_monthly) with a peak memory of {:.2} GB so far; its peak after all the clients {:.2} GB\n",
        ready.as_secs_f64(),
        ready_peak as f64 / 1024.0 / 1024.0,
        server_peak as f64 / 1024.0 / 1024.0
    );
    println!("| query | clients | queries | queries/s | p50 | p99 | rows each |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in rows.iter().chain(&baseline) {
        println!("{row}");
    }
    if let Ok(python) = std::env::var("OPSKPI_BENCH_PYTHON") {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/serve_duckdb.py");
        let output = Command::new(python)
            .arg(script)
            .arg(config.warehouse_path())
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&output.stdout));
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
    } else {
        eprintln!("(no DuckDB Python baseline: set OPSKPI_BENCH_PYTHON to a Python with duckdb)");
    }
}
