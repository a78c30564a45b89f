//! Storage behind the protocol core: small traits shaped by what the protocol needs, one
//! implementation per backend. The SQL store of record (`sql`: SQLite embedded, PostgreSQL for
//! clusters) keeps what must survive a restart; the in-memory store is for tests.
use crate::clock::UnixTime;

mod client_cache;
pub mod grants;
pub mod hot;
mod memory;
mod redis_hot;
pub mod sealing;
pub mod settings;
mod sql;
mod sql_grants;

use std::{future::Future, sync::Arc, time::Duration};

pub use client_cache::{CachedClientStore, UNKNOWN_CAPACITY};
pub use grants::{AuditLog, GrantStore};
pub use hot::{HotState, MemoryHot, Notice};
pub use memory::{MemoryClientStore, MemoryGrantStore, MemoryKeyStore};
pub use redis_hot::RedisHot;
pub use settings::{RedisSettings, StoreSettings};
pub use sql::SqlStore;

use crate::{keys::SigningAlgorithm, oauth::client::Client};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached; callers answer `temporarily_unavailable`.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A row could not be read back (a bad encryption key, a hand-edited row).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// Registered clients, looked up by `client_id`.
#[async_trait::async_trait]
pub trait ClientStore: Send + Sync {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError>;

    /// Every registered client, for metadata such as `scopes_supported`.
    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError>;

    /// Creates the client or replaces its registration (the config's clients at start-up).
    async fn upsert(&self, client: &Client) -> Result<(), StoreError>;
}

/// Lifecycle state of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published so that every cache holds it before it signs; at most one key is next.
    Next,
    /// Signs new tokens; at most one key is active.
    Active,
    /// Signs nothing; published until every token it signed has expired.
    Retired,
    /// Withdrawn at once (it may have leaked): never published again, its private key erased.
    /// The row stays as the record of it, with `publish_until` the time of the revocation.
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Next, Self::Active, Self::Retired, Self::Revoked]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A signing key as stored: the private key as PKCS#8 PEM (sealed at rest by SQL backends).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    pub state: KeyState,
    pub private_key_pem: String,
    pub created_at: UnixTime,
    /// When a next key becomes active.
    pub activates_at: Option<UnixTime>,
    /// Until when a retired key stays published.
    pub publish_until: Option<UnixTime>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("state", &self.state)
            .field("activates_at", &self.activates_at)
            .field("publish_until", &self.publish_until)
            .finish_non_exhaustive()
    }
}

/// What [`KeyStore::revoke`] did.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// The key as now stored: revoked.
    pub key: StoredKey,
    /// The key that became active in its place, when the revoked key was the active one.
    pub activated: Option<StoredKey>,
    /// It had been revoked before: nothing changed.
    pub already: bool,
}

/// The signing keys.
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores `candidate` as the active key unless one is active already, and returns the
    /// active key: of replicas starting together, exactly one key wins and all use it.
    async fn activate_if_none(&self, candidate: StoredKey) -> Result<StoredKey, StoreError>;

    /// Every stored key.
    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// Stores `candidate` as the next key (active from its `activates_at`) unless there is a
    /// next key already, and returns the next key: of concurrent rotations, one happens.
    async fn add_next(&self, candidate: StoredKey) -> Result<StoredKey, StoreError>;

    /// When the next key is due at `now`: retires the active key (published until
    /// `now + retire_for`) and activates the next, atomically. True for the one caller that
    /// did it.
    async fn promote_due(&self, now: UnixTime, retire_for: Duration) -> Result<bool, StoreError>;

    /// Removes retired keys whose publication has ended; how many.
    async fn remove_expired(&self, now: UnixTime) -> Result<u64, StoreError>;

    /// Revokes the key `kid` at `now` (a key that may have leaked): it is no longer published
    /// and its private key is erased. When it was the active key, the next key — else
    /// `fallback` — becomes active in the same transaction, at once: the store is never left
    /// without an active key. `None` when no key has this `kid`; a revoked key stays revoked.
    async fn revoke(
        &self,
        kid: &str,
        now: UnixTime,
        fallback: StoredKey,
    ) -> Result<Option<Revoked>, StoreError>;
}

