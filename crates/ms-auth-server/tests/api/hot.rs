//! Hot shared state: one suite over the in-process state and a real `redis-server`; then
//! replicas sharing PostgreSQL and Redis, and Redis killed and restarted under a running
//! server.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use ms_auth_server::store::{HotState, MemoryHot, Notice, RedisHot, RedisSettings, Stores};

use crate::{
    helpers::{PLAYGROUND_CLIENT, PLAYGROUND_SECRET, playground_settings, wait_for_status},
    servers::RedisServer,
    store::{Backend, Replica, location},
};

/// Real time: these tests check Redis' own expiry.
fn now() -> ms_auth_server::clock::UnixTime {
    ms_auth_server::clock::Clock::system().now()
}

/// `n` handles on one hot state, as `n` replicas have: one shared memory, or `n` Redis
/// clients of one server (kept alive by the returned server).
fn replicas(redis: bool, n: usize) -> (Vec<Arc<dyn HotState>>, Option<RedisServer>) {
    if !redis {
        let one: Arc<dyn HotState> = Arc::new(MemoryHot::default());
        return (vec![one; n], None);
    }
    let server = RedisServer::start();
    let all = (0..n)
        .map(|_| {
            Arc::new(RedisHot::open(&server.url(), Duration::from_millis(500)).unwrap())
                as Arc<dyn HotState>
        })
        .collect();
    (all, Some(server))
}

async fn until_listening(hot: &dyn HotState) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while hot.listening().is_none() {
        assert!(Instant::now() < deadline, "never subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

macro_rules! memory_and_redis {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() { super::$name(false).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() { super::$name(true).await }
        }
    )*};
}

memory_and_redis!(
    denylist_entries_live_until_the_token_expires,
    a_replay_id_is_accepted_once_among_concurrent_callers,
    rate_limits_count_per_key_and_window,
    notices_reach_every_replica,
    pruning_drops_expired_entries_and_keeps_live_ones,
    a_value_is_kept_until_its_time_and_seen_by_every_replica,
    a_value_is_taken_once_among_concurrent_takers,
    expired_values_are_invisible_and_pruned,
);

async fn denylist_entries_live_until_the_token_expires(redis: bool) {
    let (hot, _server) = replicas(redis, 2);
    let t = now();
    hot[0].deny("jti-1", t.plus_secs(1), t).await.unwrap();
    hot[0]
        .deny("already-expired", t.plus_secs(-5), t)
        .await
        .unwrap();
    assert!(
        hot[1].is_denied("jti-1", t).await.unwrap(),
        "seen by the other replica"
    );
    assert!(!hot[1].is_denied("jti-2", t).await.unwrap());
    assert!(!hot[1].is_denied("already-expired", t).await.unwrap());
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert!(
        !hot[1].is_denied("jti-1", now()).await.unwrap(),
        "the entry leaves with the token's exp"
    );
}

