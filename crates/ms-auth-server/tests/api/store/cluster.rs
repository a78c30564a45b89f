//! Whole servers on a shared store: restarts, replicas, what is at rest, a store that cannot
//! be reached, keys that cannot be loaded, and config clients removed.

use std::time::Duration;

use ms_auth_server::{
    App,
    clock::Clock,
    oauth::client::{AuthMethod, ClientOrigin},
    store::{CodeUse, SqlStore, StoreSettings, Stores, credential_hash, settings::EncryptionKey},
};
use sqlx::Connection;

use super::{
    Backend, ENCRYPTION_KEY, Replica, access_token, client, codes::code, kid_of, location, open,
    refresh::refresh, t,
};
use crate::helpers::{PLAYGROUND_SECRET, playground_settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_clients_keys_and_grants_sqlite() {
    restart_keeps_clients_and_keys(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_clients_keys_and_grants_postgres() {
    restart_keeps_clients_and_keys(Backend::Postgres).await;
}

async fn restart_keeps_clients_and_keys(backend: Backend) {
    let at = location(backend).await;
    let first = Replica::start(&at.settings).await;
    let token = access_token(&first).await;
    let jwks = first.jwks().await;
    let stores = open(&at.settings).await.unwrap();
    stores
        .refresh
        .put_refresh(&credential_hash("kept"), &refresh("kept-family", i64::MAX))
        .await
        .unwrap();
    stores
        .codes
        .put_code(
            &credential_hash("kept-code"),
            &code("kept-family", i64::MAX),
        )
        .await
        .unwrap();
    drop(stores);
    first.stop().await;
    let second = Replica::start(&at.settings).await;
    assert_eq!(second.jwks().await, jwks, "the same keys after a restart");
    assert_eq!(
        jwks["keys"][0]["kid"].as_str(),
        Some(kid_of(&token).as_str()),
        "a token issued before the restart verifies with the keys published after it"
    );
    assert_eq!(kid_of(&access_token(&second).await), kid_of(&token));
    second.stop().await;
    let stores = open(&at.settings).await.unwrap();
    assert_eq!(
        stores
            .refresh
            .refresh(&credential_hash("kept"), t(1))
            .await
            .unwrap(),
        Some(refresh("kept-family", i64::MAX)),
        "grants survive the restart"
    );
    assert_eq!(
        stores
            .codes
            .consume_code(&credential_hash("kept-code"), t(1))
            .await
            .unwrap(),
        CodeUse::Fresh(code("kept-family", i64::MAX))
    );
    let audit = open(&at.settings)
        .await
        .unwrap()
        .audit
        .recent(10)
        .await
        .unwrap();
    let created: Vec<_> = audit
        .iter()
        .filter(|e| e.event == "signing_key_created")
        .collect();
    assert_eq!(created.len(), 1, "one key, created once: {audit:?}");
    assert!(created[0].detail.contains(&kid_of(&token)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_keys_and_clients_over_postgres() {
    let at = location(Backend::Postgres).await;
    // Replicas sharing a store share hot state too (`cluster.replicated` demands it): its
    // notices are how a replica that has just answered "unknown client" learns of a new one.
    let redis = crate::servers::RedisServer::start();
    let redis_settings = ms_auth_server::store::RedisSettings {
        url: Some(redis.url()),
        ..Default::default()
    };
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    settings.redis = redis_settings.clone();
    let (a, b) = tokio::join!(
        Replica::start_with(settings.clone()),
        Replica::start_with(settings)
    );
    let token = access_token(&a).await;
    let jwks_b = b.jwks().await;
    assert_eq!(a.jwks().await, jwks_b);
    assert_eq!(
        jwks_b["keys"][0]["kid"].as_str(),
        Some(kid_of(&token).as_str())
    );
    // A client created through one replica's store works at the other at once.
    let stores = Stores::open(&at.settings, &redis_settings).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stores.hot.listening().is_none() {
        assert!(std::time::Instant::now() < deadline, "never subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(b.token("late-client:late-secret").await.status(), 401);
    let mut late = client("late-client", "late-secret", "country.read");
    late.metadata.audience.clear();
    late.metadata.default_scopes = Some(late.scopes().clone());
    stores.clients.upsert(&late).await.unwrap();
    // The notice crosses Redis in milliseconds.
    let deadline = std::time::Instant::now() + Duration::from_millis(500);
    for replica in [&b, &a] {
        while replica.token("late-client:late-secret").await.status() != 200 {
            assert!(
                std::time::Instant::now() < deadline,
                "the new client is refused"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_secret_is_readable_at_rest_sqlite() {
    let at = location(Backend::Sqlite).await;
    let replica = Replica::start(&at.settings).await;
    let token = access_token(&replica).await;
    replica.stop().await;
    let dir = at.dir.clone().unwrap();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("service-client-jwt"), "the file is the store");
    for secret in [PLAYGROUND_SECRET, "PRIVATE KEY", "MII"] {
        assert!(
            !text.contains(secret),
            "{secret:?} is readable in the SQLite file"
        );
    }
    assert!(!text.contains(&token));
    // The row holds the sealed form, which opens only with the key it was sealed with.
    let store = SqlStore::open(&at.settings).await.unwrap();
    let sealed = store.raw_key_row(&kid_of(&token)).await.unwrap().unwrap();
    assert!(sealed.starts_with("v1."), "{sealed}");
    store.close().await;
    let mut wrong = at.settings.clone();
    wrong.encryption_key = Some(EncryptionKey(
        "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=".to_owned(),
    ));
    let mut settings = playground_settings();
    settings.store = wrong;
    let err = App::build(settings)
        .await
        .err()
        .expect("a wrong key refuses to start");
    assert!(err.to_string().contains("store.encryption_key"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_secret_is_readable_at_rest_postgres() {
    let at = location(Backend::Postgres).await;
    let replica = Replica::start(&at.settings).await;
    let token = access_token(&replica).await;
    replica.stop().await;
    let mut conn = sqlx::PgConnection::connect(&at.settings.url).await.unwrap();
    // Every column of every table, as text.
    let dump: Vec<(String,)> = sqlx::query_as(
        "SELECT row_to_json(c)::text FROM clients c UNION ALL SELECT row_to_json(k)::text FROM signing_keys k",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let dump: String = dump.into_iter().map(|r| r.0).collect();
    assert!(dump.contains("service-client-jwt"), "{dump}");
    for secret in [PLAYGROUND_SECRET, "PRIVATE KEY", "MII", token.as_str()] {
        assert!(
            !dump.contains(secret),
            "{secret:?} is readable in PostgreSQL"
        );
    }
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_is_one_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = StoreSettings {
        url: format!("postgres://postgres:hunter2@127.0.0.1:{port}/none"),
        encryption_key: Some(EncryptionKey(ENCRYPTION_KEY.to_owned())),
        connect_timeout_ms: 500,
        ..StoreSettings::default()
    };
    let err = open(&settings).await.err().expect("no server there");
    let shown = err.to_string();
    assert!(shown.contains("cannot connect"), "{shown}");
    assert!(
        !shown.contains("hunter2"),
        "the password was shown: {shown}"
    );
    for (url, needle) in [
        ("mysql://x", "not supported"),
        ("sqlite://", "not supported"),
    ] {
        let s = StoreSettings {
            url: url.to_owned(),
            ..settings.clone()
        };
        let err = open(&s).await.err().unwrap().to_string();
        assert!(err.contains(needle), "{url}: {err}");
    }
    let none = StoreSettings {
        encryption_key: None,
        ..settings
    };
    let err = open(&none).await.err().unwrap().to_string();
    assert!(err.contains("store.encryption_key"), "{err}");
}

/// F20: a replica that cannot load the store's keys (a row sealed under another
/// `store.encryption_key` appeared after it started) says so in its readiness instead of
/// serving a stale key set as if all were well.
#[tokio::test]
async fn a_replica_that_cannot_load_the_keys_is_not_ready() {
    let at = location(Backend::Sqlite).await;
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    settings.keys.poll_secs = 1;
    let replica = Replica::start_with(settings.clone()).await;
    let ready = format!("{}/health/ready", replica.management);
    crate::helpers::wait_for_status(&ready, 200).await;

    let mut other = at.settings.clone();
    other.encryption_key = Some(EncryptionKey(
        "b3RoZXItZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMhISE=".to_owned(),
    ));
    let foreign = Stores::open(&other, &settings.redis).await.unwrap();
    ms_auth_server::ops::Ops::new(foreign, settings.keys.lifecycle(), false)
        .rotate_key(&ms_auth_server::ops::Actor::Cli, Clock::system().now())
        .await
        .unwrap();
    crate::helpers::wait_for_status(&ready, 503).await;
    let health: serde_json::Value = reqwest::get(format!("{}/health", replica.management))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["checks"]["keys"], "DOWN", "{health}");
    replica.stop().await;
}

/// F7: the config is authoritative for its own clients. One removed from it is disabled at
/// the next start (audited) and refused at once, also by a replica that had it cached; a
/// client registered another way is never touched, and the config cannot take its id over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_removed_from_the_config_is_disabled_everywhere_at_once() {
    let redis = crate::servers::RedisServer::start();
    let at = location(Backend::Sqlite).await;
    let mut with_gone = crate::helpers::playground_with([crate::helpers::client(
        "gone",
        "gone-secret-0123456789abcdef",
        &[AuthMethod::ClientSecretBasic],
        "country.read",
    )]);
    with_gone.store = at.settings.clone();
    with_gone.redis = ms_auth_server::store::RedisSettings {
        url: Some(redis.url()),
        ..ms_auth_server::store::RedisSettings::default()
    };
    let gone = "gone:gone-secret-0123456789abcdef";
    let a = Replica::start_with(with_gone.clone()).await;
    assert_eq!(a.token(gone).await.status(), 200);

    // A client of another origin, in the same store.
    let stores = open(&at.settings).await.unwrap();
    let mut registered = client("registered", "registered-secret", "country.read");
    registered.origin = ClientOrigin::Registration;
    registered.metadata.default_scopes = Some(registered.scopes().clone());
    stores.clients.upsert(&registered).await.unwrap();

    let mut without = with_gone.clone();
    without.clients.retain(|c| c.client_id != "gone");
    let b = Replica::start_with(without.clone()).await;
    assert_eq!(b.token(gone).await.status(), 401);
    // Replica A had the client cached: the notice dropped it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while a.token(gone).await.status() != 401 {
        assert!(std::time::Instant::now() < deadline, "still accepted at A");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let audit = stores.audit.recent(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.event == "client_disabled" && e.client_id.as_deref() == Some("gone")),
        "{audit:?}"
    );
    let kept = stores.clients.client("registered").await.unwrap().unwrap();
    assert!(kept.enabled(), "another origin's client is not touched");
    assert_eq!(b.token("registered:registered-secret").await.status(), 200);

    let mut takeover = without.clone();
    takeover.clients.push(crate::helpers::client(
        "registered",
        "other-secret",
        &[AuthMethod::ClientSecretBasic],
        "country.read",
    ));
    let err = App::build(takeover).await.err().expect("refused");
    assert!(err.to_string().contains("registered"), "{err}");
    a.stop().await;
    b.stop().await;
}

/// A person's sign-in moves between replicas behind a load balancer: the interaction begun
/// at one continues at the other (the hot state carries it), the session started at one is
/// known at the other, the code issued by one is exchanged at the other and its refresh token
/// rotates at the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_crosses_replicas_over_postgres_and_redis() {
    use crate::helpers::{
        ALICE, Browser, WEB_CLIENT, WEB_REDIRECT, WEB_SECRET, basic, client_redirect, param, pkce,
    };
    let at = location(Backend::Postgres).await;
    let redis = crate::servers::RedisServer::start();
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    settings.redis = ms_auth_server::store::RedisSettings {
        url: Some(redis.url()),
        ..Default::default()
    };
    let (a, b) = tokio::join!(
        Replica::start_with(settings.clone()),
        Replica::start_with(settings)
    );
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let mut url = reqwest::Url::parse(&format!("{}/oauth2/authorize", a.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", WEB_CLIENT)
        .append_pair("redirect_uri", WEB_REDIRECT)
        .append_pair("scope", "openid offline_access")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let hops = browser.open(url.as_str()).await;
    // The sign-in form, posted to the other replica (cookies go to the host, any port).
    let on_b = |form: &crate::helpers::Form, replica: &Replica| {
        let mut moved = form.clone();
        let to = reqwest::Url::parse(&replica.base).unwrap();
        for u in [&mut moved.page, &mut moved.action] {
            u.set_port(to.port()).unwrap();
        }
        moved
    };
    let form = on_b(&hops.last().unwrap().form(), &b);
    let after = browser
        .follow(
            browser
                .submit(&form, &[("username", ALICE.0), ("password", ALICE.1)])
                .await,
        )
        .await;
    let consent_page = after.last().unwrap();
    assert!(
        consent_page.body.contains("decision"),
        "{}",
        consent_page.body
    );
    let form = on_b(&consent_page.form(), &a);
    let done = browser
        .follow(browser.submit(&form, &[("decision", "approve")]).await)
        .await;
    let code = param(&client_redirect(&done), "code").unwrap().to_owned();
    let body = format!(
        "grant_type=authorization_code&code={code}&code_verifier={verifier}&redirect_uri={}",
        url::form_urlencoded::byte_serialize(WEB_REDIRECT.as_bytes()).collect::<String>()
    );
    let post = |replica: &Replica, body: String| {
        reqwest::Client::new()
            .post(format!("{}/oauth2/token", replica.base))
            .header(
                "Authorization",
                basic(&format!("{WEB_CLIENT}:{WEB_SECRET}")),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let res = post(&b, body).await.unwrap();
    assert_eq!(res.status(), 200);
    let tokens: serde_json::Value = res.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let res = post(
        &a,
        format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    // Reuse at the other replica is detected there.
    let res = post(
        &b,
        format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200, "within the grace window: the one retry");
    let res = post(
        &b,
        format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400, "a second reuse");
    a.stop().await;
    b.stop().await;
}
