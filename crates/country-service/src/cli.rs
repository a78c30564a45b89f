//! `country-service [--config FILE]`.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

use crate::{App, Settings, settings::CONFIG_FILE_ENV};

#[derive(Debug, Parser)]
#[command(
    name = "country-service",
    version,
    about = "ISO 3166-1 countries behind bearer-token auth"
)]
struct Cli {
    /// TOML config file (environment variables COUNTRY_SERVICE__SECTION__KEY override it).
    #[arg(long, short, env = CONFIG_FILE_ENV)]
    config: Option<PathBuf>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    service_kit::run::serve(
        "country-service",
        Settings::load(cli.config.as_deref()),
        |s| &s.log,
        |settings| async {
            let app = App::build(settings).await.map_err(|e| e.to_string())?;
            app.run().await.map_err(|e| format!("server error: {e}"))
        },
    )
}
