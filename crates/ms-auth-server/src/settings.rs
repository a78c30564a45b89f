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

use crate::keys::SigningAlgorithm;
use crate::oauth::{
    access_token::ScopeClaimFormat,
    client::{AuthMethod, Client, ClientId, ClientOrigin, GrantType},
    resources::{ScopeDefinition, ScopeRegistry},
    scope::ScopeSet,
    secret::{ClientSecret, SecretHash},
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
    /// Failed client and admin authentications, counted and throttled (`[brute_force]`).
    pub brute_force: crate::oauth::brute_force::BruteForceSettings,
    pub admin: AdminSettings,
    pub log: LogSettings,
    /// Trace export over OTLP (`[telemetry]`); off unless an endpoint is configured.
    pub telemetry: TraceSettings,
    /// The scope registry (`[[scopes]]`): every scope a client may be granted, its
    /// description and the resource it belongs to.
    pub scopes: Vec<ScopeDefinition>,
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
            brute_force: crate::oauth::brute_force::BruteForceSettings::default(),
            admin: AdminSettings::default(),
            log: LogSettings::default(),
            telemetry: TraceSettings::default(),
            scopes: Vec::new(),
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
            max_body_bytes: 16 * 1024,
            workers: None,
            body_timeout_ms: 10_000,
            trusted_proxies: Vec::new(),
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// `array` (as the docs' tokens) or `string` (RFC 9068 §2.2.3).
    pub scope_claim: ScopeClaimFormat,
    /// Tokens one client may be issued per second across replicas; more answer `429
    /// slow_down`. Generous: it bounds a runaway or hostile client (every fresh token costs
    /// resource servers a verification and an introspection), not normal use.
    pub max_per_client_per_second: u64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            scope_claim: ScopeClaimFormat::default(),
            max_per_client_per_second: 20_000,
        }
    }
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
    pub fn lifecycle(&self) -> crate::keys::lifecycle::Lifecycle {
        crate::keys::lifecycle::Lifecycle {
            algorithm: self.algorithm,
            jwks_max_age_secs: self.jwks_max_age_secs,
            poll: Duration::from_secs(self.poll_secs.max(1)),
            rotate_after_secs: self.rotate_after_secs,
            retire_for: Duration::from_secs(MAX_ACCESS_TOKEN_TTL_SECS + 60),
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
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    pub token_endpoint_auth_methods: Vec<AuthMethod>,
    #[serde(default)]
    pub scopes: ScopeSet,
    /// What a request without `scope` is granted (a subset of `scopes`); without it such a
    /// request is `invalid_scope` (RFC 6749 §3.3).
    #[serde(default)]
    pub default_scopes: Option<ScopeSet>,
    /// Audiences added to the resources of the granted scopes in `aud`.
    #[serde(default)]
    pub audience: Vec<String>,
    #[serde(default = "default_access_token_ttl_secs")]
    pub access_token_ttl_secs: u64,
    /// This client is the resource server with this RFC 9728 identifier: it may introspect
    /// the tokens meant for it (RFC 7662 §4).
    #[serde(default)]
    pub resource_server: Option<String>,
}

/// 15 minutes: a leaked access token is useful briefly (RFC 9700 §2.2.2, §4.14).
fn default_access_token_ttl_secs() -> u64 {
    900
}

/// The longest access-token lifetime a client may be configured with.
pub const MAX_ACCESS_TOKEN_TTL_SECS: u64 = 24 * 3600;

/// The encryption key the playground's config publishes: refused anywhere else.
pub const PLAYGROUND_ENCRYPTION_KEY: &str = "cGxheWdyb3VuZC1vbmx5LWtleS0zMi1ieXRlcy0hISE=";

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
        validate_issuer(&self.issuer, self.playground)?;
        let cp = &self.server.context_path;
        if !cp.is_empty()
            && (!cp.starts_with('/') || cp.ends_with('/') || cp.contains(['?', '#', ' ']))
        {
            return Err(invalid(
                "server.context_path",
                "must be empty or start with '/' and not end with '/'",
            ));
        }
        if self.server.body_timeout_ms == 0 {
            return Err(invalid("server.body_timeout_ms", "must be positive"));
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
                    if key.0 == PLAYGROUND_ENCRYPTION_KEY && !self.playground {
                        return Err(invalid(
                            "store.encryption_key",
                            "is the playground's published key: make your own with `openssl rand -base64 32`",
                        ));
                    }
                }
            }
        }
        if let Some(h) = &self.admin.token_hash {
            SecretHash::parse(h).map_err(|e| invalid("admin.token_hash", e.to_string()))?;
        }
        for (i, p) in self.server.trusted_proxies.iter().enumerate() {
            if service_kit::proxies::parse_net(p).is_none() {
                return Err(invalid(
                    format!("server.trusted_proxies[{i}]"),
                    format!("{p:?} is not an IP address or CIDR range"),
                ));
            }
        }
        let bf = &self.brute_force;
        if bf.window_secs == 0 || bf.max_failures_per_source == 0 || bf.max_failures_per_client == 0
        {
            return Err(invalid(
                "brute_force",
                "window_secs, max_failures_per_source and max_failures_per_client must be positive",
            ));
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
        let registry = self.validate_scopes()?;
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
                (Some(_), None) if !self.playground => {
                    return Err(invalid(
                        key("client_secret"),
                        "plain-text secrets are for the playground only: give client_secret_hash (`ms-auth-server generate-secret`)",
                    ));
                }
                (None, Some(h)) => {
                    SecretHash::parse(h)
                        .map_err(|e| invalid(key("client_secret_hash"), e.to_string()))?;
                }
                (Some(_), None) => {}
            }
            // A resource server's client may exist only to introspect.
            let introspects_only = c.resource_server.is_some();
            if c.grant_types.is_empty() && !introspects_only {
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
            if c.scopes.is_empty() && !introspects_only {
                return Err(invalid(key("scopes"), "must list at least one scope"));
            }
            if c.access_token_ttl_secs == 0 || c.access_token_ttl_secs > MAX_ACCESS_TOKEN_TTL_SECS {
                return Err(invalid(
                    key("access_token_ttl_secs"),
                    format!("must be between 1 and {MAX_ACCESS_TOKEN_TTL_SECS} (24 hours)"),
                ));
            }
            if let Some(unknown) = c.scopes.iter().find(|s| !registry.contains(s)) {
                return Err(invalid(
                    key("scopes"),
                    format!(
                        "{unknown} is not in the scope registry: add a [[scopes]] entry for it"
                    ),
                ));
            }
            if let Some(defaults) = &c.default_scopes
                && let Some(extra) = defaults.iter().find(|s| !c.scopes.contains(s))
            {
                return Err(invalid(
                    key("default_scopes"),
                    format!("{extra} is not among the client's scopes"),
                ));
            }
            if let Some(r) = &c.resource_server {
                validate_resource(r, self.playground)
                    .map_err(|m| invalid(key("resource_server"), m))?;
            }
            for a in &c.audience {
                if a.is_empty() {
                    return Err(invalid(key("audience"), "must not hold an empty value"));
                }
            }
        }
        Ok(())
    }

    /// The scope registry of `[[scopes]]`, checked: names unique, resources absolute URLs.
    fn validate_scopes(&self) -> Result<ScopeRegistry, SettingsError> {
        let mut seen = HashSet::new();
        for (i, d) in self.scopes.iter().enumerate() {
            let key = |field: &str| format!("scopes[{i}].{field}");
            if !seen.insert(d.name.as_str()) {
                return Err(invalid(
                    key("name"),
                    format!("{} is registered twice", d.name),
                ));
            }
            if d.description.trim().is_empty() {
                return Err(invalid(
                    key("description"),
                    "must not be empty: the consent page shows it",
                ));
            }
            if let Some(r) = &d.resource {
                validate_resource(r, self.playground).map_err(|m| invalid(key("resource"), m))?;
            }
        }
        Ok(ScopeRegistry::new(self.scopes.clone()))
    }

    /// The registry every token's `aud` is derived from.
    pub fn scope_registry(&self) -> Result<ScopeRegistry, SettingsError> {
        self.validate_scopes()
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
                            "client secret is given in plain text in the config (accepted with playground = true only)"
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
                    default_scopes: c.default_scopes.clone(),
                    audience: c.audience.clone(),
                    access_token_ttl: Duration::from_secs(c.access_token_ttl_secs),
                    resource_server: c.resource_server.clone(),
                    origin: ClientOrigin::Config,
                    enabled: true,
                })
            })
            .collect()
    }
}

