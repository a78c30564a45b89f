//! `[admin]` and `[cluster]`: the operator's endpoints, and whether replicas share state.

use serde::Deserialize;

use super::{SettingsError, invalid};
use crate::oauth::secret::SecretHash;

/// `[admin]`: the operator's endpoints under `/admin`, off unless a token is configured.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// The stored form of the admin bearer token (`ms-auth-server hash-secret`); the token
    /// itself is never in the config.
    pub token_hash: Option<String>,
}

impl AdminSettings {
    pub fn validate(&self, prefix: &str) -> Result<(), SettingsError> {
        if let Some(h) = &self.token_hash {
            SecretHash::parse(h)
                .map_err(|e| invalid(format!("{prefix}.token_hash"), e.to_string()))?;
        }
        Ok(())
    }
}

/// `[cluster]`: whether several replicas share this server's state.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// Several replicas run behind the gateway: they need a shared store of record
    /// (PostgreSQL) and shared hot state (Redis), and start-up refuses to run without them.
    pub replicated: bool,
}
