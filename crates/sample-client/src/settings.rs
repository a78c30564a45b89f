//! sample-client configuration: defaults, then a TOML file, then `SAMPLE_CLIENT__…`.

use std::path::Path;

use auth_middleware::Secret;
use serde::Deserialize;
use service_kit::config::LoadError;
use telemetry::{LogSettings, TraceSettings};

pub const ENV_PREFIX: &str = "SAMPLE_CLIENT";
pub const CONFIG_FILE_ENV: &str = "SAMPLE_CLIENT_CONFIG";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The local playground: only then may the issuer and the resources be plain http beyond
    /// loopback. Never set it anywhere else.
    pub playground: bool,
    pub server: ServerSettings,
    /// The management listener (`[management]`): health and metrics, loopback by default.
    pub management: service_kit::management::ManagementSettings,
    /// The OpenID Provider's issuer identifier; its metadata is read from
    /// `{issuer}/.well-known/openid-configuration`, lazily (the provider may start later).
    pub issuer: String,
    /// Where this app is reached by browsers, without a trailing `/`: the redirect URIs are
    /// built on it. Unset: `http://{server.host}:{bound port}`.
    pub public_url: Option<String>,
    /// The base URL the resource services are called under (the gateway): customer-service
    /// at `{resource_base_url}/customer-service/…`, country-service likewise.
    pub resource_base_url: String,
    pub web: WebClientSettings,
    pub spa: SpaClientSettings,
    /// The most signed-in sessions kept in memory; the oldest is dropped beyond it.
    pub max_sessions: usize,
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
            issuer: "http://localhost:8085/ms-auth-server".to_owned(),
            public_url: None,
            resource_base_url: "http://localhost:8085".to_owned(),
            web: WebClientSettings::default(),
            spa: SpaClientSettings::default(),
            max_sessions: 1000,
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
    pub workers: Option<usize>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8080,
            workers: None,
        }
    }
}

/// `[web]`: the confidential client the server-side app signs in as (client_secret_basic).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebClientSettings {
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: String,
}

impl Default for WebClientSettings {
    fn default() -> Self {
        Self {
            client_id: "playground-web".to_owned(),
            client_secret: Secret(String::new()),
            scope: "openid profile email offline_access customer.read customer.write country.read"
                .to_owned(),
        }
    }
}

/// `[spa]`: the public client the single-page app signs in as (no secret; PKCE).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpaClientSettings {
    pub client_id: String,
    pub scope: String,
}

impl Default for SpaClientSettings {
    fn default() -> Self {
        Self {
            client_id: "playground-spa".to_owned(),
            scope: "openid profile offline_access country.read".to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("`{0}`: {1}")]
    Invalid(&'static str, String),
}

impl Settings {
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let settings: Settings = service_kit::config::load(file, ENV_PREFIX)?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let playground = self.playground;
        http_url("issuer", &self.issuer, playground)?;
        http_url("resource_base_url", &self.resource_base_url, playground)?;
        if let Some(public) = &self.public_url {
            http_url("public_url", public, playground)?;
        }
        if self.web.client_id.is_empty() {
            return Err(invalid("web.client_id", "must not be empty"));
        }
        if self.web.client_secret.0.is_empty() {
            return Err(invalid("web.client_secret", "must not be empty"));
        }
        if self.spa.client_id.is_empty() {
            return Err(invalid("spa.client_id", "must not be empty"));
        }
        for (key, scope) in [
            ("web.scope", &self.web.scope),
            ("spa.scope", &self.spa.scope),
        ] {
            if !scope.split(' ').any(|s| s == "openid") {
                return Err(invalid(key, "must include openid"));
            }
        }
        if self.max_sessions == 0 {
            return Err(invalid("max_sessions", "must be at least 1"));
        }
        Ok(())
    }
}

fn invalid(key: &'static str, message: &str) -> SettingsError {
    SettingsError::Invalid(key, message.to_owned())
}

/// An absolute http(s) URL without a trailing `/`, query or fragment; plain http only on
/// loopback or in the playground.
fn http_url(key: &'static str, raw: &str, playground: bool) -> Result<(), SettingsError> {
    let url = url::Url::parse(raw).map_err(|e| invalid(key, &e.to_string()))?;
    if raw.ends_with('/') || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(key, "must have no trailing '/', query or fragment"));
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback || playground => Ok(()),
        _ => Err(invalid(
            key,
            "must be https (http only on loopback or in the playground)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_by_key() {
        let mut s = Settings {
            web: WebClientSettings {
                client_secret: Secret("s".into()),
                ..WebClientSettings::default()
            },
            ..Settings::default()
        };
        assert!(s.validate().is_ok());
        s.issuer = "http://auth.example/x".into();
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .starts_with("`issuer`")
        );
        s.playground = true;
        assert!(s.validate().is_ok());
        s.resource_base_url = "http://localhost:8085/".into();
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .starts_with("`resource_base_url`")
        );
    }
}