/// The stores a server runs on.
#[derive(Clone)]
pub struct Stores {
    pub clients: Arc<dyn ClientStore>,
    pub keys: Arc<dyn KeyStore>,
    pub grants: Arc<dyn GrantStore>,
    pub audit: Arc<dyn AuditLog>,
    /// Hot shared state: Redis, or in process on a single node.
    pub hot: hot::Hot,
    /// What readiness checks: the backends this server cannot work without.
    pub probes: Vec<Probed>,
    /// True when what is stored survives a restart.
    pub durable: bool,
}

impl Stores {
    pub fn memory() -> Self {
        let grants = Arc::new(MemoryGrantStore::default());
        Self {
            clients: Arc::new(MeasuredClientStore(MemoryClientStore::default())),
            keys: Arc::new(MemoryKeyStore::default()),
            grants: grants.clone(),
            audit: grants,
            hot: Arc::new(MemoryHot::default()),
            probes: Vec::new(),
            durable: false,
        }
    }

    /// The stores `store.url` names (`memory`, `sqlite://…`, `postgres://…`), migrated, with
    /// hot state on `redis.url` (in process when unset). Clients are cached per replica,
    /// with changes announced over the hot state.
    pub async fn open(
        store: &StoreSettings,
        redis: &RedisSettings,
    ) -> Result<Self, settings::OpenError> {
        let limit = Duration::from_millis(store.connect_timeout_ms.max(1));
        let (hot, mut probes): (hot::Hot, Vec<Probed>) = match &redis.url {
            Some(url) => {
                let redis_hot = Arc::new(RedisHot::open(
                    url,
                    Duration::from_millis(redis.timeout_ms.max(1)),
                )?);
                (redis_hot.clone(), vec![("redis", redis_hot)])
            }
            None => (Arc::new(MemoryHot::default()), Vec::new()),
        };
        if store.is_memory() {
            return Ok(Self {
                hot,
                probes,
                ..Self::memory()
            });
        }
        let sql = Arc::new(SqlStore::open(store).await?);
        probes.insert(0, ("store", sql.clone() as Arc<dyn Probe>));
        let cached = client_cache::CachedClientStore::new(
            Bounded(Arc::clone(&sql), limit),
            Arc::clone(&hot),
            Duration::from_secs(store.client_cache_secs),
            UNKNOWN_CAPACITY,
        );
        Ok(Self {
            clients: Arc::new(MeasuredClientStore(cached)),
            keys: sql.clone(),
            grants: sql.clone(),
            audit: sql,
            hot,
            probes,
            durable: true,
        })
    }
}

/// A named backend readiness asks after.
pub type Probed = (&'static str, Arc<dyn Probe>);

/// A backend readiness can ask after.
#[async_trait::async_trait]
pub trait Probe: Send + Sync {
    async fn ping(&self) -> Result<(), StoreError>;
}

impl Stores {
    /// Each probe's answer, each within a second.
    pub async fn readiness(&self) -> Vec<(&'static str, bool)> {
        let mut answers = Vec::with_capacity(self.probes.len());
        for (name, probe) in &self.probes {
            let ok = tokio::time::timeout(Duration::from_secs(1), probe.ping())
                .await
                .is_ok_and(|r| r.is_ok());
            answers.push((*name, ok));
        }
        answers
    }
}

/// A client store whose operations fail as `Unavailable` after a bound instead of waiting
/// on a backend that does not answer.
pub struct Bounded<S>(pub S, pub Duration);

impl<S> Bounded<S> {
    async fn run<T>(
        &self,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.1, op).await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "no answer within {} ms",
                self.1.as_millis()
            )))
        })
    }
}

#[async_trait::async_trait]
impl<S: ClientStore> ClientStore for Bounded<S> {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        self.run(self.0.client(client_id)).await
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        self.run(self.0.all()).await
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        self.run(self.0.upsert(client)).await
    }
}

/// A client store whose every operation is timed and counted (`store="clients"` in
/// `/metrics`).
pub struct MeasuredClientStore<S>(pub S);

#[async_trait::async_trait]
impl<S: ClientStore> ClientStore for MeasuredClientStore<S> {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        service_kit::metrics::time_store("clients", "get", self.0.client(client_id)).await
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        service_kit::metrics::time_store("clients", "all", self.0.all()).await
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        service_kit::metrics::time_store("clients", "upsert", self.0.upsert(client)).await
    }
}

#[async_trait::async_trait]
impl<S: ClientStore + ?Sized> ClientStore for Arc<S> {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        (**self).client(client_id).await
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        (**self).all().await
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        (**self).upsert(client).await
    }
}
