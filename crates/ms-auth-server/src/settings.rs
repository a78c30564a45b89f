//! Typed configuration: built-in defaults, then a TOML file, then `MS_AUTH_SERVER__…` environment
//! variables. Unknown keys are refused, and every error names the key it is about.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;

use service_kit::config::LoadError;
use telemetry::{LogSettings, TraceSettings};

use crate::oauth::{
    client::{AuthMethod, Client, ClientId, GrantType},
    keys::SigningAlgorithm,
    scope::ScopeSet,
    secret::{ClientSecret, SecretHash},
    token::ScopeClaimFormat,
};
use crate::store::{RedisSettings, StoreSettings};

/// Prefix of environment overrides: `MS_AUTH_SERVER__SERVER__PORT=9001` sets `server.port`.
pub const ENV_PREFIX: &str = "MS_AUTH_SERVER";
/// Environment variable naming the config file when `--config` is not given.
pub const CONFIG_FILE_ENV: &str = "MS_AUTH_SERVER_CONFIG";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The local playground (`deploy/playground/`): only then are plain-http issuers beyond
    /// loopback, plain-text or weak secrets and the playground's published encryption key
    /// accepted. Never set it anywhere else.
    pub playground: bool,
    pub server: ServerSettings,
    /// The management listener (`[management]`): health and metrics, loopback by default.
    pub management: service_kit::management::ManagementSettings,
    /// The issuer identifier: the public URL of this server (through the gateway).
    pub issuer: String,
    pub tokens: TokenSettings,
    pub keys: KeySettings,
    /// The store of record (`[store]`).
    pub store: StoreSettings,
    /// Hot shared state (`[redis]`); in process when no URL is set.
    pub redis: RedisSettings,
    pub cluster: ClusterSettings,
    pub introspection: IntrospectionSettings,
    pub admin: AdminSettings,
    pub log: LogSettings,
    /// Trace export over OTLP (`[telemetry]`); off unless an endpoint is configured.
    pub telemetry: TraceSettings,
    pub clients: Vec<ClientSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            playground: false,
            server: ServerSettings::default(),
            management: service_kit::management::ManagementSettings::default(),
            issuer: "http://localhost:8085/ms-auth-server".to_owned(),
            tokens: TokenSettings::default(),
            keys: KeySettings::default(),
            store: StoreSettings::default(),
            redis: RedisSettings::default(),
            cluster: ClusterSettings::default(),
            introspection: IntrospectionSettings::default(),
            admin: AdminSettings::default(),
            log: LogSettings::default(),
            telemetry: TraceSettings::default(),
            clients: Vec::new(),
        }
    }
}

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
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 9000,
            context_path: "/ms-auth-server".to_owned(),
            max_body_bytes: 16 * 1024,
            workers: None,
        }
    }
}

/// `[introspection]`: RFC 7662 §4 throttling, per calling client, across replicas.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntrospectionSettings {
    /// Requests one client may make in a second; more answer 429.
    pub max_requests_per_second: u64,
}

impl Default for IntrospectionSettings {
    fn default() -> Self {
        Self {
            max_requests_per_second: 1_000,
        }
    }
}

/// `[admin]`: the operator's endpoints under `/admin`, off unless a token is configured.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// The stored form of the admin bearer token (`ms-auth-server hash-secret`); the token
    /// itself is never in the config.
    pub token_hash: Option<String>,
}

