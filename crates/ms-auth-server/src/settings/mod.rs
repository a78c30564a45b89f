//! Typed configuration: built-in defaults, then a TOML file, then `MS_AUTH_SERVER__…` environment
//! variables. Unknown keys are refused, and every error names the key it is about.
//!
//! `Settings` is the root; each section is a file of its own with its own `validate(prefix)`
//! (the store's is `store/settings.rs`), composed here once.

mod admin;
mod client_auth;
mod clients;
mod issuer;
mod keys;
mod logout;
mod registration;
mod scopes;
mod server;
mod sessions;
mod tokens;
mod users;

use std::path::Path;

use serde::Deserialize;

use service_kit::config::LoadError;
use telemetry::{LogSettings, TraceSettings};

pub use admin::{AdminSettings, ClusterSettings};
pub use client_auth::ClientAuthSettings;
pub use clients::ClientSettings;
pub use keys::KeySettings;
pub use logout::LogoutSettings;
pub use registration::{RegistrationMode, RegistrationSettings};
pub use server::{DEFAULT_MAX_BODY_BYTES, ServerSettings};
pub use sessions::SessionSettings;
pub use tokens::{
    IntrospectionSettings, MAX_ACCESS_TOKEN_TTL_SECS, MAX_REFRESH_GRACE_SECS, TokenSettings,
};
pub use users::ConfigUser;

pub use crate::identity::password::PasswordSettings;

pub use crate::oauth::uri::is_loopback;
use crate::oauth::{
    client::{Client, RegistrationPolicy},
    resources::{ScopeDefinition, ScopeRegistry},
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
    /// Browser sessions at the sign-in pages (`[sessions]`).
    pub sessions: SessionSettings,
    /// Back-channel logout delivery (`[logout]`).
    pub logout: LogoutSettings,
    /// Client assertions and `jwks_uri` fetches (`[client_auth]`).
    pub client_auth: ClientAuthSettings,
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
    /// Dynamic client registration (`[registration]`): off unless configured.
    pub registration: RegistrationSettings,
    /// How user passwords are hashed (`[passwords]`).
    pub passwords: PasswordSettings,
    /// The accounts the config manages (`[[users]]`); there may be none.
    pub users: Vec<ConfigUser>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            playground: false,
            server: ServerSettings::default(),
            management: service_kit::management::ManagementSettings::default(),
            issuer: "http://localhost:8085/ms-auth-server".to_owned(),
            tokens: TokenSettings::default(),
            sessions: SessionSettings::default(),
            logout: LogoutSettings::default(),
            client_auth: ClientAuthSettings::default(),
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
            registration: RegistrationSettings::default(),
            passwords: PasswordSettings::default(),
            users: Vec::new(),
        }
    }
}

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
    /// Loads defaults, then `file` if given, then environment overrides, and validates: the
    /// one check of a configuration, on which everything built from it relies.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let settings: Settings = service_kit::config::load(file, ENV_PREFIX)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what types alone cannot, section by section.
    pub fn validate(&self) -> Result<(), SettingsError> {
        issuer::validate(&self.issuer, self.playground)?;
        self.tokens.validate()?;
        self.sessions.validate()?;
        self.logout.validate()?;
        self.client_auth.validate()?;
        self.server.validate("server")?;
        self.validate_store()?;
        self.admin.validate("admin")?;
        let bf = &self.brute_force;
        if bf.window_secs == 0 || bf.max_failures_per_source == 0 || bf.max_failures_per_client == 0
        {
            return Err(invalid(
                "brute_force",
                "window_secs, max_failures_per_source and max_failures_per_client must be positive",
            ));
        }
        let registry = scopes::validate("scopes", &self.scopes, self.playground)?;
        clients::validate(
            "clients",
            &self.clients,
            &self.registration_policy(&registry),
        )?;
        self.registration.validate(&registry)?;
        self.passwords.validate("passwords")?;
        users::validate("users", &self.users, self.playground)
    }

    /// `[store]` with `[cluster]` and `[redis]`: replicas share both tiers, and a SQL store
    /// seals its keys under a key of the operator's own.
    fn validate_store(&self) -> Result<(), SettingsError> {
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
        if self.store.is_memory() {
            return Ok(());
        }
        let Some(key) = &self.store.encryption_key else {
            return Err(invalid(
                "store.encryption_key",
                "is required with a SQL store: 32 random bytes, base64 (`openssl rand -base64 32`)",
            ));
        };
        crate::store::sealing::Sealer::from_base64(&key.0)
            .map_err(|e| invalid("store.encryption_key", e.to_string()))?;
        if key.0 == PLAYGROUND_ENCRYPTION_KEY && !self.playground {
            return Err(invalid(
                "store.encryption_key",
                "is the playground's published key: make your own with `openssl rand -base64 32`",
            ));
        }
        Ok(())
    }

    /// What the config's clients are checked against (dynamic registration adds its limits).
    pub fn registration_policy<'a>(&self, scopes: &'a ScopeRegistry) -> RegistrationPolicy<'a> {
        RegistrationPolicy {
            playground: self.playground,
            max_access_token_ttl_secs: MAX_ACCESS_TOKEN_TTL_SECS,
            scopes,
            dynamic: None,
        }
    }

    /// The registry every token's `aud` is derived from (`[[scopes]]`, as validated).
    pub fn scope_registry(&self) -> ScopeRegistry {
        ScopeRegistry::with_openid(self.scopes.clone())
    }

    /// The registered clients, secrets hashed (or sealed under `sealer`, for
    /// `client_secret_jwt`). Plain-text secrets are logged as a warning (by id, never by
    /// value).
    pub fn clients(
        &self,
        sealer: &crate::store::sealing::Sealer,
    ) -> Result<Vec<Client>, SettingsError> {
        self.clients
            .iter()
            .enumerate()
            .map(|(i, c)| c.to_client(&format!("clients[{i}]"), sealer))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::secret::{ClientSecret, SecretHash};

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
            // The public client has none.
            let Some(secret) = c.client_secret.take() else {
                continue;
            };
            c.client_secret_hash = Some(SecretHash::generate(&secret).unwrap().to_phc());
        }
        // …then plain-text passwords in the config's users.
        assert_eq!(refused_key(&s), "users[0].password");
        for u in &mut s.users {
            u.password = None;
            // "password" under the salt "somesalt" (the argon2 reference implementation).
            u.password_hash = Some("$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$qLml5cbqFAO6YxVHhrSBHP0UWdxrIxkNcM8aMX3blzU".to_owned());
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
                let r = &mut c.metadata.resource_server;
                *r = r.as_ref().map(|r| r.replace(from, to));
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
