//! The `opskpi` binary: everything lives in the library; `cli` parses,
//! resolves and runs.

/// Rust's allocations (Polars frames above all) through mimalloc: glibc's
/// allocator spent a tenth of a Polars report's CPU freeing and merging.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    opskpi::cli::main()
}
