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
            clients: Arc::new(MemoryClientStore::default()),
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
            Arc::clone(&sql),
            Arc::clone(&hot),
            Duration::from_secs(store.client_cache_secs),
            UNKNOWN_CAPACITY,
        );
        Ok(Self {
            clients: Arc::new(cached),
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

/// `call` timed and counted as `store`/`op` (`store_operation_duration_seconds`,
/// `store_errors_total` in `/metrics`), failing as `Unavailable` after `limit` instead of
/// waiting on a backend that does not answer. Every SQL and Redis operation goes through here
/// once ([`SqlStore`], [`RedisHot`]), so no store needs a decorator per trait.
pub(crate) async fn bounded_and_timed<T>(
    store: &'static str,
    op: &'static str,
    limit: Duration,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let bounded = async {
        tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "no answer within {} ms",
                limit.as_millis()
            )))
        })
    };
    service_kit::metrics::time_store(store, op, bounded).await
}
