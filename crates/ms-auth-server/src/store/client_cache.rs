//! Client metadata cached in each replica, in front of the store of record. A change made
//! through any replica is published ([`Notice::ClientChanged`]) and every replica drops its
//! copy at once; while notices cannot be trusted to arrive (Redis unreachable, a listener
//! that lagged) the cache is bypassed, so a stale registration is never served.
//!
//! Ids the store does not know are remembered too, under the same rules, so a flood of
//! requests naming one unknown `client_id` costs one store round trip per TTL, not one each
//! (review F11). They are kept apart from the known clients, by SHA-256 (a fixed size
//! whatever the id's length), at most a bounded number, the oldest evicted first: random ids
//! neither grow memory nor push a known client out.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, RwLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use aws_lc_rs::digest::{SHA256, digest};
use tokio::sync::broadcast::error::RecvError;

use super::{
    ClientStore, StoreError,
    hot::{Hot, Notice},
};
use crate::oauth::client::Client;

/// How many unknown ids each replica remembers at most (under 200 bytes each, whatever the
/// id's length).
pub const UNKNOWN_CAPACITY: usize = 10_000;

/// How many known clients each replica keeps at most.
pub const KNOWN_CAPACITY: usize = 10_000;

#[derive(Default)]
struct Entries {
    /// Each known client with when it was read and under which subscription.
    known: HashMap<String, (Arc<Client>, Instant, u64)>,
    unknown: Unknown,
}

type IdHash = [u8; 32];

fn id_hash(client_id: &str) -> IdHash {
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, client_id.as_bytes()).as_ref());
    out
}

/// Unknown ids with when they were read, under which subscription and in which insertion
/// (`order` may also hold insertions since replaced or dropped: those are skipped).
#[derive(Default)]
struct Unknown {
    entries: HashMap<IdHash, (Instant, u64, u64)>,
    order: VecDeque<(IdHash, u64)>,
    inserted: u64,
}

impl Unknown {
    fn get(&self, id: &IdHash) -> Option<(Instant, u64)> {
        self.entries.get(id).map(|(at, sub, _)| (*at, *sub))
    }

    /// Every entry has the same TTL, so the oldest insertion is the first to expire: it is the
    /// one evicted.
    fn insert(&mut self, id: IdHash, at: Instant, subscription: u64, capacity: usize) {
        self.inserted += 1;
        self.entries.insert(id, (at, subscription, self.inserted));
        self.order.push_back((id, self.inserted));
        while self.entries.len() > capacity {
            let Some((old, n)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&old).is_some_and(|(_, _, m)| *m == n) {
                self.entries.remove(&old);
            }
        }
        // Replaced and dropped insertions stay in `order` until passed; bound them too.
        if self.order.len() > 2 * capacity.max(1) {
            let entries = &self.entries;
            self.order
                .retain(|(id, n)| entries.get(id).is_some_and(|(_, _, m)| m == n));
        }
    }

