//! The store of record going away and coming back: what needs it answers 503 with an OAuth
//! body and `Retry-After` meanwhile, never a hang or a 500, readiness says not ready, then
//! service resumes by itself with nothing lost.

use std::time::{Duration, Instant};

use ms_auth_server::store::{StoreSettings, settings::EncryptionKey};

use crate::{helpers::*, servers::PgServer, store::ENCRYPTION_KEY};

const CC: &str = "grant_type=client_credentials";

/// The playground on `store`.
async fn on_store(store: &StoreSettings) -> TestApp {
    let mut settings = playground_settings();
    settings.store = store.clone();
    TestApp::spawn(settings).await
}

async fn status_of(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_run_then_restarted() {
    let pg = PgServer::start();
    let settings = StoreSettings {
        url: pg.url(),
        encryption_key: Some(EncryptionKey(ENCRYPTION_KEY.to_owned())),
        connect_timeout_ms: 1_000,
        ..StoreSettings::default()
    };
    let replica = on_store(&settings).await;
    let creds = PLAYGROUND_ID_SECRET;
    assert_eq!(replica.token_basic(creds, CC).await.status(), 200);
    let jwks = replica.jwks().await;
    let ready = format!("{}/health/ready", replica.management);
    assert_eq!(status_of(&ready).await, 200);

    pg.kill();
    // A client this replica has cached goes on getting tokens; one it must look up gets 503.
    assert_eq!(replica.token_basic(creds, CC).await.status(), 200);
    for _ in 0..3 {
        let started = Instant::now();
        let res = replica.token_basic("not-cached:secret", CC).await;
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "waited {:?}",
            started.elapsed()
        );
        assert_eq!(res.status(), 503);
        assert!(res.headers().contains_key("retry-after"));
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    }
    wait_for_status(&ready, 503).await;
    let health: serde_json::Value = reqwest::get(format!("{}/health", replica.management))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["checks"]["store"], "DOWN", "{health}");
    // What needs no store goes on: the published keys, and the metadata (F11: built once from
    // the configuration, it reads no store, so a flood of metadata requests costs no
    // connection).
    assert_eq!(replica.jwks().await, jwks);
    let metadata = reqwest::get(replica.url("/.well-known/oauth-authorization-server"))
        .await
        .unwrap();
    assert_eq!(metadata.status(), 200);

    pg.resume();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = replica.token_basic("not-cached:secret", CC).await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 503);
        assert!(Instant::now() < deadline, "service did not resume");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for_status(&ready, 200).await;
    replica.stop().await;
    // Nothing acknowledged was lost: a new replica on the same database has the same key.
    let again = on_store(&settings).await;
    assert_eq!(again.jwks().await, jwks);
    again.stop().await;
}