async fn a_replay_id_is_accepted_once_among_concurrent_callers(redis: bool) {
    let (hot, _server) = replicas(redis, 4);
    let t = now();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let h = Arc::clone(&hot[i % hot.len()]);
            tokio::spawn(async move {
                h.first_use("assertion-jti", t.plus_secs(60), t)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut firsts = 0;
    for task in tasks {
        firsts += usize::from(task.await.unwrap());
    }
    assert_eq!(firsts, 1);
    assert!(
        hot[0]
            .first_use("another", t.plus_secs(60), t)
            .await
            .unwrap()
    );
}

async fn rate_limits_count_per_key_and_window(redis: bool) {
    let (hot, _server) = replicas(redis, 2);
    let t = now();
    let mut allowed = Vec::new();
    for i in 0..5 {
        allowed.push(hot[i % 2].hit("caller-a", 3, 60, t).await.unwrap());
    }
    assert_eq!(
        allowed,
        [true, true, true, false, false],
        "counted across replicas"
    );
    assert!(hot[0].hit("caller-b", 3, 60, t).await.unwrap(), "per key");
    assert!(
        hot[0]
            .hit("caller-a", 3, 60, t.plus_secs(60))
            .await
            .unwrap(),
        "a new window starts afresh"
    );
}

async fn notices_reach_every_replica(redis: bool) {
    let (hot, _server) = replicas(redis, 2);
    let mut a = hot[0].subscribe();
    let mut b = hot[1].subscribe();
    for h in &hot {
        until_listening(h.as_ref()).await;
    }
    let notice = Notice::ClientChanged {
        client_id: "web".to_owned(),
    };
    hot[0].publish(&notice).await.unwrap();
    for rx in [&mut a, &mut b] {
        let got = tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .expect("the notice arrives")
            .unwrap();
        assert_eq!(got, notice);
    }
}

/// The pruning task's round: in process, every entry past its time goes at once (the maps
/// otherwise shrink only as calls pass); Redis expires its keys itself and has nothing to do.
async fn pruning_drops_expired_entries_and_keeps_live_ones(redis: bool) {
    let (hot, _server) = replicas(redis, 1);
    let hot = &hot[0];
    let t = now();
    hot.deny("short", t.plus_secs(10), t).await.unwrap();
    hot.deny("long", t.plus_secs(1_000), t).await.unwrap();
    assert!(
        hot.first_use("assertion", t.plus_secs(10), t)
            .await
            .unwrap()
    );
    hot.count("caller", 60, t).await.unwrap();
    let later = t.plus_secs(500);
    assert_eq!(
        hot.prune_expired(later).await.unwrap(),
        if redis { 0 } else { 3 },
        "a denial, a replay id and a rate window"
    );
    assert!(hot.is_denied("long", later).await.unwrap());
    assert_eq!(hot.prune_expired(later).await.unwrap(), 0);
}

async fn status_of(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_changed_through_one_replica_is_current_at_the_others_at_once() {
    let redis = RedisServer::start();
    let at = location(Backend::Postgres).await;
    let redis_settings = RedisSettings {
        url: Some(redis.url()),
        ..RedisSettings::default()
    };
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    settings.redis = redis_settings.clone();
    settings.cluster.replicated = true;
    let (a, b) = tokio::join!(
        Replica::start_with(settings.clone()),
        Replica::start_with(settings.clone())
    );
    // A third party on the same state: an admin tool, or a replica's registration endpoint.
    let admin = Stores::open(&settings.store, &redis_settings)
        .await
        .unwrap();
    until_listening(admin.hot.as_ref()).await;
    let ok = format!("{PLAYGROUND_CLIENT}:{PLAYGROUND_SECRET}");
    // Both replicas now hold the client in their caches.
    assert_eq!(a.token(&ok).await.status(), 200);
    assert_eq!(b.token(&ok).await.status(), 200);
    let mut changed = admin
        .clients
        .client(PLAYGROUND_CLIENT)
        .await
        .unwrap()
        .unwrap()
        .as_ref()
        .clone();
    changed.credential = ms_auth_server::oauth::client::ClientCredential::SecretHash(
        ms_auth_server::oauth::secret::SecretHash::generate(
            &ms_auth_server::oauth::secret::ClientSecret::new("rotated-secret"),
        )
        .unwrap(),
    );
    admin.clients.upsert(&changed).await.unwrap();
    let rotated = format!("{PLAYGROUND_CLIENT}:rotated-secret");
    let deadline = Instant::now() + Duration::from_millis(500);
    for replica in [&a, &b] {
        loop {
            let (old, new) = (
                replica.token(&ok).await.status().as_u16(),
                replica.token(&rotated).await.status().as_u16(),
            );
            if (old, new) == (401, 200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a stale registration served: {old} / {new}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_a_running_server() {
    let redis = RedisServer::start();
    let at = location(Backend::Sqlite).await;
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    settings.redis = RedisSettings {
        url: Some(redis.url()),
        timeout_ms: 300,
    };
    let replica = Replica::start_with(settings.clone()).await;
    let hot = RedisHot::open(&redis.url(), Duration::from_millis(300)).unwrap();
    let ok = format!("{PLAYGROUND_CLIENT}:{PLAYGROUND_SECRET}");
    let ready = format!("{}/health/ready", replica.management);
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(&ready).await != 200 {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(replica.token(&ok).await.status(), 200);

    redis.kill();
    let started = Instant::now();
    assert!(
        hot.deny("j", now().plus_secs(60), now()).await.is_err(),
        "an outage is an error"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded: {:?}",
        started.elapsed()
    );
    wait_for_status(&ready, 503).await;
    let health: serde_json::Value = reqwest::get(format!("{}/health", replica.management))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            health["checks"]["redis"].as_str(),
            health["checks"]["store"].as_str()
        ),
        (Some("DOWN"), Some("UP")),
        "{health}"
    );
    // client_credentials needs no hot state: issuance goes on (the client cache is bypassed).
    for _ in 0..3 {
        assert_eq!(replica.token(&ok).await.status(), 200);
    }

    redis.resume();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if status_of(&ready).await == 200 && hot.deny("j", now().plus_secs(60), now()).await.is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(hot.is_denied("j", now()).await.unwrap());
    until_listening(&hot).await;
    assert_eq!(replica.token(&ok).await.status(), 200);
    replica.stop().await;
}

/// A pending sign-in interaction put by the replica that served the authorization request is
/// read by whichever serves the sign-in page, until its time.
async fn a_value_is_kept_until_its_time_and_seen_by_every_replica(redis: bool) {
    let (hot, _server) = replicas(redis, 2);
    let t = now();
    let request = r#"{"client_id":"playground-web","scope":"openid profile"}"#;
    hot[0]
        .put_value("interaction:i-1", request, t.plus_secs(1), t)
        .await
        .unwrap();
    assert_eq!(
        hot[1]
            .get_value("interaction:i-1", t)
            .await
            .unwrap()
            .as_deref(),
        Some(request),
        "seen by the other replica"
    );
    assert_eq!(
        hot[1]
            .get_value("interaction:i-1", t)
            .await
            .unwrap()
            .as_deref(),
        Some(request),
        "a read leaves it"
    );
    assert_eq!(hot[1].get_value("interaction:i-2", t).await.unwrap(), None);
    hot[1]
        .put_value("interaction:i-3", "first", t.plus_secs(60), t)
        .await
        .unwrap();
    hot[0]
        .put_value("interaction:i-3", "second", t.plus_secs(60), t)
        .await
        .unwrap();
    assert_eq!(
        hot[1]
            .get_value("interaction:i-3", t)
            .await
            .unwrap()
            .as_deref(),
        Some("second"),
        "replaced"
    );
    hot[0]
        .put_value("interaction:i-3", "gone", t.plus_secs(-1), t)
        .await
        .unwrap();
    assert_eq!(
        hot[1].get_value("interaction:i-3", t).await.unwrap(),
        None,
        "put past its time: removed"
    );
    hot[0]
        .put_value("interaction:i-4", "x", t.plus_secs(60), t)
        .await
        .unwrap();
    hot[1].delete_value("interaction:i-4").await.unwrap();
    assert_eq!(hot[0].get_value("interaction:i-4", t).await.unwrap(), None);
    hot[1].delete_value("interaction:i-4").await.unwrap();
    // Other kinds of entry live apart: a denial of the same name is no value.
    hot[0]
        .deny("interaction:i-5", t.plus_secs(60), t)
        .await
        .unwrap();
    assert_eq!(hot[0].get_value("interaction:i-5", t).await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(
        hot[1].get_value("interaction:i-1", now()).await.unwrap(),
        None,
        "gone at its time"
    );
}

/// Of a sign-in form posted twice at once (two tabs, two replicas), one completes it.
async fn a_value_is_taken_once_among_concurrent_takers(redis: bool) {
    let (hot, _server) = replicas(redis, 4);
    let t = now();
    hot[0]
        .put_value("interaction:once", "request", t.plus_secs(60), t)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let h = Arc::clone(&hot[i % hot.len()]);
            tokio::spawn(async move { h.take_value("interaction:once", t).await.unwrap() })
        })
        .collect();
    let mut taken = Vec::new();
    for task in tasks {
        taken.extend(task.await.unwrap());
    }
    assert_eq!(taken, ["request"]);
    assert_eq!(hot[0].get_value("interaction:once", t).await.unwrap(), None);
    assert_eq!(
        hot[1].take_value("interaction:none", t).await.unwrap(),
        None
    );
}

/// In process, a value past its time is neither read nor taken, and the pruning round drops
/// it; Redis expires it itself (checked above in real time).
async fn expired_values_are_invisible_and_pruned(redis: bool) {
    let (hot, _server) = replicas(redis, 1);
    let hot = &hot[0];
    let t = now();
    hot.put_value("short", "a", t.plus_secs(10), t)
        .await
        .unwrap();
    hot.put_value("long", "b", t.plus_secs(1_000), t)
        .await
        .unwrap();
    let later = t.plus_secs(500);
    if !redis {
        assert_eq!(hot.get_value("short", later).await.unwrap(), None);
        assert_eq!(hot.take_value("short", later).await.unwrap(), None);
        hot.put_value("short", "a", t.plus_secs(10), t)
            .await
            .unwrap();
    }
    assert_eq!(
        hot.prune_expired(later).await.unwrap(),
        if redis { 0 } else { 1 }
    );
    assert_eq!(
        hot.get_value("long", later).await.unwrap().as_deref(),
        Some("b")
    );
    assert_eq!(hot.prune_expired(later).await.unwrap(), 0);
}
