//! `gateway [--config FILE]`.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

use crate::{App, Settings, settings::CONFIG_FILE_ENV};

#[derive(Debug, Parser)]
#[command(
    name = "gateway",
    version,
    about = "Reverse proxy routing by path prefix"
)]
struct Cli {
    /// TOML config file (environment variables GATEWAY__SECTION__KEY override it).
    #[arg(long, short, env = CONFIG_FILE_ENV)]
    config: Option<PathBuf>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gateway: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    service_kit::telemetry::init(&settings.log);
    let result = actix_web::rt::System::new().block_on(async move {
        let app = App::build(settings).await.map_err(|e| e.to_string())?;
        app.run().await.map_err(|e| format!("server error: {e}"))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gateway: {message}");
            ExitCode::FAILURE
        }
    }
}
