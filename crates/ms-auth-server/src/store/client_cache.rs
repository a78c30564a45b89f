//! Client metadata cached in each replica, in front of the store of record. A change made
//! through any replica is published ([`Notice::ClientChanged`]) and every replica drops its
//! copy at once; while notices cannot be trusted to arrive (Redis unreachable, a listener
//! that lagged) the cache is bypassed, so a stale registration is never served.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::broadcast::error::RecvError;

use super::{
    ClientStore, StoreError,
    hot::{Hot, Notice},
};
use crate::oauth::client::Client;

/// Each entry with when it was read and under which subscription.
type Entries = RwLock<HashMap<String, (Arc<Client>, Instant, u64)>>;

pub struct CachedClientStore<S> {
    inner: S,
    hot: Hot,
    entries: Arc<Entries>,
    /// Notices handled so far: a read that saw it change while in flight is not cached.
    generation: Arc<AtomicU64>,
    ttl: Duration,
}

impl<S: ClientStore> CachedClientStore<S> {
    /// Caches for at most `ttl`, and starts dropping entries on notices.
    pub fn new(inner: S, hot: Hot, ttl: Duration) -> Self {
        let entries: Arc<Entries> = Arc::default();
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
                    Ok(Notice::ClientChanged { client_id }) => {
                        map.remove(&client_id);
                    }
                    Ok(Notice::KeysChanged) => {}
                    Err(RecvError::Lagged(_)) => map.clear(),
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
        }
    }

    fn cached(&self, client_id: &str) -> Option<Arc<Client>> {
        // Notices may be missed meanwhile: trust nothing.
        let subscription = self.hot.listening()?;
        let map = self.entries.read().ok()?;
        map.get(client_id)
            .filter(|(_, at, sub)| *sub == subscription && at.elapsed() < self.ttl)
            .map(|(c, _, _)| Arc::clone(c))
    }
}

#[async_trait::async_trait]
impl<S: ClientStore> ClientStore for CachedClientStore<S> {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        if let Some(hit) = self.cached(client_id) {
            return Ok(Some(hit));
        }
        let before = (self.hot.listening(), self.generation.load(Ordering::SeqCst));
        let found = self.inner.client(client_id).await?;
        let after = (self.hot.listening(), self.generation.load(Ordering::SeqCst));
        // Only what was read while notices flowed, with none arriving meanwhile, may be kept;
        // unknown ids are never cached, so a client registered elsewhere works here at once.
        if let (Some(client), (Some(subscription), _)) = (&found, before)
            && before == after
            && let Ok(mut map) = self.entries.write()
        {
            map.insert(
                client_id.to_owned(),
                (Arc::clone(client), Instant::now(), subscription),
            );
        }
        Ok(found)
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        self.inner.all().await
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        self.inner.upsert(client).await?;
        if let Ok(mut map) = self.entries.write() {
            map.remove(client.id.as_str());
        }
        // Stored already: if the notice cannot go out, the others' copies expire with the TTL
        // or are dropped when their listener reconnects.
        if let Err(e) = self
            .hot
            .publish(&Notice::ClientChanged {
                client_id: client.id.as_str().to_owned(),
            })
            .await
        {
            tracing::warn!(client_id = %client.id, error = %e, "client change not published");
        }
        Ok(())
    }
}
