//! The `main` every service binary shares: load the configuration, set up logs and traces,
//! build the app and serve; a configuration error is one clear line and exit code 2, never a
//! panic. Spans still buffered are flushed after the server stopped (SIGTERM included).

use std::{fmt::Display, future::Future, path::PathBuf, process::ExitCode};

use telemetry::{LogSettings, TraceSettings};

/// Runs `serve(settings)` on an actix runtime once `settings` loaded. `name` prefixes errors
/// and is the default `service.name` of exported spans.
pub fn serve<S, E, F, Fut>(
    name: &str,
    settings: Result<S, E>,
    observe: impl Fn(&S) -> (&LogSettings, &TraceSettings),
    serve: F,
) -> ExitCode
where
    E: Display,
    F: FnOnce(S) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let settings = match settings {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{name}: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let (log, trace) = observe(&settings);
    let telemetry = match telemetry::init(log, trace, name) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{name}: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = actix_web::rt::System::new().block_on(serve(settings));
    telemetry.shutdown();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{name}: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Parses `NAME [--config FILE]` (`-c`; the file also from `env_var`), with `--help` and
/// `--version`, for the services whose only argument is their config file.
pub fn config_arg(
    name: &'static str,
    about: &'static str,
    env_var: &'static str,
) -> Option<PathBuf> {
    let matches = clap::Command::new(name)
        .about(about)
        .version(env!("CARGO_PKG_VERSION"))
        .arg(
            clap::Arg::new("config")
                .long("config")
                .short('c')
                .env(env_var)
                .value_parser(clap::value_parser!(PathBuf))
                .help("TOML config file; environment variables NAME__SECTION__KEY override it"),
        )
        .get_matches();
    matches.get_one::<PathBuf>("config").cloned()
}
