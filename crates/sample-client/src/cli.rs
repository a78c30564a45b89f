//! `sample-client [--config FILE]`.

use std::process::ExitCode;

use crate::{App, Settings, settings::CONFIG_FILE_ENV};

pub fn main() -> ExitCode {
    let config = service_kit::run::config_arg(
        "sample-client",
        "The playground's sample application, a relying party of ms-auth-server",
        CONFIG_FILE_ENV,
    );
    service_kit::run::serve(
        "sample-client",
        Settings::load(config.as_deref()),
        |s| (&s.log, &s.telemetry),
        |settings| async {
            let app = App::build(settings).await.map_err(|e| e.to_string())?;
            app.run().await.map_err(|e| format!("server error: {e}"))
        },
    )
}
