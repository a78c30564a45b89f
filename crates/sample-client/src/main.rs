fn main() -> std::process::ExitCode {
    sample_client::cli::main()
}