/// `[cluster]`: whether several replicas share this server's state.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// Several replicas run behind the gateway: they need a shared store of record
    /// (PostgreSQL) and shared hot state (Redis), and start-up refuses to run without them.
    pub replicated: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// `array` (as the docs' tokens) or `string` (RFC 9068 §2.2.3).
    pub scope_claim: ScopeClaimFormat,
}

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
    pub fn lifecycle(&self) -> crate::key_lifecycle::Lifecycle {
        crate::key_lifecycle::Lifecycle {
            algorithm: self.algorithm,
            jwks_max_age_secs: self.jwks_max_age_secs,
            poll: Duration::from_secs(self.poll_secs.max(1)),
            rotate_after_secs: self.rotate_after_secs,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    pub client_id: String,
    /// Plain-text secret (playground only: a warning is logged at start-up).
    pub client_secret: Option<ClientSecret>,
    /// `$hmac-sha256$v=1$<salt>$<hash>`, as printed by `ms-auth-server hash-secret`.
    pub client_secret_hash: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub token_endpoint_auth_methods: Vec<AuthMethod>,
    pub scopes: ScopeSet,
    #[serde(default)]
    pub audience: Vec<String>,
    #[serde(default = "default_access_token_ttl_secs")]
    pub access_token_ttl_secs: u64,
}

fn default_access_token_ttl_secs() -> u64 {
    3600
}

/// A configuration error, naming the key it is about.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("`{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

impl Settings {
    /// Loads defaults, then `file` if given, then environment overrides, and validates.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let settings: Settings = service_kit::config::load(file, ENV_PREFIX)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), SettingsError> {
        validate_issuer(&self.issuer)?;
        let cp = &self.server.context_path;
        if !cp.is_empty()
            && (!cp.starts_with('/') || cp.ends_with('/') || cp.contains(['?', '#', ' ']))
        {
            return Err(invalid(
                "server.context_path",
                "must be empty or start with '/' and not end with '/'",
            ));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024"));
        }
        if self.cluster.replicated {
            if self.redis.url.is_none() {
                return Err(invalid(
                    "redis.url",
                    "is required with cluster.replicated = true: replicas must share the denylist, replay set, rate limits and cache notices",
                ));
            }
            if !self.store.url.starts_with("postgres") {
                return Err(invalid(
                    "store.url",
                    "must be a postgres:// URL with cluster.replicated = true: replicas must share one store of record",
                ));
            }
        }
        if !self.store.is_memory() {
            match &self.store.encryption_key {
                None => {
                    return Err(invalid(
                        "store.encryption_key",
                        "is required with a SQL store: 32 random bytes, base64 (`openssl rand -base64 32`)",
                    ));
                }
                Some(key) => {
                    crate::store::sealing::Sealer::from_base64(&key.0)
                        .map_err(|e| invalid("store.encryption_key", e.to_string()))?;
                }
            }
        }
        if let Some(h) = &self.admin.token_hash {
            SecretHash::parse(h).map_err(|e| invalid("admin.token_hash", e.to_string()))?;
        }
        if self.server.workers == Some(0) {
            return Err(invalid("server.workers", "must be at least 1"));
        }
        if self.clients.is_empty() {
            return Err(invalid(
                "clients",
                "no clients are registered: declare at least one [[clients]] table in the config file",
            ));
        }
        let mut seen = HashSet::new();
        for (i, c) in self.clients.iter().enumerate() {
            let key = |field: &str| format!("clients[{i}].{field}");
            if c.client_id.is_empty() {
                return Err(invalid(key("client_id"), "must not be empty"));
            }
            if !seen.insert(c.client_id.as_str()) {
                return Err(invalid(
                    key("client_id"),
                    format!("{:?} is registered twice", c.client_id),
                ));
            }
            match (&c.client_secret, &c.client_secret_hash) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        key("client_secret"),
                        "give client_secret or client_secret_hash, not both",
                    ));
                }
                (None, None) => {
                    return Err(invalid(
                        key("client_secret_hash"),
                        "a client secret is required",
                    ));
                }
                (Some(s), None) if s.expose().is_empty() => {
                    return Err(invalid(key("client_secret"), "must not be empty"));
                }
                (None, Some(h)) => {
                    SecretHash::parse(h)
                        .map_err(|e| invalid(key("client_secret_hash"), e.to_string()))?;
                }
                (Some(_), None) => {}
            }
            if c.grant_types.is_empty() {
                return Err(invalid(
                    key("grant_types"),
                    "must list at least one grant type",
                ));
            }
            if c.token_endpoint_auth_methods.is_empty() {
                return Err(invalid(
                    key("token_endpoint_auth_methods"),
                    "must list at least one method",
                ));
            }
            if c.scopes.is_empty() {
                return Err(invalid(key("scopes"), "must list at least one scope"));
            }
            if c.access_token_ttl_secs == 0 || c.access_token_ttl_secs > 7 * 24 * 3600 {
                return Err(invalid(
                    key("access_token_ttl_secs"),
                    "must be between 1 and 604800 (7 days)",
                ));
            }
        }
        Ok(())
    }

    /// The registered clients, secrets hashed. Plain-text secrets are hashed here and logged
    /// as a warning (by id, never by value).
    pub fn clients(&self) -> Result<Vec<Client>, SettingsError> {
        self.clients
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let secret = match (&c.client_secret, &c.client_secret_hash) {
                    (_, Some(h)) => {
                        SecretHash::parse(h).map_err(|e| invalid(format!("clients[{i}].client_secret_hash"), e.to_string()))?
                    }
                    (Some(plain), None) => {
                        tracing::warn!(
                            client_id = %c.client_id,
                            "client secret is given in plain text in the config; use client_secret_hash (ms-auth-server hash-secret) outside the playground"
                        );
                        SecretHash::generate(plain).map_err(|_| invalid(format!("clients[{i}].client_secret"), "could not hash"))?
                    }
                    (None, None) => return Err(invalid(format!("clients[{i}].client_secret_hash"), "a client secret is required")),
                };
                Ok(Client {
                    id: ClientId::new(c.client_id.clone()),
                    secret,
                    grant_types: c.grant_types.clone(),
                    auth_methods: c.token_endpoint_auth_methods.clone(),
                    scopes: c.scopes.clone(),
                    audience: c.audience.clone(),
                    access_token_ttl: Duration::from_secs(c.access_token_ttl_secs),
                })
            })
            .collect()
    }
}

/// RFC 8414 §2: a URL with no query or fragment; https, or http for local development.
fn validate_issuer(issuer: &str) -> Result<(), SettingsError> {
    let url = url::Url::parse(issuer)
        .map_err(|e| invalid("issuer", format!("{issuer:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(
            "issuer",
            "must be an http or https URL with a host",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "issuer",
            "must not have a query or fragment (RFC 8414 §2)",
        ));
    }
    if issuer.ends_with('/') {
        return Err(invalid(
            "issuer",
            "must not end with '/': it is compared character for character",
        ));
    }
    Ok(())
}
