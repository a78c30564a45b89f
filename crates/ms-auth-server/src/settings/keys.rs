//! `[keys]`: the signing key and its lifecycle (next → active → retired).

use std::{path::PathBuf, time::Duration};

use serde::Deserialize;

use super::MAX_ACCESS_TOKEN_TTL_SECS;
use crate::keys::{SigningAlgorithm, lifecycle::Lifecycle};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeySettings {
    pub algorithm: SigningAlgorithm,
    /// PEM private key; a fresh key is generated at each start when unset.
    pub private_key_file: Option<PathBuf>,
    /// `kid` of the key from the file; a UUID derived from its thumbprint when unset.
    pub kid: Option<String>,
    /// `Cache-Control: max-age` of the JWKS; a new key is published this long (plus
    /// `poll_secs`) before it signs.
    pub jwks_max_age_secs: u64,
    /// How often each replica checks the store for key changes (notices make it sooner).
    pub poll_secs: u64,
    /// Rotate automatically once the active key is this old; never when unset.
    pub rotate_after_secs: Option<u64>,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            algorithm: SigningAlgorithm::RS256,
            private_key_file: None,
            kid: None,
            jwks_max_age_secs: 300,
            poll_secs: 5,
            rotate_after_secs: None,
        }
    }
}

impl KeySettings {
    pub fn lifecycle(&self) -> Lifecycle {
        Lifecycle {
            algorithm: self.algorithm,
            jwks_max_age_secs: self.jwks_max_age_secs,
            poll: Duration::from_secs(self.poll_secs.max(1)),
            rotate_after_secs: self.rotate_after_secs,
            // A retired key stays published as long as a token it signed may live.
            retire_for: Duration::from_secs(MAX_ACCESS_TOKEN_TTL_SECS + 60),
        }
    }
}
