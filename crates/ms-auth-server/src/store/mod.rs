//! Storage behind the protocol core: small traits shaped by what the protocol needs, with the
//! atomicity it needs ("consume this code once", "rotate this refresh token if still
//! current", "revoke this family"), one file per trait ([`clients`], [`keys`], [`codes`],
//! [`refresh`], [`audit`]) and one folder per backend. The SQL store of record (`sql/`: SQLite
//! embedded, PostgreSQL for clusters) keeps what must survive a restart; [`hot`] holds what
//! replicas share for milliseconds (Redis, or in process); `memory/` is for tests and
//! single-node playgrounds.

pub mod audit;
mod client_cache;
pub mod clients;
pub mod codes;
pub mod consents;
pub mod hot;
pub mod keys;
mod memory;
pub mod outbox;
pub mod refresh;
pub mod session_cache;
pub mod sessions;
pub mod settings;
mod sql;
pub mod users;

use std::{future::Future, sync::Arc, time::Duration};

use crate::clock::UnixTime;

use aws_lc_rs::digest::{SHA256, digest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

pub use audit::{AuditEvent, AuditLog};
pub use client_cache::{CachedClientStore, UNKNOWN_CAPACITY};
pub use clients::ClientStore;
pub use codes::{CodeGrant, CodeStore, CodeUse};
pub use consents::{Consent, ConsentStore};
pub use hot::{HotState, MemoryHot, Notice, RedisHot};
pub use keys::{KeyState, KeyStore, Revoked, StoredKey};
pub use memory::MemoryUserStore;
pub use memory::{MemoryAuditLog, MemoryClientStore, MemoryGrants, MemoryKeyStore};
pub use memory::{MemoryConsentStore, MemorySessionStore};
pub use outbox::{LogoutNotice, LogoutOutbox};
pub use refresh::{
    FamilyRevoked, IssuedAccess, RefreshGrant, RefreshTokenStore, Rotation, Successor,
};
pub use session_cache::{CachedSessionStore, SESSION_CACHE_TTL};
pub use sessions::{SessionStore, SessionsPruned};
pub use settings::{RedisSettings, StoreSettings};
pub use sql::{SqlStore, sealing};
pub use users::{PutUserError, UserStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached; callers answer `temporarily_unavailable`.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A row could not be read back (a bad encryption key, a hand-edited row).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// The stored form of a code or refresh token: base64url(SHA-256(value)). A high-entropy
/// credential needs no salt or slow hash; the hash makes a leaked row useless.
pub fn credential_hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, value.as_bytes()))
}

/// The stores a server runs on.
#[derive(Clone)]
pub struct Stores {
    pub clients: Arc<dyn ClientStore>,
    pub keys: Arc<dyn KeyStore>,
    pub codes: Arc<dyn CodeStore>,
    pub refresh: Arc<dyn RefreshTokenStore>,
    pub audit: Arc<dyn AuditLog>,
    pub users: Arc<dyn UserStore>,
    /// Browser sessions: cached in the hot state when it is Redis.
    pub sessions: Arc<dyn SessionStore>,
    /// Back-channel logout notices, written by `sessions` as sessions end.
    pub outbox: Arc<dyn LogoutOutbox>,
    pub consents: Arc<dyn ConsentStore>,
    /// Hot shared state: Redis, or in process on a single node.
    pub hot: hot::Hot,
    /// What readiness checks: the backends this server cannot work without.
    pub probes: Vec<Probed>,
    /// True when what is stored survives a restart.
    pub durable: bool,
}

impl Stores {
    pub fn memory() -> Self {
        let grants = Arc::new(MemoryGrants::default());
        let sessions = Arc::new(MemorySessionStore::default());
        Self {
            clients: Arc::new(MemoryClientStore::default()),
            keys: Arc::new(MemoryKeyStore::default()),
            codes: grants.clone(),
            refresh: grants,
            audit: Arc::new(MemoryAuditLog::default()),
            users: Arc::new(MemoryUserStore::default()),
            sessions: sessions.clone(),
            outbox: sessions,
            consents: Arc::new(MemoryConsentStore::default()),
            hot: Arc::new(MemoryHot::default()),
            probes: Vec::new(),
            durable: false,
        }
    }

    /// The stores `store.url` names (`memory`, `sqlite://…`, `postgres://…`), migrated, with
    /// hot state on `redis.url` (in process when unset). Clients are cached per replica,
    /// with changes announced over the hot state; sessions, when Redis is there, in it
    /// ([`CachedSessionStore`]).
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
                audit: Arc::new(MemoryAuditLog::new(store.audit_retention())),
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
        let sessions: Arc<dyn SessionStore> = match &redis.url {
            Some(_) => Arc::new(CachedSessionStore::new(
                sql.clone(),
                Arc::clone(&hot),
                SESSION_CACHE_TTL,
            )),
            None => sql.clone(),
        };
        Ok(Self {
            clients: Arc::new(cached),
            keys: sql.clone(),
            codes: sql.clone(),
            refresh: sql.clone(),
            users: sql.clone(),
            sessions,
            outbox: sql.clone(),
            consents: sql.clone(),
            audit: sql,
            hot,
            probes,
            durable: true,
        })
    }
}

/// What one pruning round removed, per store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub codes: u64,
    pub refresh: u64,
    pub audit: u64,
    pub hot: u64,
    pub sessions: u64,
}

impl Stores {
    /// Removes from every store what can change no outcome any more at `now`: expired codes,
    /// dead refresh families and their access records, audit entries past their retention,
    /// ended and expired sessions, expired hot entries (each store's `prune_expired` says what it keeps). Every store is
    /// pruned even when another fails; the first failure is returned.
    pub async fn prune_expired(&self, now: UnixTime) -> Result<Pruned, StoreError> {
        let codes = self.codes.prune_expired(now).await;
        let refresh = self.refresh.prune_expired(now).await;
        let audit = self.audit.prune_expired(now).await;
        let hot = self.hot.prune_expired(now).await;
        let sessions = self.prune_sessions(now).await;
        Ok(Pruned {
            codes: codes?,
            refresh: refresh?,
            audit: audit?,
            hot: hot?,
            sessions: sessions?,
        })
    }
}

impl Stores {
    /// Prunes the sessions; those that expired live end as at logout: the families issued in
    /// them are revoked and their access tokens denied (their clients' notices the session
    /// store wrote as it removed them).
    async fn prune_sessions(&self, now: UnixTime) -> Result<u64, StoreError> {
        let pruned = self.sessions.prune_expired(now).await?;
        for sid in &pruned.expired {
            let revoked = self.refresh.revoke_session_families(sid, now).await?;
            refresh::deny_access(self.hot.as_ref(), &revoked.access, now).await?;
        }
        if !pruned.expired.is_empty() {
            // Best effort: delivery polls too.
            let _ = self.hot.publish(&Notice::LogoutsPending).await;
        }
        Ok(pruned.removed)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_hash_is_sha256_base64url() {
        // SHA-256("abc"), FIPS 180-2 Appendix B.1.
        assert_eq!(
            credential_hash("abc"),
            URL_SAFE_NO_PAD.encode([
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
                0xf2, 0x00, 0x15, 0xad
            ])
        );
    }
}
