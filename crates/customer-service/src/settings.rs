//! customer-service configuration: defaults, then a TOML file, then `CUSTOMER_SERVICE__…`.

use std::path::Path;

use auth_middleware::VerifierSettings;
use serde::Deserialize;
use service_kit::config::LoadError;
use telemetry::{LogSettings, TraceSettings};

pub const ENV_PREFIX: &str = "CUSTOMER_SERVICE";
pub const CONFIG_FILE_ENV: &str = "CUSTOMER_SERVICE_CONFIG";
/// The public URL of this resource (RFC 9728 `resource`) unless `auth.resource` says otherwise.
pub const DEFAULT_RESOURCE: &str = "http://localhost:8085/customer-service";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The local playground: only then may the issuer's keys come over plain http from a
    /// host beyond loopback. Never set it anywhere else.
    pub playground: bool,
    pub server: ServerSettings,
    /// The management listener (`[management]`): health and metrics, loopback by default.
    pub management: service_kit::management::ManagementSettings,
    pub auth: VerifierSettings,
    pub store: StoreSettings,
    /// Browser apps allowed to call the service (`[cors]`); none by default.
    pub cors: service_kit::cors::CorsSettings,
    pub log: LogSettings,
    /// Trace export over OTLP (`[telemetry]`); off unless an endpoint is configured.
    pub telemetry: TraceSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            playground: false,
            server: ServerSettings::default(),
            management: service_kit::management::ManagementSettings::default(),
            auth: VerifierSettings {
                realm: "customer-service".to_owned(),
                resource: Some(DEFAULT_RESOURCE.to_owned()),
                ..VerifierSettings::default()
            },
            store: StoreSettings::default(),
            cors: service_kit::cors::CorsSettings::default(),
            log: LogSettings::default(),
            telemetry: TraceSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub context_path: String,
    /// Largest accepted request body, in bytes; larger is 413.
    pub max_body_bytes: usize,
    pub workers: Option<usize>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8081,
            context_path: "/customer-service".to_owned(),
            max_body_bytes: 16 * 1024,
            workers: None,
        }
    }
}

/// The `[store]` table: where customers are kept.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSettings {
    /// `sqlite://PATH` (created with its folder), `postgres://USER@HOST:PORT/DB`, or `memory`
    /// (nothing survives a restart).
    pub url: String,
    pub max_connections: u32,
    /// Bound on waiting for a connection; past it the store counts as unavailable (503).
    pub connect_timeout_ms: u64,
}

/// The URL's password never shows (`Settings` may be printed with `{:?}`).
impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("url", &service_kit::sql::redacted_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .finish()
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://data/customer-service.db".to_owned(),
            max_connections: 10,
            connect_timeout_ms: 2_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("`{0}`: {1}")]
    Invalid(&'static str, &'static str),
    /// A refused `[auth]` setting; the text names the key.
    #[error("{0}")]
    Auth(String),
}

impl Settings {
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let settings: Settings = service_kit::config::load(file, ENV_PREFIX)?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        self.cors
            .validate()
            .map_err(|m| SettingsError::Invalid("cors.allowed_origins", m))?;
        self.auth
            .validate(self.playground)
            .map_err(SettingsError::Auth)?;
        let cp = &self.server.context_path;
        if !cp.is_empty() && (!cp.starts_with('/') || cp.ends_with('/')) {
            return Err(SettingsError::Invalid(
                "server.context_path",
                "must be empty or start with '/' and not end with '/'",
            ));
        }
        if self.auth.issuer.is_empty() {
            return Err(SettingsError::Invalid("auth.issuer", "must not be empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_password_never_shows() {
        let s = StoreSettings {
            url: "postgres://cs:hunter2@db:5432/customers".to_owned(),
            ..StoreSettings::default()
        };
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("db:5432"),
            "{shown}"
        );
    }
}
