//! Key rotation as a non-event: two replicas on PostgreSQL and Redis rotate their signing key
//! several times under a steady load of token requests, while a resource server's verifier
//! that started before the first rotation checks every token. No request may fail, and the
//! verifier must never need a restart or an unknown-`kid` refetch: it learns each new key
//! from the JWKS before the key signs, by honouring the JWKS `Cache-Control: max-age`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use auth_middleware::{Verifier, VerifierSettings};
use ms_auth_server::{
    clock::UnixTime,
    keys::lifecycle as key_lifecycle,
    ops::{Actor, Ops},
    store::{KeyState, RedisSettings, Stores},
};
use serde_json::Value;

use crate::{
    helpers::{PLAYGROUND_CLIENT, PLAYGROUND_SECRET, TestApp, playground_settings},
    servers::RedisServer,
    store::{Backend, location},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_keys_under_load_fails_no_request() {
    let redis = RedisServer::start();
    let at = location(Backend::Postgres).await;
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    settings.redis = RedisSettings {
        url: Some(redis.url()),
        ..RedisSettings::default()
    };
    settings.cluster.replicated = true;
    settings.keys.jwks_max_age_secs = 1;
    settings.keys.poll_secs = 1;
    let (a, b) = tokio::join!(
        TestApp::spawn(settings.clone()),
        TestApp::spawn(settings.clone())
    );
    assert_eq!(a.jwks().await, b.jwks().await);

    // A resource server that never refetches on an unknown kid and would refresh only every
    // hour: only the JWKS max-age can keep it current.
    let verifier = Arc::new(
        Verifier::new(VerifierSettings {
            issuer: settings.issuer.clone(),
            jwks_url: Some(a.url("/oauth2/jwks")),
            refresh_interval_secs: 3_600,
            min_refetch_interval_secs: 3_600,
            token_cache_size: 0,
            audience: vec!["http://localhost:8085/customer-service".to_owned()],
            ..VerifierSettings::default()
        })
        .unwrap(),
    );
    verifier.start();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !verifier.has_keys() {
        assert!(Instant::now() < deadline, "the verifier got no keys");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let (issued, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let kids = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let token_urls = [a.url("/oauth2/token"), b.url("/oauth2/token")];
    let load: Vec<_> = (0..4)
        .map(|worker| {
            let (stop, issued, failed, kids, verifier) = (
                stop.clone(),
                issued.clone(),
                failed.clone(),
                kids.clone(),
                verifier.clone(),
            );
            let token_urls = token_urls.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let res = http
                        .post(&token_urls[n % 2])
                        .basic_auth(PLAYGROUND_CLIENT, Some(PLAYGROUND_SECRET))
                        .form(&[("grant_type", "client_credentials")])
                        .send()
                        .await;
                    let token = match res {
                        Ok(r) if r.status() == 200 => r
                            .json::<Value>()
                            .await
                            .ok()
                            .and_then(|v| v["access_token"].as_str().map(str::to_owned)),
                        _ => None,
                    };
                    let Some(token) = token else {
                        failed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    issued.fetch_add(1, Ordering::Relaxed);
                    if let Ok(h) = jsonwebtoken::decode_header(&token) {
                        kids.lock().unwrap().insert(h.kid.unwrap_or_default());
                    }
                    if let Err(e) = verifier.authenticate(&token).await {
                        eprintln!("refused: {e}");
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    // Three rotations, each started by an operator's tool on the shared store, each finished
    // (the new key active on both replicas) before the next.
    let admin = Stores::open(&settings.store, &settings.redis)
        .await
        .unwrap();
    let ops = Ops::new(admin.clone(), settings.keys.lifecycle(), false);
    for _ in 0..3 {
        let now = ms_auth_server::clock::Clock::system().now();
        let next = ops.rotate_key(&Actor::Cli, now).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let active = admin
                .keys
                .keys()
                .await
                .unwrap()
                .into_iter()
                .any(|k| k.kid == next.kid && k.state == KeyState::Active);
            let signing = |jwks: Value| jwks["keys"][0]["kid"] == next.kid.as_str();
            if active && signing(a.jwks().await) && signing(b.jwks().await) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "rotation to {} did not complete",
                next.kid
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let kids = kids.lock().unwrap().clone();
    let (issued, failed) = (
        issued.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    assert!(issued > 50, "too little load to mean anything: {issued}");
    assert_eq!(failed, 0, "{failed} of {} requests failed", issued + failed);
    assert_eq!(
        kids.len(),
        4,
        "tokens were signed by the first key and three rotations: {kids:?}"
    );
    let (fetches, _) = verifier.keys().fetch_counts();
    assert!(
        fetches >= 3,
        "the verifier refreshed by max-age: {fetches} fetches"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_algorithm_migration_publishes_both_algorithms_meanwhile() {
    use ms_auth_server::keys::SigningAlgorithm;
    let stores = Stores::memory();
    let rs256 = ms_auth_server::keys::SigningKey::generate(SigningAlgorithm::RS256).unwrap();
    stores
        .keys
        .activate_if_none(ms_auth_server::store::StoredKey {
            kid: rs256.kid().to_owned(),
            algorithm: SigningAlgorithm::RS256,
            state: KeyState::Active,
            private_key_pem: rs256.to_pkcs8_pem().unwrap(),
            created_at: UnixTime::EPOCH,
            activates_at: None,
            publish_until: None,
        })
        .await
        .unwrap();
    let lifecycle = key_lifecycle::Lifecycle {
        algorithm: SigningAlgorithm::EdDSA,
        jwks_max_age_secs: 60,
        poll: Duration::from_secs(5),
        rotate_after_secs: None,
        retire_for: Duration::from_secs(100),
    };
    assert_eq!(
        lifecycle.publish_delay(),
        Duration::from_secs(65),
        "max-age plus the poll interval"
    );
    let next = Ops::new(stores.clone(), lifecycle, false)
        .rotate_key(&Actor::Cli, UnixTime::from_secs(1_000))
        .await
        .unwrap();
    let now = next.created_at;
    let set = key_lifecycle::key_set(&stores.keys.keys().await.unwrap(), now).unwrap();
    assert_eq!(
        set.active().algorithm(),
        SigningAlgorithm::RS256,
        "RS256 signs meanwhile"
    );
    let jwks: Value = serde_json::from_str(set.jwks_json()).unwrap();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["RS256", "EdDSA"]);
    assert!(
        stores
            .keys
            .promote_due(now.plus_secs(65), Duration::from_secs(100))
            .await
            .unwrap()
    );
    let set =
        key_lifecycle::key_set(&stores.keys.keys().await.unwrap(), now.plus_secs(65)).unwrap();
    assert_eq!(set.active().algorithm(), SigningAlgorithm::EdDSA);
    assert_eq!(set.kids(), [next.kid.clone(), rs256.kid().to_owned()]);
    let only_active =
        key_lifecycle::key_set(&stores.keys.keys().await.unwrap(), now.plus_secs(165)).unwrap();
    assert_eq!(only_active.kids()[0], next.kid);
    let set = key_lifecycle::key_set(&stores.keys.keys().await.unwrap(), now.plus_secs(65 + 100))
        .unwrap();
    assert_eq!(set.kids().len(), 1, "retired key no longer published");
}
