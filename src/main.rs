fn main() -> std::process::ExitCode {
    opskpi::cli::main()
}
