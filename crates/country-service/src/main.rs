fn main() -> std::process::ExitCode {
    country_service::cli::main()
}
