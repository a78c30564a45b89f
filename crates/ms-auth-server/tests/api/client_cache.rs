//! The per-replica client cache in front of the store of record (review F11): an id the
//! store does not know is remembered like a known one, so repeating it costs no store round
//! trip; a client created elsewhere is found at once; random ids keep the cache bounded and
//! leave the known clients cached. Real stores underneath, counted by a wrapper.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use ms_auth_server::{
    oauth::client::Client,
    store::{
        CachedClientStore, ClientStore, MemoryClientStore, MemoryHot, RedisHot, SqlStore,
        StoreError, hot::Hot,
    },
};

use crate::{
    servers::RedisServer,
    store::{Backend, client, location},
};

/// A store that counts the lookups reaching it.
struct Counted<S> {
    inner: S,
    gets: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl<S: ClientStore> ClientStore for Counted<S> {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.client(client_id).await
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        self.inner.all().await
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        self.inner.upsert(client).await
    }

    async fn create(&self, client: &Client) -> Result<bool, StoreError> {
        self.inner.create(client).await
    }

    async fn replace_registration(
        &self,
        client: &Client,
        token_hash: &str,
    ) -> Result<bool, StoreError> {
        self.inner.replace_registration(client, token_hash).await
    }

    async fn count_registered(&self) -> Result<u64, StoreError> {
        self.inner.count_registered().await
    }

    async fn delete(&self, client_id: &str, token_hash: &str) -> Result<bool, StoreError> {
        self.inner.delete(client_id, token_hash).await
    }
}

type Cache = CachedClientStore<Counted<Arc<dyn ClientStore>>>;

fn cached(inner: Arc<dyn ClientStore>, hot: Hot, capacity: usize) -> (Cache, Arc<AtomicUsize>) {
    let gets = Arc::new(AtomicUsize::new(0));
    let counted = Counted {
        inner,
        gets: Arc::clone(&gets),
    };
    let cache = CachedClientStore::new(counted, hot, Duration::from_secs(60), capacity);
    (cache, gets)
}

fn gets(n: &AtomicUsize) -> usize {
    n.load(Ordering::SeqCst)
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

crate::store::per_backend!(repeated_lookups_of_an_unknown_id_reach_the_store_once);

async fn repeated_lookups_of_an_unknown_id_reach_the_store_once(backend: Backend) {
    let at = location(backend).await;
    let store: Arc<dyn ClientStore> = match backend {
        Backend::Memory => Arc::new(MemoryClientStore::default()),
        _ => Arc::new(SqlStore::open(&at.settings).await.unwrap()),
    };
    store
        .upsert(&client("known", "s", "country.read"))
        .await
        .unwrap();
    let (cache, n) = cached(store, Arc::new(MemoryHot::default()), 100);
    for _ in 0..20 {
        assert!(cache.client("nobody").await.unwrap().is_none());
        assert!(cache.client("known").await.unwrap().is_some());
    }
    assert_eq!(gets(&n), 2, "one store lookup per id");
    // Created through this replica: its own unknown entry goes with the write.
    cache
        .upsert(&client("nobody", "s", "country.read"))
        .await
        .unwrap();
    assert!(cache.client("nobody").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_created_at_one_replica_after_an_unknown_lookup_at_another_is_found_at_once() {
    let redis = RedisServer::start();
    let at = location(Backend::Postgres).await;
    let replica = || async {
        let hot: Hot = Arc::new(RedisHot::open(&redis.url(), Duration::from_millis(500)).unwrap());
        let sql: Arc<dyn ClientStore> = Arc::new(SqlStore::open(&at.settings).await.unwrap());
        until("subscribed", || hot.listening().is_some()).await;
        cached(sql, hot, 100)
    };
    let (a, _) = replica().await;
    let (b, b_gets) = replica().await;
    for _ in 0..5 {
        assert!(b.client("late").await.unwrap().is_none());
    }
    assert_eq!(gets(&b_gets), 1, "b remembers that it does not know the id");
    a.upsert(&client("late", "s", "country.read"))
        .await
        .unwrap();
    // The notice crosses Redis in a few milliseconds; meanwhile the write is committed, so
    // the first lookup after it may still see the old entry, never one 500 ms later.
    let deadline = Instant::now() + Duration::from_millis(500);
    while b.client("late").await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "b still answers unknown");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_distinct_unknown_ids_keep_the_cache_bounded() {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::default());
    store
        .upsert(&client("known", "s", "country.read"))
        .await
        .unwrap();
    let (cache, n) = cached(store, Arc::new(MemoryHot::default()), 100);
    assert!(cache.client("known").await.unwrap().is_some());
    // Long ids too: what is kept per id does not grow with its length.
    let ids: Vec<String> = (0..1_000)
        .map(|i| format!("{i}-{}", "x".repeat(4_000)))
        .collect();
    for id in &ids {
        assert!(cache.client(id).await.unwrap().is_none());
    }
    assert_eq!(gets(&n), 1 + ids.len());
    assert_eq!(cache.unknown_cached(), 100, "at most the capacity");
    let before = gets(&n);
    assert!(cache.client("known").await.unwrap().is_some());
    assert!(cache.client(&ids[999]).await.unwrap().is_none());
    assert_eq!(
        gets(&n),
        before,
        "the known client and the latest unknown ids stay cached"
    );
    assert!(cache.client(&ids[0]).await.unwrap().is_none());
    assert_eq!(gets(&n), before + 1, "the oldest unknown ids were evicted");
    assert_eq!(cache.unknown_cached(), 100);
}

/// The rule the positive entries follow holds for the negative ones: while notices may be
/// missed nothing cached is trusted, and after a resubscription nothing from before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_are_looked_up_again_while_notices_may_be_missed() {
    let redis = RedisServer::start();
    let hot: Hot = Arc::new(RedisHot::open(&redis.url(), Duration::from_millis(300)).unwrap());
    until("subscribed", || hot.listening().is_some()).await;
    let before = hot.listening();
    let (cache, n) = cached(
        Arc::new(MemoryClientStore::default()),
        Arc::clone(&hot),
        100,
    );
    cache.client("nobody").await.unwrap();
    cache.client("nobody").await.unwrap();
    assert_eq!(gets(&n), 1);
    redis.kill();
    until("unsubscribed", || hot.listening().is_none()).await;
    cache.client("nobody").await.unwrap();
    cache.client("nobody").await.unwrap();
    assert_eq!(gets(&n), 3, "bypassed while Redis is away");
    redis.resume();
    until("resubscribed", || hot.listening().is_some()).await;
    assert_ne!(hot.listening(), before);
    cache.client("nobody").await.unwrap();
    cache.client("nobody").await.unwrap();
    assert_eq!(
        gets(&n),
        4,
        "read again once, then cached under the new subscription"
    );
}
