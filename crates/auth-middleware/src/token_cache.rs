//! A bounded cache of tokens that passed every check, so that a client reusing its token (the
//! common case) costs a lookup instead of a signature verification.
//!
//! An entry lives until the token's `exp` (plus leeway) and only while the key set it was
//! verified under is current: when keys change, the cache starts over.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::{keys::KeySet, principal::Principal};

pub struct TokenCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    /// The key set every entry was verified under.
    keys: Option<Arc<KeySet>>,
    entries: HashMap<Box<str>, (Arc<Principal>, u64)>,
}

impl TokenCache {
    /// `capacity` 0 disables the cache.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner {
                keys: None,
                entries: HashMap::new(),
            }),
        }
    }

    pub fn get(&self, token: &str, keys: &Arc<KeySet>, now: u64) -> Option<Arc<Principal>> {
        if self.capacity == 0 {
            return None;
        }
        let inner = self.inner.lock().ok()?;
        if !inner.keys.as_ref().is_some_and(|k| Arc::ptr_eq(k, keys)) {
            return None;
        }
        let (principal, valid_until) = inner.entries.get(token)?;
        (now <= *valid_until).then(|| Arc::clone(principal))
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
        if inner.entries.len() >= self.capacity {
            inner.entries.retain(|_, (_, until)| *until >= now);
            if inner.entries.len() >= self.capacity {
                inner.entries.clear();
            }
        }
        inner.entries.insert(token.into(), (principal, valid_until));
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
        assert!(cache.get("t", &keys, 100).is_some());
        assert!(cache.get("t", &keys, 101).is_none(), "past valid_until");
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
}
