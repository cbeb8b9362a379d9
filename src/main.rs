//! The `opskpi` binary: everything lives in the library; `cli` parses,
//! resolves and runs.

fn main() -> std::process::ExitCode {
    opskpi::cli::main()
}
