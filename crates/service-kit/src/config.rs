//! Typed configuration: defaults (serde), then a TOML file, then `PREFIX__SECTION__KEY`
//! environment variables. Unknown keys are refused by the settings types
//! (`#[serde(deny_unknown_fields)]`), and errors name the key.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("{0}")]
    Invalid(#[from] config::ConfigError),
}

/// Loads `T` from `file` (if given, it must exist) and from environment variables named
/// `{env_prefix}__SECTION__KEY` (lower-cased into `section.key`).
pub fn load<T: DeserializeOwned>(file: Option<&Path>, env_prefix: &str) -> Result<T, LoadError> {
    let mut builder = config::Config::builder();
    if let Some(path) = file {
        if !path.is_file() {
            return Err(LoadError::MissingFile(path.to_owned()));
        }
        builder = builder.add_source(
            config::File::from(path)
                .format(config::FileFormat::Toml)
                .required(true),
        );
    }
    builder = builder.add_source(
        config::Environment::with_prefix(env_prefix)
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true),
    );
    Ok(builder.build()?.try_deserialize()?)
}
