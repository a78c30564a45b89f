//! Key fetching: unknown-kid refetch (rate-limited), the auth server down at start, discovery.

use std::{sync::Arc, time::Duration};

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_rotated_key_is_picked_up_through_the_unknown_kid_refetch() {
    let first = AuthServer::start(0).await;
    let port = first.port;
    let mut settings = settings_for(&first.jwks_url());
    settings.refresh_interval_secs = 3600; // only the unknown-kid path can bring the new key
    let rs = Resource::start(settings).await.ready().await;
    assert_eq!(
        rs.bearer("/r", &first.token("customer.read").await).await.0,
        200
    );
    let old_kid = first.key.kid().to_owned();
    first.stop().await;
    // The auth server comes back on the same address with a new key.
    let second = AuthServer::start(port).await;
    assert_ne!(second.key.kid(), old_kid);
    tokio::time::sleep(Duration::from_millis(1100)).await; // past min_refetch_interval
    let (fetches, _) = rs.verifier.keys().fetch_counts();
    let (status, _, body) = rs.bearer("/r", &second.token("customer.read").await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rs.verifier.keys().fetch_counts().0, fetches + 1);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_causes_at_most_one_fetch_per_interval() {
    let auth = AuthServer::start(0).await;
    let mut settings = settings_for(&auth.jwks_url());
    settings.min_refetch_interval_secs = 60;
    let rs = Resource::start(settings).await.ready().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (before, _) = rs.verifier.keys().fetch_counts();
    for i in 0..40 {
        let token = raw_jwt(
            &json!({ "alg": "RS256", "kid": format!("junk-{i}"), "typ": "at+jwt" }),
            &good_claims(json!({})),
            |input| auth.key.sign_raw(input).unwrap(),
        );
        let d = assert_invalid(rs.bearer("/r", &token).await);
        assert!(d.contains("kid"), "{d}");
    }
    let (after, _) = rs.verifier.keys().fetch_counts();
    assert!(after - before <= 1, "{before} -> {after}");
    // Good tokens still pass meanwhile.
    assert_eq!(
        rs.bearer("/r", &auth.token("customer.read").await).await.0,
        200
    );
}

#[tokio::test]
async fn the_auth_server_down_at_start_gives_503_then_recovers_by_itself() {
    let port = free_port();
    let jwks = format!("http://127.0.0.1:{port}/ms-auth-server/oauth2/jwks");
    let rs = Resource::start(settings_for(&jwks)).await;
    let res = rs
        .http
        .get(format!("{}/r", rs.base))
        .bearer_auth("a.b.c")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // No token is still a plain 401: nothing to judge.
    assert_eq!(rs.get("/r", None).await.0, 401);

    let auth = AuthServer::start(port).await;
    let token = auth.token("customer.read").await;
    let mut status = 0;
    for _ in 0..50 {
        status = rs.bearer("/r", &token).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "the service never recovered");
}

#[tokio::test]
async fn the_jwks_url_is_discovered_from_the_issuer_metadata() {
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}/ms-auth-server");
    let auth = AuthServer::start_with(port, |s| s.issuer = issuer.clone()).await;
    let mut settings = settings_for("unused");
    settings.jwks_url = None;
    settings.issuer = issuer.clone();
    let rs = Resource::start(settings).await.ready().await;
    assert_eq!(
        rs.bearer("/r", &auth.token("customer.read").await).await.0,
        200
    );

    // Metadata naming another issuer is refused (RFC 8414 §3.3): no keys, so 503.
    let mut wrong = settings_for("unused");
    wrong.jwks_url = None;
    wrong.discovery_url = Some(format!("{issuer}/.well-known/oauth-authorization-server"));
    wrong.issuer = format!("{issuer}/other");
    let rs = Resource::start(wrong).await;
    let res = rs
        .http
        .get(format!("{}/r", rs.base))
        .bearer_auth("a.b.c")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
}

