//! Sessions cached in Redis in front of the SQL store, as `Stores::open` sets them up when
//! Redis is configured: replicas share the copies, so a change through one is seen at the
//! others at once, an ended session is refused everywhere at once, and a miss — or Redis
//! down — reaches the store.

use std::time::{Duration, Instant};

use ms_auth_server::{
    clock::{Clock, UnixTime},
    identity::BrowserSession,
    store::{RedisSettings, Stores},
};

use super::{
    Backend, location, raw,
    sessions::{session, token_hash},
};
use crate::servers::RedisServer;

/// Real time: Redis expires what it holds by its own clock.
fn now() -> UnixTime {
    Clock::system().now()
}

/// A session of alice's, from now on, for an hour.
fn fresh(sid: &str) -> BrowserSession {
    let at = now().secs();
    session(sid, at, at + 1_800, at + 3_600)
}

/// Two replicas' stores over one SQLite file and one Redis.
async fn two_replicas(at: &super::Location, redis: &RedisServer) -> (Stores, Stores) {
    let settings = RedisSettings {
        url: Some(redis.url()),
        ..RedisSettings::default()
    };
    (
        Stores::open(&at.settings, &settings).await.unwrap(),
        Stores::open(&at.settings, &settings).await.unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_served_from_the_shared_cache_and_a_change_seen_everywhere_at_once() {
    let redis = RedisServer::start();
    let at = location(Backend::Sqlite).await;
    let (a, b) = two_replicas(&at, &redis).await;
    let one = fresh("sid-1");
    let hash = token_hash("sid-1");
    a.sessions.create_session(&hash, &one).await.unwrap();
    assert_eq!(
        b.sessions.session(&hash, now()).await.unwrap().as_ref(),
        Some(&one),
        "a miss reaches the store"
    );
    // Changed behind the cache's back: the copy is what is served, at either replica.
    raw(
        &at,
        "UPDATE browser_sessions SET user_agent = 'changed' WHERE sid = 'sid-1'",
    )
    .await;
    for replica in [&a, &b] {
        let served = replica
            .sessions
            .session(&hash, now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(served.user_agent, one.user_agent, "served from the cache");
    }

    // A touch through one replica drops the copy: the other reads the store.
    let later = now().plus_secs(1);
    a.sessions
        .touch_session("sid-1", later, later.plus_secs(1_800))
        .await
        .unwrap();
    let touched = b.sessions.session(&hash, later).await.unwrap().unwrap();
    assert_eq!(
        (touched.last_seen, touched.user_agent.as_deref()),
        (later, Some("changed"))
    );
    a.sessions
        .add_session_client("sid-1", "playground-web")
        .await
        .unwrap();
    assert_eq!(
        b.sessions
            .session(&hash, later)
            .await
            .unwrap()
            .unwrap()
            .clients,
        ["playground-web"]
    );

    // Cached again at both; ended through one, refused at both at once.
    b.sessions.session(&hash, later).await.unwrap().unwrap();
    let ended = a.sessions.end_session("sid-1", later).await.unwrap();
    assert_eq!(ended.map(|s| s.sid).as_deref(), Some("sid-1"));
    assert_eq!(b.sessions.session(&hash, later).await.unwrap(), None);
    assert_eq!(a.sessions.session(&hash, later).await.unwrap(), None);
}

/// The race a plain delete would lose: a replica reads the session just before it is ended
/// and caches it just after. The end's mark outlives any such copy, so it is never served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_cached_across_an_end_is_never_served() {
    let redis = RedisServer::start();
    let at = location(Backend::Sqlite).await;
    let (a, b) = two_replicas(&at, &redis).await;
    let hash = token_hash("sid-1");
    a.sessions
        .create_session(&hash, &fresh("sid-1"))
        .await
        .unwrap();
    let t = now();
    assert!(a.sessions.end_session("sid-1", t).await.unwrap().is_some());
    // B's read of the store happened before the end: as if the row were still live…
    raw(&at, "UPDATE browser_sessions SET ended_at = NULL").await;
    assert!(
        b.sessions.session(&hash, t).await.unwrap().is_some(),
        "the store's answer at that read"
    );
    // …and it cached that copy after the end had passed.
    raw(&at, "UPDATE browser_sessions SET ended_at = 1").await;
    assert_eq!(b.sessions.session(&hash, t).await.unwrap(), None);
    assert_eq!(a.sessions.session(&hash, t).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_sessions_are_read_and_ended_in_the_store() {
    let redis = RedisServer::start();
    let at = location(Backend::Sqlite).await;
    let (a, b) = two_replicas(&at, &redis).await;
    let hash = token_hash("sid-1");
    a.sessions
        .create_session(&hash, &fresh("sid-1"))
        .await
        .unwrap();
    assert!(b.sessions.session(&hash, now()).await.unwrap().is_some());
    redis.kill();
    let started = Instant::now();
    assert!(
        b.sessions.session(&hash, now()).await.unwrap().is_some(),
        "read from the store"
    );
    assert!(
        a.sessions
            .end_session("sid-1", now())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(b.sessions.session(&hash, now()).await.unwrap(), None);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "each call bounded: {:?}",
        started.elapsed()
    );
    redis.resume();
    assert_eq!(b.sessions.session(&hash, now()).await.unwrap(), None);
}
