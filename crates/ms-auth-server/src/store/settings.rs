//! The `[store]` table: which store of record, and the key that seals private keys in it.

use std::time::Duration;

use serde::Deserialize;

use super::sealing::SealError;

/// A secret from the config whose `Debug` shows nothing.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct EncryptionKey(pub String);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(..)")
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSettings {
    /// `sqlite://PATH` (the file and its folder are created), `postgres://USER@HOST:PORT/DB`,
    /// or `memory` (nothing survives a restart: tests).
    pub url: String,
    /// 32 bytes, base64: seals the signing keys at rest. Required by the SQL stores.
    pub encryption_key: Option<EncryptionKey>,
    pub max_connections: u32,
    /// How long a replica may serve a client's registration, or the store's answer that an
    /// id is unknown, from its cache (changes made through any replica drop the copies at
    /// once; this bounds what nothing else would).
    pub client_cache_secs: u64,
    /// How long a store operation (waiting for a connection included) may take before the
    /// store counts as unavailable.
    pub connect_timeout_ms: u64,
    /// How long audit entries are kept; older ones are pruned. 0 keeps them forever.
    pub audit_retention_days: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://data/ms-auth-server.db".to_owned(),
            encryption_key: None,
            max_connections: 10,
            client_cache_secs: 60,
            connect_timeout_ms: 2_000,
            audit_retention_days: 90,
        }
    }
}

/// The URL's password never shows (F18): `Settings` may be printed with `{:?}`.
impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("url", &self.redacted_url())
            .field("encryption_key", &self.encryption_key)
            .field("max_connections", &self.max_connections)
            .field("client_cache_secs", &self.client_cache_secs)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("audit_retention_days", &self.audit_retention_days)
            .finish()
    }
}

impl StoreSettings {
    pub fn is_memory(&self) -> bool {
        self.url == "memory"
    }

    /// How long audit entries are kept; `None`: forever.
    pub fn audit_retention(&self) -> Option<Duration> {
        (self.audit_retention_days > 0)
            .then(|| Duration::from_secs(self.audit_retention_days.saturating_mul(86_400)))
    }

    /// The URL with any password masked, for logs.
    pub fn redacted_url(&self) -> String {
        service_kit::sql::redacted_url(&self.url)
    }
}

/// The `[redis]` table: hot shared state. Without a URL a single node keeps it in process.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    /// `redis://[:PASSWORD@]HOST:6379[/DB]`.
    pub url: Option<String>,
    /// Bound on connecting and on each command; past it Redis counts as unavailable.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field(
                "url",
                &self.url.as_deref().map(service_kit::sql::redacted_url),
            )
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            timeout_ms: 500,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "`store.encryption_key` is required with a SQL store: 32 random bytes, base64 (`openssl rand -base64 32`)"
    )]
    MissingEncryptionKey,
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Redis(#[from] super::hot::RedisOpenError),
    #[error(transparent)]
    Sql(#[from] service_kit::sql::SqlError),
    /// The signing keys could not be re-sealed to the current seal version.
    #[error("signing keys: {0}")]
    Keys(super::StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_logs() {
        let s = StoreSettings {
            url: "postgres://auth:hunter2@db:5432/auth".to_owned(),
            encryption_key: Some(EncryptionKey("c2VjcmV0".to_owned())),
            ..StoreSettings::default()
        };
        assert_eq!(s.redacted_url(), "postgres://auth:***@db:5432/auth");
        assert!(!format!("{s:?}").contains("c2VjcmV0"));
        // F18: the whole settings print without the passwords.
        assert!(!format!("{s:?}").contains("hunter2"), "{s:?}");
        let r = RedisSettings {
            url: Some("redis://:hunter2@cache:6379/0".to_owned()),
            ..RedisSettings::default()
        };
        assert!(!format!("{r:?}").contains("hunter2"), "{r:?}");
        assert!(format!("{r:?}").contains("cache:6379"), "{r:?}");
    }

    #[test]
    fn audit_retention_defaults_to_90_days_and_0_keeps_forever() {
        let days = |json: &str| {
            serde_json::from_str::<StoreSettings>(json)
                .unwrap()
                .audit_retention()
        };
        assert_eq!(days("{}"), Some(Duration::from_secs(90 * 86_400)));
        assert_eq!(
            days(r#"{"audit_retention_days": 7}"#),
            Some(Duration::from_secs(7 * 86_400))
        );
        assert_eq!(days(r#"{"audit_retention_days": 0}"#), None);
        assert_eq!(
            days(r#"{"audit_retention_days": 18446744073709551615}"#),
            Some(Duration::from_secs(u64::MAX)),
            "saturates"
        );
    }
}