    fn remove(&mut self, id: &IdHash) {
        self.entries.remove(id);
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

/// What the cache may answer for an id.
enum Cached {
    Known(Arc<Client>),
    Unknown,
}

pub struct CachedClientStore<S> {
    inner: S,
    hot: Hot,
    entries: Arc<RwLock<Entries>>,
    /// Notices handled so far: a read that saw it change while in flight is not cached.
    generation: Arc<AtomicU64>,
    ttl: Duration,
    unknown_capacity: usize,
}

impl<S: ClientStore> CachedClientStore<S> {
    /// Caches for at most `ttl`, at most `unknown_capacity` unknown ids, and starts dropping
    /// entries on notices.
    pub fn new(inner: S, hot: Hot, ttl: Duration, unknown_capacity: usize) -> Self {
        let entries: Arc<RwLock<Entries>> = Arc::default();
        let generation = Arc::new(AtomicU64::new(0));
        let (weak, seen) = (Arc::downgrade(&entries), Arc::clone(&generation));
        let mut notices = hot.subscribe();
        tokio::spawn(async move {
            loop {
                let notice = notices.recv().await;
                let Some(entries) = Weak::upgrade(&weak) else {
                    return;
                };
                seen.fetch_add(1, Ordering::SeqCst);
                let Ok(mut map) = entries.write() else { return };
                match notice {
                    // Changed or created: either way, neither copy holds.
                    Ok(Notice::ClientChanged { client_id }) => {
                        map.known.remove(&client_id);
                        map.unknown.remove(&id_hash(&client_id));
                    }
                    Ok(Notice::KeysChanged | Notice::LogoutsPending) => {}
                    // Some change went unheard: anything may be stale.
                    Err(RecvError::Lagged(_)) => {
                        map.known.clear();
                        map.unknown.clear();
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        Self {
            inner,
            hot,
            entries,
            generation,
            ttl,
            unknown_capacity,
        }
    }

    /// How many unknown ids are remembered now.
    pub fn unknown_cached(&self) -> usize {
        self.entries.read().map_or(0, |m| m.unknown.entries.len())
    }

    fn cached(&self, client_id: &str) -> Option<Cached> {
        // Notices may be missed meanwhile: trust nothing.
        let subscription = self.hot.listening()?;
        let fresh = |at: Instant, sub: u64| sub == subscription && at.elapsed() < self.ttl;
        let map = self.entries.read().ok()?;
        if let Some((client, at, sub)) = map.known.get(client_id)
            && fresh(*at, *sub)
        {
            return Some(Cached::Known(Arc::clone(client)));
        }
        let (at, sub) = map.unknown.get(&id_hash(client_id))?;
        fresh(at, sub).then_some(Cached::Unknown)
    }
}

#[async_trait::async_trait]
impl<S: ClientStore> ClientStore for CachedClientStore<S> {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        match self.cached(client_id) {
            Some(Cached::Known(hit)) => return Ok(Some(hit)),
            Some(Cached::Unknown) => return Ok(None),
            None => {}
        }
        let before = (self.hot.listening(), self.generation.load(Ordering::SeqCst));
        let found = self.inner.client(client_id).await?;
        let after = (self.hot.listening(), self.generation.load(Ordering::SeqCst));
        // Only what was read while notices flowed, with none arriving meanwhile, may be kept:
        // a client created elsewhere after this read is announced, and its notice drops the
        // unknown entry, so it works here at once.
        if let (Some(subscription), _) = before
            && before == after
            && let Ok(mut map) = self.entries.write()
        {
            let now = Instant::now();
            match &found {
                Some(client) => {
                    map.unknown.remove(&id_hash(client_id));
                    // Registration lets anyone add clients: the known ones are bounded too.
                    // Past the bound, those past their time go first, then any.
                    if map.known.len() >= KNOWN_CAPACITY && !map.known.contains_key(client_id) {
                        let ttl = self.ttl;
                        map.known.retain(|_, (_, at, _)| at.elapsed() < ttl);
                        if map.known.len() >= KNOWN_CAPACITY
                            && let Some(any) = map.known.keys().next().cloned()
                        {
                            map.known.remove(&any);
                        }
                    }
                    map.known.insert(
                        client_id.to_owned(),
                        (Arc::clone(client), now, subscription),
                    );
                }
                None => {
                    map.known.remove(client_id);
                    let capacity = self.unknown_capacity;
                    map.unknown
                        .insert(id_hash(client_id), now, subscription, capacity);
                }
            }
        }
        Ok(found)
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        self.inner.all().await
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        self.inner.upsert(client).await?;
        self.changed(client.id.as_str()).await;
        Ok(())
    }

    /// Created here: announced like a change, so a replica that has just answered "unknown
    /// client" for this id drops that answer and finds the client at once.
    async fn create(&self, client: &Client) -> Result<bool, StoreError> {
        let created = self.inner.create(client).await?;
        if created {
            self.changed(client.id.as_str()).await;
        }
        Ok(created)
    }

    async fn replace_registration(
        &self,
        client: &Client,
        token_hash: &str,
    ) -> Result<bool, StoreError> {
        let replaced = self.inner.replace_registration(client, token_hash).await?;
        if replaced {
            self.changed(client.id.as_str()).await;
        }
        Ok(replaced)
    }

    async fn count_registered(&self) -> Result<u64, StoreError> {
        self.inner.count_registered().await
    }

    async fn delete(&self, client_id: &str, token_hash: &str) -> Result<bool, StoreError> {
        let deleted = self.inner.delete(client_id, token_hash).await?;
        if deleted {
            self.changed(client_id).await;
        }
        Ok(deleted)
    }
}

impl<S: ClientStore> CachedClientStore<S> {
    /// Drops this replica's copies of `client_id` and tells the others to drop theirs.
    async fn changed(&self, client_id: &str) {
        if let Ok(mut map) = self.entries.write() {
            map.known.remove(client_id);
            map.unknown.remove(&id_hash(client_id));
        }
        // Stored already: if the notice cannot go out, the others' copies expire with the TTL
        // or are dropped when their listener reconnects.
        let notice = Notice::ClientChanged {
            client_id: client_id.to_owned(),
        };
        if let Err(e) = self.hot.publish(&notice).await {
            tracing::warn!(client_id, error = %e, "client change not published");
        }
    }
}
