//! A bounded cache of tokens that passed every check, so that a client reusing its token (the
//! common case) costs a lookup instead of a signature verification.
//!
//! An entry lives until the token's `exp` (plus leeway) and only while the key set it was
//! verified under is current: when keys change, the cache starts over. When full, the
//! [`Slru`] order decides what goes (never everything at once, F16).

use std::sync::{Arc, Mutex};

use crate::{keys::KeySet, principal::Principal, slru::Slru};

pub struct TokenCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    /// The key set every entry was verified under.
    keys: Option<Arc<KeySet>>,
    entries: Slru<(Arc<Principal>, u64)>,
}

impl TokenCache {
    /// `capacity` 0 disables the cache.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner {
                keys: None,
                entries: Slru::new(capacity),
            }),
        }
    }

    pub fn get(&self, token: &str, keys: &Arc<KeySet>, now: u64) -> Option<Arc<Principal>> {
        if self.capacity == 0 {
            return None;
        }
        let mut inner = self.inner.lock().ok()?;
        if !inner.keys.as_ref().is_some_and(|k| Arc::ptr_eq(k, keys)) {
            return None;
        }
        let (principal, valid_until) = inner.entries.get(token)?;
        // The token is valid strictly before `valid_until` (RFC 7519 §4.1.4).
        if now >= valid_until {
            inner.entries.remove(token);
            return None;
        }
        Some(principal)
    }

    /// Remembers a verified token until `valid_until` (Unix seconds).
    pub fn insert(
        &self,
        token: &str,
        keys: &Arc<KeySet>,
        principal: Arc<Principal>,
        valid_until: u64,
        now: u64,
    ) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if !inner.keys.as_ref().is_some_and(|k| Arc::ptr_eq(k, keys)) {
            inner.entries.clear();
            inner.keys = Some(Arc::clone(keys));
        }
        if valid_until <= now {
            return;
        }
        inner.entries.insert(token, (principal, valid_until));
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.entries.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Arc<Principal> {
        Arc::new(Principal {
            subject: "s".into(),
            client_id: None,
            scopes: vec![],
            claims: Default::default(),
        })
    }

    #[test]
    fn entries_expire_and_follow_the_key_set() {
        let cache = TokenCache::new(10);
        let keys = Arc::new(KeySet::default());
        cache.insert("t", &keys, principal(), 100, 50);
        assert!(cache.get("t", &keys, 99).is_some());
        assert!(cache.get("t", &keys, 100).is_none(), "at valid_until");
        assert!(cache.get("u", &keys, 50).is_none());
        let rotated = Arc::new(KeySet::default());
        assert!(cache.get("t", &rotated, 50).is_none(), "another key set");
        cache.insert("v", &rotated, principal(), 100, 50);
        assert!(cache.get("t", &keys, 50).is_none(), "started over");
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn stays_bounded() {
        let cache = TokenCache::new(3);
        let keys = Arc::new(KeySet::default());
        for i in 0..10 {
            cache.insert(&format!("t{i}"), &keys, principal(), 100, 50);
            assert!(cache.len() <= 3);
        }
        assert!(cache.get("t9", &keys, 50).is_some());
        assert!(TokenCache::new(0).get("t9", &keys, 50).is_none());
    }

    #[test]
    fn filling_past_capacity_keeps_reused_and_recent_tokens() {
        let cache = TokenCache::new(100);
        let keys = Arc::new(KeySet::default());
        cache.insert("everyday", &keys, principal(), 1000, 50);
        assert!(cache.get("everyday", &keys, 51).is_some());
        // One client mints and presents thousands of tokens, each once.
        for i in 0..5_000 {
            cache.insert(&format!("minted{i}"), &keys, principal(), 1000, 60);
        }
        assert_eq!(cache.len(), 100);
        assert!(cache.get("everyday", &keys, 70).is_some(), "not flushed");
        assert!(cache.get("minted4999", &keys, 70).is_some(), "recent kept");
        assert!(cache.get("minted0", &keys, 70).is_none(), "oldest evicted");
    }
}
