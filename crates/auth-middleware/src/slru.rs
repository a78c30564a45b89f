//! The bounded map behind both caches (verified tokens, introspection answers): a segmented
//! LRU. A new entry starts on probation; a second use promotes it to the protected segment
//! (at most 4/5 of the capacity). When full, the least recently used entry on probation goes
//! first.
//!
//! Why not clear, FIFO or random eviction: a client minting thousands of tokens and presenting
//! each once (F16) only churns the probation segment, so every token used more than once — the
//! clients that reuse their token, the common case — keeps its entry however long the flood.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

pub struct Slru<V> {
    capacity: usize,
    protected_capacity: usize,
    /// Recency: a counter stamped on every use.
    tick: u64,
    probation: Segment<V>,
    protected: Segment<V>,
}

struct Segment<V> {
    entries: HashMap<Arc<str>, (V, u64)>,
    /// Keys by last use, oldest first.
    order: BTreeMap<u64, Arc<str>>,
}

impl<V> Segment<V> {
    fn new() -> Self {
        Self {
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn put(&mut self, key: Arc<str>, value: V, tick: u64) {
        if let Some((_, old)) = self.entries.insert(Arc::clone(&key), (value, tick)) {
            self.order.remove(&old);
        }
        self.order.insert(tick, key);
    }

    fn take(&mut self, key: &str) -> Option<(Arc<str>, V)> {
        let (key, (value, tick)) = self.entries.remove_entry(key)?;
        self.order.remove(&tick);
        Some((key, value))
    }

    fn pop_oldest(&mut self) -> Option<(Arc<str>, V)> {
        let (_, key) = self.order.pop_first()?;
        let (value, _) = self.entries.remove(&key)?;
        Some((key, value))
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

impl<V: Clone> Slru<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            protected_capacity: capacity / 5 * 4,
            tick: 0,
            probation: Segment::new(),
            protected: Segment::new(),
        }
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// The value for `key`, which counts as a use: an entry on probation is promoted.
    pub fn get(&mut self, key: &str) -> Option<V> {
        let tick = self.next_tick();
        if let Some((key, value)) = self.protected.take(key) {
            self.protected.put(key, value.clone(), tick);
            return Some(value);
        }
        let (key, value) = self.probation.take(key)?;
        self.protected.put(key, value.clone(), tick);
        if self.protected.len() > self.protected_capacity
            && let Some((key, value)) = self.protected.pop_oldest()
        {
            // Demoted, not dropped: it is now the newest entry on probation.
            let tick = self.next_tick();
            self.probation.put(key, value, tick);
        }
        Some(value)
    }

    /// Inserts or replaces; when over capacity, drops the least recently used entry on
    /// probation (or, with none there, in the protected segment).
    pub fn insert(&mut self, key: &str, value: V) {
        let tick = self.next_tick();
        if let Some((key, _)) = self.protected.take(key) {
            self.protected.put(key, value, tick);
            return;
        }
        let key = self
            .probation
            .take(key)
            .map_or_else(|| Arc::from(key), |(key, _)| key);
        self.probation.put(key, value, tick);
        while self.len() > self.capacity {
            if self.probation.pop_oldest().is_none() && self.protected.pop_oldest().is_none() {
                break;
            }
        }
    }

    pub fn remove(&mut self, key: &str) {
        if self.protected.take(key).is_none() {
            self.probation.take(key);
        }
    }

    pub fn len(&self) -> usize {
        self.probation.len() + self.protected.len()
    }

    pub fn clear(&mut self) {
        self.probation.clear();
        self.protected.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_single_use_entries_keeps_the_reused_ones_and_the_newest() {
        let mut map = Slru::new(100);
        for i in 0..10 {
            map.insert(&format!("reused{i}"), i);
            assert_eq!(map.get(&format!("reused{i}")), Some(i));
        }
        for i in 0..10_000 {
            map.insert(&format!("once{i}"), i);
            assert!(map.len() <= 100);
        }
        assert_eq!(map.len(), 100);
        for i in 0..10 {
            assert_eq!(
                map.get(&format!("reused{i}")),
                Some(i),
                "reused{i} survived"
            );
        }
        for i in 10_000 - 90..10_000 {
            assert_eq!(map.get(&format!("once{i}")), Some(i), "the newest are kept");
        }
        assert_eq!(
            map.get("once0"),
            None,
            "the oldest single-use entry went first"
        );
    }

    #[test]
    fn the_protected_segment_is_bounded_and_demotes_its_oldest() {
        let mut map = Slru::new(10);
        for i in 0..10 {
            map.insert(&i.to_string(), i);
            map.get(&i.to_string());
        }
        assert_eq!(map.len(), 10);
        assert_eq!(map.protected.len(), 8);
        // 0 and 1 were demoted to probation: the next new entries push them out first.
        map.insert("a", 10);
        map.insert("b", 11);
        assert_eq!(map.get("0"), None);
        assert_eq!(map.get("1"), None);
        assert_eq!(map.get("9"), Some(9));
        assert_eq!(map.len(), 10);
    }

    #[test]
    fn insert_replaces_and_remove_removes() {
        let mut map = Slru::new(3);
        map.insert("k", 1);
        map.insert("k", 2);
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("k"), Some(2));
        map.insert("k", 3);
        assert_eq!(map.get("k"), Some(3));
        map.remove("k");
        assert_eq!((map.get("k"), map.len()), (None, 0));
        let mut tiny = Slru::new(1);
        tiny.insert("a", 1);
        assert_eq!(tiny.get("a"), Some(1));
        tiny.insert("b", 2);
        assert_eq!((tiny.len(), tiny.get("b")), (1, Some(2)));
        let mut none = Slru::new(0);
        none.insert("a", 1);
        assert_eq!(none.len(), 0);
    }
}
