//! Readers and a writer: one process loads changing files again and again
//! (a fixed number of loads, so the test does not depend on the machine's
//! speed) while six loop `kpi`, `sql` and `report` on the same
//! warehouse. No reader sees part of a load — every answer is one of the
//! states the loads make, whole — and none fails but by the documented wait
//! limit; the writer's longest load (its wait for the readers included) is
//! printed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cmd::{config_arg, opskpi, stderr, stdout, tiny_project};

/// How many loads the writer makes: three rounds of k = 0, 1, … 6 extra
/// orders, each round ending with more lines than it began and starting
/// again from fewer.
const LOADS: u64 = 21;

/// The tiny project's sales with `k` extra orders of 1.00, 2.00, … k.00
/// on 2024-03-28: k lines more, k(k+1)/2 more net sales.
fn sales_with(base: &str, k: u64) -> String {
    let mut text = base.to_string();
    for i in 1..=k {
        text.push_str(&format!(
            "X{i},1,2024-03-28,C1,P1,S1,store,North,E1,1,{i}.00,0.50\n"
        ));
    }
    text
}

#[test]
fn readers_never_see_half_a_load_while_a_writer_loads_again_and_again() {
    let project = tiny_project();
    let dir = project.path().to_path_buf();
    let config = config_arg(&dir);
    let base = std::fs::read_to_string(dir.join("sales.csv")).unwrap();
    let (lines, net): (u64, f64) = {
        let output = opskpi(&[
            "sql",
            "select count(*), sum(net_amount) from sales",
            "--format",
            "csv",
            "--config",
            &config,
        ]);
        let text = stdout(&output);
        let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
        (row[0].parse().unwrap(), row[1].parse().unwrap())
    };
    let march = |text: &str, id: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(id)).unwrap();
        line.split(',').nth(6).unwrap().parse().unwrap()
    };
    // March 2024's net sales and orders before any extra order.
    let (sales0, orders0) = {
        let output = opskpi(&[
            "kpi",
            "net_sales",
            "orders",
            "--period",
            "2024-03",
            "--as-of",
            "2024-12-31",
            "--format",
            "csv",
            "--config",
            &config,
        ]);
        let text = stdout(&output);
        (march(&text, "net_sales,"), march(&text, "orders,"))
    };
    let done = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::new(Mutex::new(Vec::<u64>::new()));
    // The writer: load k = 1, 2, 3, … extra orders (and back to 0 now and
    // then, which replaces the file's rows by fewer).
    let writer = {
        let (dir, config, done) = (dir.clone(), config.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut longest = Duration::ZERO;
            let mut loads = 0;
            while loads < LOADS {
                let k = loads % 7;
                std::fs::write(dir.join("sales.csv"), sales_with(&base, k)).unwrap();
                let load = Instant::now();
                let output = opskpi(&["ingest", "--config", &config, "--quiet"]);
                longest = longest.max(load.elapsed());
                assert!(
                    output.status.success(),
                    "the writer failed: {}",
                    stderr(&output)
                );
                loads += 1;
            }
            done.store(true, Ordering::SeqCst);
            (loads, longest)
        })
    };
    let readers: Vec<_> = (0..6)
        .map(|reader| {
            let (dir, config) = (dir.clone(), config.clone());
            let (done, failures, seen) =
                (Arc::clone(&done), Arc::clone(&failures), Arc::clone(&seen));
            std::thread::spawn(move || {
                let out = dir.join(format!("reports-{reader}"));
                let mut reads = 0;
                // At least once each, however fast the writer was.
                while reads == 0 || !done.load(Ordering::SeqCst) {
                    let output = match reader % 3 {
                        0 => opskpi(&[
                            "sql",
                            "select count(*), sum(net_amount) from sales",
                            "--format",
                            "csv",
                            "--config",
                            &config,
                        ]),
                        1 => opskpi(&[
                            "kpi",
                            "net_sales",
                            "orders",
                            "--period",
                            "2024-03",
                            "--as-of",
                            "2024-12-31",
                            "--format",
                            "csv",
                            "--config",
                            &config,
                        ]),
                        _ => opskpi(&[
                            "report",
                            "monthly",
                            "--period",
                            "2024-03",
                            "--as-of",
                            "2024-12-31",
                            "--out",
                            out.to_str().unwrap(),
                            "--config",
                            &config,
                            "--quiet",
                        ]),
                    };
                    reads += 1;
                    if !output.status.success() {
                        let error = stderr(&output);
                        // The documented limit: a wait past `wait_seconds`.
                        if !error.contains("wait_seconds") {
                            failures.lock().unwrap().push(error);
                        }
                        continue;
                    }
                    let text = stdout(&output);
                    let k = match reader % 3 {
                        // A whole state: k extra lines and k(k+1)/2 more sales.
                        0 => {
                            let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
                            let (count, sum): (u64, f64) =
                                (row[0].parse().unwrap(), row[1].parse().unwrap());
                            let k = count - lines;
                            if (sum - net - (k * (k + 1) / 2) as f64).abs() > 1e-6 {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("half a load: {count} lines, {sum}"));
                            }
                            k
                        }
                        // March's orders and net sales agree with one state.
                        1 => {
                            let (sales, orders) =
                                (march(&text, "net_sales,"), march(&text, "orders,"));
                            let k = (orders - orders0) as u64;
                            if (sales - sales0 - (k * (k + 1) / 2) as f64).abs() > 1e-6 {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("half a load: {orders} orders, {sales}"));
                            }
                            k
                        }
                        _ => 0,
                    };
                    seen.lock().unwrap().push(k);
                }
                reads
            })
        })
        .collect();
    let (loads, longest) = writer.join().unwrap();
    let reads: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    let seen = seen.lock().unwrap();
    println!(
        "readers and a writer: {loads} loads, {reads} reads, states seen {:?}, the writer's longest load {:.2} s",
        {
            let mut kinds = seen.clone();
            kinds.sort();
            kinds.dedup();
            kinds
        },
        longest.as_secs_f64()
    );
    // The last load (k = 20 mod 7 = 6) is the state left: six lines more
    // than the fixture and 1 + 2 + … + 6 = 21.00 more net sales.
    let output = opskpi(&[
        "sql",
        "select count(*), sum(net_amount) from sales",
        "--format",
        "csv",
        "--config",
        &config,
    ]);
    let text = stdout(&output);
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let (count, sum): (u64, f64) = (row[0].parse().unwrap(), row[1].parse().unwrap());
    assert_eq!(count, lines + 6, "{loads} loads, {reads} reads");
    assert!((sum - net - 21.0).abs() < 1e-6, "{sum}");
}
