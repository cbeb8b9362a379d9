//! The sample sizes a benchmark runs at: `OPSKPI_BENCH_SCALES` (e.g. `4.5,45`,
//! about 1 and 10 million order lines), shared by the benchmarks.

pub fn scales() -> Vec<f64> {
    std::env::var("OPSKPI_BENCH_SCALES")
        .unwrap_or_else(|_| "4.5,45".into())
        .split(',')
        .map(|s| s.trim().parse().expect("a scale is a number"))
        .collect()
}
