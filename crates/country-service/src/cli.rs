//! `country-service [--config FILE]`.

use std::process::ExitCode;

use crate::{App, Settings, settings::CONFIG_FILE_ENV};

pub fn main() -> ExitCode {
    let config = service_kit::run::config_arg(
        "country-service",
        "ISO 3166-1 countries behind bearer-token auth",
        CONFIG_FILE_ENV,
    );
    service_kit::run::serve(
        "country-service",
        Settings::load(config.as_deref()),
        |s| (&s.log, &s.telemetry),
        |settings| async {
            let app = App::build(settings).await.map_err(|e| e.to_string())?;
            app.run().await.map_err(|e| format!("server error: {e}"))
        },
    )
}
