//! The `main` every service binary shares: load the configuration, set up logging, build the
//! app and serve; a configuration error is one clear line and exit code 2, never a panic.

use std::{fmt::Display, future::Future, process::ExitCode};

use crate::telemetry::{self, LogSettings};

/// Runs `serve(settings)` on an actix runtime once `settings` loaded. `name` prefixes errors.
pub fn serve<S, E, F, Fut>(
    name: &str,
    settings: Result<S, E>,
    log: impl Fn(&S) -> &LogSettings,
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
    telemetry::init(log(&settings));
    match actix_web::rt::System::new().block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{name}: {message}");
            ExitCode::FAILURE
        }
    }
}
