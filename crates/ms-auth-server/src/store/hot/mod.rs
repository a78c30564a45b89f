//! Hot shared state: what every replica must see within milliseconds and what may be
//! rebuilt — the revoked-token denylist (until each token's `exp`), the `jti` replay set,
//! rate-limit counters, short-lived values (a pending sign-in interaction, cached sessions)
//! and notices that make replicas drop stale caches. Redis when several replicas run
//! ([`RedisHot`]); these in-process equivalents for a single node.
use crate::clock::UnixTime;

mod memory;
mod redis;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::StoreError;

pub use memory::MemoryHot;
pub use redis::{RedisHot, RedisOpenError};

/// A change every replica must hear of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    ClientChanged {
        client_id: String,
    },
    KeysChanged,
    /// Sessions ended: back-channel logout notices wait in the outbox.
    LogoutsPending,
}

#[async_trait::async_trait]
pub trait HotState: Send + Sync {
    /// Refuses `jti` until `until` (the token's `exp`), after which the entry is gone.
    async fn deny(&self, jti: &str, until: UnixTime, now: UnixTime) -> Result<(), StoreError>;

    async fn is_denied(&self, jti: &str, now: UnixTime) -> Result<bool, StoreError>;

    /// True the first time `id` is presented before `until`; of concurrent callers exactly
    /// one gets true (assertion `jti`s, RFC 7523 §3).
    async fn first_use(&self, id: &str, until: UnixTime, now: UnixTime)
    -> Result<bool, StoreError>;

    /// Counts a hit on `key` in the current `window_secs` window: false once over `limit`.
    async fn hit(
        &self,
        key: &str,
        limit: u64,
        window_secs: u64,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        Ok(self.count(key, window_secs, now).await? <= limit)
    }

    /// Counts a hit on `key` in the current `window_secs` window and returns the window's
    /// count so far.
    async fn count(&self, key: &str, window_secs: u64, now: UnixTime) -> Result<u64, StoreError>;

    /// The hits on each of `keys` in the current `window_secs` window, counting nothing.
    async fn counts(
        &self,
        keys: &[&str],
        window_secs: u64,
        now: UnixTime,
    ) -> Result<Vec<u64>, StoreError>;

    /// Stores `value` under `key` until `until`, replacing what was there (one `until` at or
    /// before `now` removes it). Values are small — a few KB at most, bounded by the caller:
    /// a pending sign-in interaction (the authorization request between the authorization
    /// endpoint, the sign-in page and the consent page, on whichever replica each lands), a
    /// cached session. Keys are the caller's, namespaced apart from the other kinds of entry.
    async fn put_value(
        &self,
        key: &str,
        value: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError>;

    /// The value under `key`, if it has not expired at `now`.
    async fn get_value(&self, key: &str, now: UnixTime) -> Result<Option<String>, StoreError>;

    /// The value under `key`, removed in the same step: of concurrent takers exactly one gets
    /// it (a pending interaction is completed once).
    async fn take_value(&self, key: &str, now: UnixTime) -> Result<Option<String>, StoreError>;

    /// Removes the value under `key`, if any.
    async fn delete_value(&self, key: &str) -> Result<(), StoreError>;

    /// Tells every replica (this one included).
    async fn publish(&self, notice: &Notice) -> Result<(), StoreError>;

    /// Notices as they arrive. A lagging receiver should drop all its caches.
    fn subscribe(&self) -> broadcast::Receiver<Notice>;

    /// While notices are known to arrive, the number of the current subscription (it changes
    /// at every resubscription, after which anything cached before may be stale); `None`
    /// while they may be missed. Caches are safe to use only under the same number.
    fn listening(&self) -> Option<u64>;

    /// Reachable now (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Drops every entry past its time at `now` (the pruning task); how many.
    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError>;
}

/// When the fixed window holding `now` ends.
pub fn window_end(window_secs: u64, now: UnixTime) -> UnixTime {
    now.window(window_secs).1
}

/// A shared handle.
pub type Hot = Arc<dyn HotState>;
