//! Kids recently found absent from the issuer's key set: a token naming one is refused without
//! another fetch until the entry expires, so a storm of tokens with made-up `kid`s costs the
//! issuer nothing beyond the rate-limited refetch.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    time::{Duration, Instant},
};

/// Kids remembered at most. When full of live entries a new kid is not remembered: the refetch
/// rate limit still bounds what it can cost.
const CAPACITY: usize = 1024;

pub struct UnknownKids {
    ttl: Duration,
    /// Keyed by a keyed hash of the kid, so an entry costs the same however long the kid a
    /// caller chose.
    hasher: RandomState,
    seen: HashMap<u64, Instant>,
}

impl UnknownKids {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            hasher: RandomState::new(),
            seen: HashMap::new(),
        }
    }

    /// Whether `kid` was found absent less than `ttl` before `now`.
    pub fn contains(&self, kid: &str, now: Instant) -> bool {
        self.seen
            .get(&self.hasher.hash_one(kid))
            .is_some_and(|at| now.saturating_duration_since(*at) < self.ttl)
    }

    pub fn insert(&mut self, kid: &str, now: Instant) {
        if self.seen.len() >= CAPACITY {
            let ttl = self.ttl;
            self.seen
                .retain(|_, at| now.saturating_duration_since(*at) < ttl);
            if self.seen.len() >= CAPACITY {
                return;
            }
        }
        self.seen.insert(self.hasher.hash_one(kid), now);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kid_is_remembered_for_the_ttl_only() {
        let t0 = Instant::now();
        let mut kids = UnknownKids::new(Duration::from_secs(5));
        assert!(!kids.contains("k", t0));
        kids.insert("k", t0);
        assert!(kids.contains("k", t0 + Duration::from_secs(4)));
        assert!(!kids.contains("k", t0 + Duration::from_secs(5)));
        assert!(!kids.contains("other", t0));
    }

    #[test]
    fn stays_bounded_and_makes_room_from_expired_entries() {
        let t0 = Instant::now();
        let mut kids = UnknownKids::new(Duration::from_secs(5));
        for i in 0..CAPACITY + 10 {
            kids.insert(&format!("k{i}"), t0);
        }
        assert_eq!(kids.len(), CAPACITY);
        assert!(
            !kids.contains(&format!("k{}", CAPACITY + 1), t0),
            "not remembered when full"
        );
        let later = t0 + Duration::from_secs(6);
        kids.insert("fresh", later);
        assert!(kids.contains("fresh", later));
        assert_eq!(kids.len(), 1, "expired entries were dropped");
    }
}
