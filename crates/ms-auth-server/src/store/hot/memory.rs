//! [`HotState`] in this process's memory, for a single node: what Redis does for a cluster,
//! with expired entries dropped as calls pass.
use std::{collections::HashMap, sync::Mutex};

use tokio::sync::broadcast;

use super::{HotState, Notice, window_end};
use crate::{clock::UnixTime, store::StoreError};

#[derive(Default)]
struct Maps {
    denied: HashMap<String, UnixTime>,
    seen: HashMap<String, UnixTime>,
    hits: HashMap<(String, UnixTime), u64>,
    values: HashMap<String, (String, UnixTime)>,
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

impl MemoryHot {
    /// Drops entries past their time, at most once a second: the maps stay about as small as
    /// the live state without a full sweep on every call (lookups check the time themselves).
    fn prune(maps: &mut Maps, now: UnixTime) {
        if now > maps.pruned_at {
            Self::drop_expired(maps, now);
        }
    }

    /// Drops every entry past its time at `now`; how many.
    fn drop_expired(maps: &mut Maps, now: UnixTime) -> u64 {
        maps.pruned_at = maps.pruned_at.max(now);
        let len = |m: &Maps| m.denied.len() + m.seen.len() + m.hits.len() + m.values.len();
        let before = len(maps);
        maps.denied.retain(|_, until| *until > now);
        maps.seen.retain(|_, until| *until > now);
        maps.hits.retain(|(_, window_end), _| *window_end > now);
        maps.values.retain(|_, (_, until)| *until > now);
        (before - len(maps)) as u64
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

    async fn put_value(
        &self,
        key: &str,
        value: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let mut maps = self.maps.lock().map_err(poisoned)?;
        Self::prune(&mut maps, now);
        if until > now {
            maps.values
                .insert(key.to_owned(), (value.to_owned(), until));
        } else {
            maps.values.remove(key);
        }
        Ok(())
    }

    async fn get_value(&self, key: &str, now: UnixTime) -> Result<Option<String>, StoreError> {
        let maps = self.maps.lock().map_err(poisoned)?;
        Ok(maps
            .values
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|(value, _)| value.clone()))
    }

    async fn take_value(&self, key: &str, now: UnixTime) -> Result<Option<String>, StoreError> {
        let mut maps = self.maps.lock().map_err(poisoned)?;
        Ok(maps
            .values
            .remove(key)
            .filter(|(_, until)| *until > now)
            .map(|(value, _)| value))
    }

    async fn delete_value(&self, key: &str) -> Result<(), StoreError> {
        self.maps.lock().map_err(poisoned)?.values.remove(key);
        Ok(())
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

    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        Ok(Self::drop_expired(
            &mut *self.maps.lock().map_err(poisoned)?,
            now,
        ))
    }
}
