//! Storage behind the protocol core: small traits shaped by what the protocol needs, one
//! file per trait ([`clients`], [`keys`], [`grants`], [`audit`]) and one folder per backend.
//! The SQL store of record ([`sql`]: SQLite embedded, PostgreSQL for clusters) keeps what must
//! survive a restart; [`hot`] holds what replicas share for milliseconds (Redis, or in
//! process); [`memory`] is for tests and single-node playgrounds.

pub mod audit;
mod client_cache;
pub mod clients;
pub mod grants;
pub mod hot;
pub mod keys;
mod memory;
pub mod settings;
mod sql;

use std::{future::Future, sync::Arc, time::Duration};

pub use audit::{AuditEvent, AuditLog};
pub use client_cache::{CachedClientStore, UNKNOWN_CAPACITY};
pub use clients::ClientStore;
pub use grants::GrantStore;
pub use hot::{HotState, MemoryHot, Notice, RedisHot};
pub use keys::{KeyState, KeyStore, Revoked, StoredKey};
pub use memory::{MemoryClientStore, MemoryGrantStore, MemoryKeyStore};
pub use settings::{RedisSettings, StoreSettings};
pub use sql::{SqlStore, sealing};

use crate::oauth::client::Client;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached; callers answer `temporarily_unavailable`.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A row could not be read back (a bad encryption key, a hand-edited row).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
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
