//! `[server]`: the public listener.

use serde::Deserialize;

use super::{SettingsError, invalid};

/// `server.max_body_bytes` when unset.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Path prefix every route is served under; `""` serves at the root.
    pub context_path: String,
    /// Largest accepted request body, in bytes; larger is 413.
    pub max_body_bytes: usize,
    /// HTTP worker threads; the number of cores when unset.
    pub workers: Option<usize>,
    /// Time a request body gets (larger ones must then keep coming at 8 KiB/s); 408 past it.
    pub body_timeout_ms: u64,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client, for
    /// brute-force accounting: the gateway. Nobody else is believed.
    pub trusted_proxies: Vec<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 9000,
            context_path: "/ms-auth-server".to_owned(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            workers: None,
            body_timeout_ms: 10_000,
            trusted_proxies: Vec::new(),
        }
    }
}

impl ServerSettings {
    /// Checks the section found at `prefix`.
    pub fn validate(&self, prefix: &str) -> Result<(), SettingsError> {
        let key = |field: &str| format!("{prefix}.{field}");
        let cp = &self.context_path;
        if !cp.is_empty()
            && (!cp.starts_with('/') || cp.ends_with('/') || cp.contains(['?', '#', ' ']))
        {
            return Err(invalid(
                key("context_path"),
                "must be empty or start with '/' and not end with '/'",
            ));
        }
        if self.body_timeout_ms == 0 {
            return Err(invalid(key("body_timeout_ms"), "must be positive"));
        }
        if self.max_body_bytes < 1024 {
            return Err(invalid(key("max_body_bytes"), "must be at least 1024"));
        }
        for (i, p) in self.trusted_proxies.iter().enumerate() {
            if service_kit::proxies::parse_net(p).is_none() {
                return Err(invalid(
                    format!("{prefix}.trusted_proxies[{i}]"),
                    format!("{p:?} is not an IP address or CIDR range"),
                ));
            }
        }
        if self.workers == Some(0) {
            return Err(invalid(key("workers"), "must be at least 1"));
        }
        Ok(())
    }
}
