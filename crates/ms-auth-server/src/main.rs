fn main() -> std::process::ExitCode {
    ms_auth_server::cli::main()
}
