fn main() -> std::process::ExitCode {
    customer_service::cli::main()
}
