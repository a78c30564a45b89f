//! `[client_auth]`: how client assertions (`client_secret_jwt`, `private_key_jwt`; RFC 7523
//! §3) are checked, and how clients' `jwks_uri` key sets are fetched.

use std::time::Duration;

use serde::Deserialize;

use super::{SettingsError, invalid};
use crate::oauth::client_keys::KeySetTimes;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientAuthSettings {
    /// How far ahead of now an assertion's `exp` may be: a stolen assertion is good this long
    /// at most, and its `jti` is kept as long.
    pub assertion_max_lifetime_secs: u64,
    /// Clock skew allowed between the client and this server, either way.
    pub assertion_leeway_secs: u64,
    /// One fetch of a client's `jwks_uri` may take this long (connect, send, answer).
    pub jwks_uri_timeout_ms: u64,
    /// The largest JWK set read from a `jwks_uri`.
    pub jwks_uri_max_bytes: usize,
    /// How long a fetched key set is used before it is fetched again.
    pub jwks_uri_cache_secs: u64,
    /// The least time between two fetches of one `jwks_uri` (after an unknown `kid`, or a
    /// failed fetch).
    pub jwks_uri_refetch_interval_secs: u64,
}

impl Default for ClientAuthSettings {
    fn default() -> Self {
        Self {
            assertion_max_lifetime_secs: 300,
            assertion_leeway_secs: 15,
            jwks_uri_timeout_ms: 3_000,
            jwks_uri_max_bytes: 64 * 1024,
            jwks_uri_cache_secs: 300,
            jwks_uri_refetch_interval_secs: 60,
        }
    }
}

impl ClientAuthSettings {
    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        let key = |k: &str| format!("client_auth.{k}");
        if !(10..=3_600).contains(&self.assertion_max_lifetime_secs) {
            return Err(invalid(
                key("assertion_max_lifetime_secs"),
                "must be between 10 and 3600",
            ));
        }
        if self.assertion_leeway_secs > 120 {
            return Err(invalid(key("assertion_leeway_secs"), "must be at most 120"));
        }
        if !(100..=30_000).contains(&self.jwks_uri_timeout_ms) {
            return Err(invalid(
                key("jwks_uri_timeout_ms"),
                "must be between 100 and 30000",
            ));
        }
        if !(1_024..=1_048_576).contains(&self.jwks_uri_max_bytes) {
            return Err(invalid(
                key("jwks_uri_max_bytes"),
                "must be between 1024 and 1048576",
            ));
        }
        if self.jwks_uri_refetch_interval_secs == 0
            || self.jwks_uri_refetch_interval_secs > self.jwks_uri_cache_secs
        {
            return Err(invalid(
                key("jwks_uri_refetch_interval_secs"),
                "must be at least 1 and at most client_auth.jwks_uri_cache_secs",
            ));
        }
        Ok(())
    }

    pub fn key_set_times(&self) -> KeySetTimes {
        KeySetTimes {
            cache: Duration::from_secs(self.jwks_uri_cache_secs),
            refetch_interval: Duration::from_secs(self.jwks_uri_refetch_interval_secs),
        }
    }
}
