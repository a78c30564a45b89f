//! Brute-force protection of client authentication (F6; RFC 6749 §2.3.1): failures counted per
//! source address and per client id across replicas, progressive delays, then `429 slow_down`
//! with `Retry-After`.

use std::time::{Duration, Instant};

use ms_auth_server::store::RedisSettings;

use crate::{helpers::*, servers::RedisServer};

const GOOD: &str = PLAYGROUND_ID_SECRET;
const CC: &str = "grant_type=client_credentials";

fn guarded(max_per_source: u64, delay_after: u64, max_per_client: u64) -> ms_auth_server::Settings {
    let mut s = playground_settings();
    s.server.trusted_proxies = vec!["127.0.0.1".to_owned()];
    // A day: the fixed window cannot roll over in the middle of a test.
    s.brute_force.window_secs = 86_400;
    s.brute_force.max_failures_per_source = max_per_source;
    s.brute_force.delay_after_failures = delay_after;
    s.brute_force.max_failures_per_client = max_per_client;
    s.brute_force.base_delay_ms = 100;
    s.brute_force.max_delay_ms = 400;
    s
}

#[tokio::test]
async fn a_source_with_too_many_failures_is_refused_even_with_the_right_secret() {
    let app = TestApp::spawn(guarded(5, 100, 1_000)).await;
    let attacker = "198.51.100.66";
    for i in 0..5 {
        // Failures on several ids and endpoints all count toward the source.
        let (path, who) = match i % 3 {
            0 => ("/oauth2/token", format!("guess-{i}:x")),
            1 => ("/oauth2/introspect", "service-client-jwt:wrong".to_owned()),
            _ => ("/oauth2/revoke", "service-client-jwt:wrong".to_owned()),
        };
        let body = if path == "/oauth2/token" {
            CC
        } else {
            "token=t"
        };
        assert_eq!(
            app.post_basic_from(attacker, path, &who, body)
                .await
                .status(),
            401,
            "{i}"
        );
    }
    let res = app
        .post_basic_from(attacker, "/oauth2/token", GOOD, CC)
        .await;
    assert_eq!(res.status(), 429);
    let retry: u64 = header(res.headers(), "retry-after").parse().unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    let d = assert_oauth_error(res, 429, "slow_down").await;
    assert!(d.contains("retry after"), "{d}");
    // Another source with the right secret is not affected.
    assert_eq!(
        app.post_basic_from("192.0.2.10", "/oauth2/token", GOOD, CC)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_client_id_under_a_distributed_attack_is_delayed_then_refused_for_a_bounded_time() {
    let app = TestApp::spawn(guarded(1_000, 3, 8)).await;
    let attack = |i: usize| {
        let app = &app;
        async move {
            let source = format!("203.0.113.{i}");
            app.post_basic_from(&source, "/oauth2/token", "service-client-jwt:wrong", CC)
                .await
                .status()
        }
    };
    for i in 0..3 {
        assert_eq!(attack(i).await, 401);
    }
    // Past 3 failures the client's own requests wait (100 ms, doubling, at most 400 ms) but pass.
    let started = Instant::now();
    assert_eq!(
        app.post_basic_from("192.0.2.1", "/oauth2/token", GOOD, CC)
            .await
            .status(),
        200
    );
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    for i in 3..8 {
        assert_eq!(attack(i).await, 401);
    }
    let started = Instant::now();
    let res = app
        .post_basic_from("192.0.2.1", "/oauth2/token", GOOD, CC)
        .await;
    // Past 8 failures a window the id is refused until the window ends — the bound a
    // legitimate client can be held up by someone else's failures (`window_secs`).
    assert_eq!(res.status(), 429);
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "refused at once"
    );
    let retry: u64 = header(res.headers(), "retry-after").parse().unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    // Another client is not affected.
    let other = TestApp::spawn(guarded(1_000, 3, 8)).await;
    assert_eq!(
        other
            .post_basic_from("192.0.2.1", "/oauth2/token", GOOD, CC)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn without_a_trusted_proxy_a_forwarded_address_is_ignored() {
    let mut settings = guarded(3, 100, 1_000);
    settings.server.trusted_proxies.clear();
    let app = TestApp::spawn(settings).await;
    // Each failure claims another address; the peer (127.0.0.1) is what counts.
    for i in 0..3 {
        let source = format!("203.0.113.{i}");
        assert_eq!(
            app.post_basic_from(&source, "/oauth2/token", "x:y", CC)
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        app.post_basic_from("192.0.2.99", "/oauth2/token", GOOD, CC)
            .await
            .status(),
        429
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_at_one_replica_count_at_the_other() {
    let redis = RedisServer::start();
    let mut settings = guarded(4, 100, 1_000);
    settings.redis = RedisSettings {
        url: Some(redis.url()),
        ..RedisSettings::default()
    };
    let a = TestApp::spawn(settings.clone()).await;
    let b = TestApp::spawn(settings).await;
    let attacker = "198.51.100.77";
    for _ in 0..2 {
        assert_eq!(
            a.post_basic_from(attacker, "/oauth2/token", "x:y", CC)
                .await
                .status(),
            401
        );
        assert_eq!(
            b.post_basic_from(attacker, "/oauth2/token", "x:y", CC)
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        a.post_basic_from(attacker, "/oauth2/token", GOOD, CC)
            .await
            .status(),
        429
    );
    assert_eq!(
        b.post_basic_from(attacker, "/oauth2/token", GOOD, CC)
            .await
            .status(),
        429
    );
}
