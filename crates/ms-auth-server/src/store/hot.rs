//! Hot shared state: what every replica must see within milliseconds and what may be
//! rebuilt — the revoked-token denylist (until each token's `exp`), the `jti` replay set,
//! rate-limit counters and notices that make replicas drop stale caches. Redis when several
//! replicas run ([`super::RedisHot`]); these in-process equivalents for a single node.
use crate::clock::UnixTime;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::StoreError;

/// A change every replica must hear of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    ClientChanged { client_id: String },
    KeysChanged,
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
}

#[derive(Default)]
struct Maps {
    denied: HashMap<String, UnixTime>,
    seen: HashMap<String, UnixTime>,
    hits: HashMap<(String, UnixTime), u64>,
    /// When expired entries were last dropped.
    pruned_at: UnixTime,
}

/// One node's hot state, in its own memory.
pub struct MemoryHot {
    maps: Mutex<Maps>,
    notices: broadcast::Sender<Notice>,
}

impl Default for MemoryHot {
    fn default() -> Self {
        Self {
            maps: Mutex::default(),
            notices: broadcast::channel(1024).0,
        }
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Unavailable("the in-process hot state's lock is poisoned".to_owned())
}

/// When the fixed window holding `now` ends.
pub fn window_end(window_secs: u64, now: UnixTime) -> UnixTime {
    now.window(window_secs).1
}

impl MemoryHot {
    /// Drops entries past their time, at most once a second: the maps stay about as small as
    /// the live state without a full sweep on every call (lookups check the time themselves).
    fn prune(maps: &mut Maps, now: UnixTime) {
        if now <= maps.pruned_at {
            return;
        }
        maps.pruned_at = now;
        maps.denied.retain(|_, until| *until > now);
        maps.seen.retain(|_, until| *until > now);
        maps.hits.retain(|(_, window_end), _| *window_end > now);
    }
}

#[async_trait::async_trait]
impl HotState for MemoryHot {
    async fn deny(&self, jti: &str, until: UnixTime, now: UnixTime) -> Result<(), StoreError> {
        let mut maps = self.maps.lock().map_err(poisoned)?;
        Self::prune(&mut maps, now);
        if until > now {
            maps.denied.insert(jti.to_owned(), until);
        }
        Ok(())
    }

    async fn is_denied(&self, jti: &str, now: UnixTime) -> Result<bool, StoreError> {
        let maps = self.maps.lock().map_err(poisoned)?;
        Ok(maps.denied.get(jti).is_some_and(|until| *until > now))
    }

    async fn first_use(
        &self,
        id: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut maps = self.maps.lock().map_err(poisoned)?;
        Self::prune(&mut maps, now);
        if maps.seen.get(id).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        maps.seen.insert(id.to_owned(), until.max(now.plus_secs(1)));
        Ok(true)
    }

    async fn count(&self, key: &str, window_secs: u64, now: UnixTime) -> Result<u64, StoreError> {
        let window_end = window_end(window_secs, now);
        let mut maps = self.maps.lock().map_err(poisoned)?;
        Self::prune(&mut maps, now);
        let n = maps.hits.entry((key.to_owned(), window_end)).or_insert(0);
        *n += 1;
        Ok(*n)
    }

    async fn counts(
        &self,
        keys: &[&str],
        window_secs: u64,
        now: UnixTime,
    ) -> Result<Vec<u64>, StoreError> {
        let window_end = window_end(window_secs, now);
        let maps = self.maps.lock().map_err(poisoned)?;
        Ok(keys
            .iter()
            .map(|k| {
                maps.hits
                    .get(&((*k).to_owned(), window_end))
                    .copied()
                    .unwrap_or(0)
            })
            .collect())
    }

    async fn publish(&self, notice: &Notice) -> Result<(), StoreError> {
        // No receiver is not an error: nothing caches yet.
        let _ = self.notices.send(notice.clone());
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// In one process nothing is missed: always the same subscription.
    fn listening(&self) -> Option<u64> {
        Some(0)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A shared handle.
pub type Hot = Arc<dyn HotState>;