/// Whether `url`'s host is loopback (`localhost`, 127.0.0.0/8, ::1): plain http is safe there
/// only because nothing leaves the machine.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// An RFC 9728 resource identifier: an absolute https URL without a fragment (http only on
/// loopback or in the playground).
fn validate_resource(resource: &str, playground: bool) -> Result<(), String> {
    let url = url::Url::parse(resource).map_err(|e| format!("{resource:?} is not a URL: {e}"))?;
    if url.fragment().is_some() || url.host().is_none() {
        return Err(
            "must be an absolute URL with a host and no fragment (RFC 9728 §1.2)".to_owned(),
        );
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if playground || is_loopback(&url) => Ok(()),
        _ => Err(
            "must be an https URL (http only on loopback, or with playground = true)".to_owned(),
        ),
    }
}

/// RFC 8414 §2: "The authorization server's issuer identifier, which is a URL that uses the
/// https scheme and has no query or fragment components". Plain http only for a loopback host
/// or in the playground.
fn validate_issuer(issuer: &str, playground: bool) -> Result<(), SettingsError> {
    let url = url::Url::parse(issuer)
        .map_err(|e| invalid("issuer", format!("{issuer:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid("issuer", "must be an https URL with a host"));
    }
    if url.scheme() == "http" && !playground && !is_loopback(&url) {
        return Err(invalid(
            "issuer",
            "must be an https URL (RFC 8414 §2); http only for a loopback host, or with playground = true",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn playground() -> Settings {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/playground/ms-auth-server.toml");
        Settings::load(Some(&path)).expect("the playground config loads")
    }

    fn refused_key(settings: &Settings) -> String {
        match settings.validate() {
            Err(SettingsError::Invalid { key, .. }) => key,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// F6, F10: what only a playground may do is refused without `playground = true`.
    #[test]
    fn playground_shortcuts_need_playground_true() {
        let mut s = playground();
        assert!(s.validate().is_ok());
        s.playground = false;
        // Plain-text secrets come first in the config's clients…
        assert_eq!(refused_key(&s), "store.encryption_key", "the published key");
        s.store.encryption_key = Some(crate::store::settings::EncryptionKey(
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
        ));
        assert_eq!(refused_key(&s), "clients[0].client_secret");
        for c in &mut s.clients {
            let secret = c.client_secret.take().unwrap();
            c.client_secret_hash = Some(SecretHash::generate(&secret).unwrap().to_phc());
        }
        assert!(s.validate().is_ok(), "hashed secrets, a loopback issuer");
        s.issuer = "http://auth.example.com/ms-auth-server".to_owned();
        assert_eq!(refused_key(&s), "issuer", "plain http beyond loopback");
        s.issuer = "https://auth.example.com/ms-auth-server".to_owned();
        assert!(s.validate().is_ok(), "loopback resources");
        let move_resources = |s: &mut Settings, from: &str, to: &str| {
            for d in &mut s.scopes {
                d.resource = d.resource.as_ref().map(|r| r.replace(from, to));
            }
            for c in &mut s.clients {
                c.resource_server = c.resource_server.as_ref().map(|r| r.replace(from, to));
            }
        };
        move_resources(&mut s, "http://localhost:8085", "http://api.example.com");
        assert_eq!(
            refused_key(&s),
            "scopes[0].resource",
            "http resources beyond loopback"
        );
        move_resources(&mut s, "http://", "https://");
        assert!(s.validate().is_ok());
        s.playground = true;
        s.issuer = "http://ms-auth-server:9000/ms-auth-server".to_owned();
        assert!(
            s.validate().is_ok(),
            "containers talk plain http in the playground"
        );
    }

    #[test]
    fn secret_strength() {
        assert!(!ClientSecret::new("service-client-jwt-secret").is_strong());
        assert!(!ClientSecret::new("hunter2").is_strong());
        assert!(ClientSecret::generate().unwrap().is_strong());
        assert!(ClientSecret::new("Tr0ub4dor&3-correct-horse-battery-staple").is_strong());
    }
}
