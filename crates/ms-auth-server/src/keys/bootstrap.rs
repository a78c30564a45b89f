//! The signing key at start-up: the configured file's (checked before anything else is done),
//! else the store's active key — made by [`crate::ops::Ops::ensure_active_key`] when there is
//! none.

use std::path::Path;

use super::{KeyError, SigningAlgorithm, SigningKey};

/// Why `keys.private_key_file` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("`keys.private_key_file` {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("`keys.private_key_file` {path}: {source}")]
    Key { path: String, source: KeyError },
}

/// The key in `path`, of `algorithm`, with `kid` (or its thumbprint's).
pub fn from_file(
    path: &Path,
    algorithm: SigningAlgorithm,
    kid: Option<String>,
) -> Result<SigningKey, KeyFileError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|source| KeyFileError::Read {
        path: shown.clone(),
        source,
    })?;
    SigningKey::from_pem(&pem, algorithm, kid).map_err(|source| KeyFileError::Key {
        path: shown,
        source,
    })
}