#[tokio::test]
async fn the_background_refresh_brings_a_new_key_set_without_any_request() {
    let first = AuthServer::start(0).await;
    let port = first.port;
    let mut settings = settings_for(&first.jwks_url());
    settings.refresh_interval_secs = 1;
    let rs = Resource::start(settings).await.ready().await;
    let old_kid = first.key.kid().to_owned();
    assert!(rs.verifier.keys().current().get(&old_kid).is_some());
    first.stop().await;
    let second = AuthServer::start(port).await;
    let mut picked_up = false;
    for _ in 0..40 {
        if rs.verifier.keys().current().get(second.key.kid()).is_some() {
            picked_up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        picked_up,
        "the new key never arrived by the background refresh"
    );
    assert!(
        rs.verifier.keys().current().get(&old_kid).is_none(),
        "the old key set was replaced"
    );
}

/// Two tokens, both verified and cached.
async fn two_cached_tokens(auth: &AuthServer, rs: &Resource) -> (String, String) {
    let (a, b) = (
        auth.token("customer.read").await,
        auth.token("customer.read").await,
    );
    assert_eq!(rs.bearer("/r", &a).await.0, 200);
    assert_eq!(rs.bearer("/r", &b).await.0, 200);
    assert_eq!(rs.verifier.cached_tokens(), 2);
    (a, b)
}

#[tokio::test]
async fn a_refetch_of_an_unchanged_key_set_keeps_the_verified_token_cache() {
    let (auth, rs) = setup().await;
    let (a, _) = two_cached_tokens(&auth, &rs).await;
    let before = rs.verifier.keys().current();
    let (fetches, _) = rs.verifier.keys().fetch_counts();
    rs.verifier.keys().refresh().await.unwrap();
    assert_eq!(rs.verifier.keys().fetch_counts().0, fetches + 1);
    assert!(
        Arc::ptr_eq(&before, &rs.verifier.keys().current()),
        "same kids and keys: the snapshot is kept"
    );
    // A cache hit leaves both entries; a cache started over would hold `a` alone.
    assert_eq!(rs.bearer("/r", &a).await.0, 200);
    assert_eq!(rs.verifier.cached_tokens(), 2);
}

#[tokio::test]
async fn a_burst_of_random_kids_costs_at_most_one_fetch_and_no_cache_entry() {
    let (auth, rs) = setup().await;
    let (a, _) = two_cached_tokens(&auth, &rs).await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // past min_refetch_interval
    let (before, _) = rs.verifier.keys().fetch_counts();
    let junk: Vec<String> = (0..30)
        .map(|_| {
            raw_jwt(
                &json!({ "alg": "RS256", "kid": uuid::Uuid::new_v4().to_string(), "typ": "at+jwt" }),
                &good_claims(json!({})),
                |input| auth.key.sign_raw(input).unwrap(),
            )
        })
        .collect();
    let mut burst = tokio::task::JoinSet::new();
    for token in junk.iter().chain(junk.iter()).cloned() {
        let (http, url) = (rs.http.clone(), format!("{}/r", rs.base));
        burst.spawn(async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(status) = burst.join_next().await {
        assert_eq!(status.unwrap(), 401);
    }
    let (after, _) = rs.verifier.keys().fetch_counts();
    assert!(after - before <= 1, "{before} -> {after}");
    assert_eq!(rs.bearer("/r", &a).await.0, 200);
    assert_eq!(
        rs.verifier.cached_tokens(),
        2,
        "the cache survived the burst"
    );
}

/// A loopback server answering every request with a 307 to `location` (`None`: to itself).
fn redirect_server(location: Option<String>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let target = location.unwrap_or_else(|| format!("{base}/loop"));
    let server = actix_web::HttpServer::new(move || {
        let target = target.clone();
        actix_web::App::new().default_service(actix_web::web::to(move || {
            let target = target.clone();
            async move {
                actix_web::HttpResponse::TemporaryRedirect()
                    .insert_header(("Location", target))
                    .finish()
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap();
    tokio::spawn(server.run());
    format!("{base}/jwks")
}

#[tokio::test]
async fn key_fetches_follow_plain_redirects_on_loopback_but_not_endless_ones() {
    // https → http refusals are unit-tested on the policy (transport.rs): no TLS server here.
    let auth = AuthServer::start(0).await;
    let moved = redirect_server(Some(auth.jwks_url()));
    let rs = Resource::start(settings_for(&moved)).await.ready().await;
    assert_eq!(
        rs.bearer("/r", &auth.token("customer.read").await).await.0,
        200
    );
    let endless = redirect_server(None);
    let rs = Resource::start(settings_for(&endless)).await;
    assert!(rs.verifier.keys().refresh().await.is_err());
    assert!(rs.verifier.keys().current().is_empty());
}
