//! `POST /oauth2/introspect` (RFC 7662) and `POST /oauth2/revoke` (RFC 7009) over real HTTP.

use std::time::Duration;

use ms_auth_server::{clock::ManualClock, oauth::client::AuthMethod, store::RedisSettings};
use serde_json::{Value, json};

use crate::{
    helpers::*,
    servers::RedisServer,
    store::{Backend, location},
};

const OTHER: &str = "other-client:other-secret";

/// A client that is also country-service's resource server: it introspects its own tokens
/// and those meant for country-service.
fn other_client() -> ms_auth_server::settings::ClientSettings {
    let mut c = client(
        "other-client",
        "other-secret",
        &[AuthMethod::ClientSecretBasic],
        "country.read",
    );
    c.metadata.resource_server = Some(COUNTRIES.to_owned());
    c
}

const COUNTRIES: &str = "http://localhost:8085/country-service";

/// The playground client, the tokens' own client.
const OWN: &str = PLAYGROUND_ID_SECRET;

#[tokio::test]
async fn an_active_token_is_introspected_with_its_claims() {
    let app = TestApp::spawn(playground_with([other_client()])).await;
    let token = app.access_token(OWN).await;
    // A resource server introspecting a token issued to another client.
    let answer = app.introspect(OTHER, &token).await;
    let keys: Vec<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "active",
            "aud",
            "client_id",
            "exp",
            "iat",
            "iss",
            "jti",
            "nbf",
            "scope",
            "sub",
            "token_type"
        ]
    );
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "customer.read customer.write country.read");
    assert_eq!(answer["client_id"], PLAYGROUND_CLIENT);
    assert_eq!(answer["sub"], PLAYGROUND_CLIENT);
    assert_eq!(answer["iss"], "http://localhost:8085/ms-auth-server");
    assert_eq!(answer["token_type"], "Bearer");
    let (iat, exp) = (
        answer["iat"].as_u64().unwrap(),
        answer["exp"].as_u64().unwrap(),
    );
    assert_eq!(exp - iat, 14_400);
}

#[tokio::test]
async fn bad_expired_and_foreign_tokens_are_inactive() {
    let mut short = other_client();
    short.metadata.access_token_ttl_secs = 1;
    // The server's time stands still until the test moves it past the short token's `exp`.
    let clock = ManualClock::now();
    let app = TestApp::spawn_at(playground_with([short]), &clock).await;
    let token = app.access_token(OWN).await;
    let expiring = app.access_token(OTHER).await;
    // Same issuer name, another key: a token this server did not sign.
    let impostor = TestApp::playground().await;
    let foreign = impostor.access_token(OWN).await;
    let mut elsewhere = playground_settings();
    elsewhere.issuer = "http://elsewhere.example/ms-auth-server".to_owned();
    let other_issuer = TestApp::spawn(elsewhere).await.access_token(OWN).await;
    let (head, _) = token.rsplit_once('.').unwrap();
    let cases = [
        "not-a-jwt".to_owned(),
        head.to_owned(),
        format!("{head}.AAAA"),
        format!("{token}x"),
        foreign,
        other_issuer,
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".to_owned(),
    ];
    for bad in &cases {
        assert_eq!(
            app.introspect(OWN, bad).await,
            json!({"active": false}),
            "{bad}"
        );
    }
    assert_eq!(app.introspect(OTHER, &expiring).await["active"], true);
    // A second past its `exp` (issued at the clock's second, living one).
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        app.introspect(OTHER, &expiring).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn both_endpoints_authenticate_the_caller_and_read_the_token_from_the_body_only() {
    let app = TestApp::spawn(playground_with([other_client()])).await;
    let token = app.access_token(OWN).await;
    for path in ["/oauth2/introspect", "/oauth2/revoke"] {
        let res = app
            .http
            .post(app.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
            .send()
            .await
            .unwrap();
        assert_oauth_error(res, 401, "invalid_client").await;
        let res = app
            .post_basic(path, "other-client:wrong", &format!("token={token}"))
            .await;
        assert_oauth_error(res, 401, "invalid_client").await;
        let res = app
            .http
            .post(format!("{}?token={token}", app.url(path)))
            .header("Authorization", basic(OTHER))
            .send()
            .await
            .unwrap();
        let why = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(why.contains("token"), "{why}");
        let res = app
            .post_basic(path, OTHER, "token_type_hint=access_token")
            .await;
        assert_oauth_error(res, 400, "invalid_request").await;
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 405);
    }
}

#[tokio::test]
async fn introspection_is_throttled_per_client() {
    let mut settings = playground_with([other_client()]);
    settings.introspection.max_requests_per_second = 3;
    // The server's second stands still, so all ten requests fall in one window.
    let clock = ManualClock::now();
    let app = TestApp::spawn_at(settings, &clock).await;
    let token = app.access_token(OWN).await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let res = app
            .post_basic("/oauth2/introspect", OTHER, &format!("token={token}"))
            .await;
        if res.status() == 429 {
            assert_eq!(header(res.headers(), "retry-after"), "1");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"], "too_many_requests");
            statuses.push(429);
        } else {
            statuses.push(res.status().as_u16());
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
    // Another caller has its own budget.
    assert_eq!(app.introspect(OWN, &token).await["active"], true);
    // The next second is a new window.
    clock.advance(Duration::from_secs(1));
    assert_eq!(app.introspect(OTHER, &token).await["active"], true);
}

#[tokio::test]
async fn a_client_revokes_its_own_access_token_and_nothing_else() {
    let app = TestApp::spawn(playground_with([other_client()])).await;
    let mine = app.access_token(OWN).await;
    let theirs = app.access_token(OTHER).await;
    // Another client's token, an unknown one: 200, and nothing changes.
    assert_eq!(app.revoke(OWN, &format!("token={theirs}")).await, 200);
    assert_eq!(app.introspect(OTHER, &theirs).await["active"], true);
    assert_eq!(app.revoke(OWN, "token=never-issued").await, 200);
    // A misleading hint is not trusted, an unknown one ignored.
    assert_eq!(
        app.revoke(OWN, &format!("token={mine}&token_type_hint=refresh_token"))
            .await,
        200
    );
    assert_eq!(app.introspect(OTHER, &mine).await, json!({"active": false}));
    let again = app.access_token(OWN).await;
    assert_eq!(
        app.revoke(OWN, &format!("token={again}&token_type_hint=no_such_type"))
            .await,
        200
    );
    assert_eq!(
        app.introspect(OTHER, &again).await,
        json!({"active": false})
    );
    assert_eq!(
        app.revoke(OWN, &format!("token={again}")).await,
        200,
        "idempotent"
    );
    // Other tokens of the same client stay good: revocation is per token.
    let fresh = app.access_token(OWN).await;
    assert_eq!(app.introspect(OTHER, &fresh).await["active"], true);
}

/// F9, RFC 7662 §4: a caller learns about its own tokens and, as a resource server, about
/// those meant for it; every other token is `active: false` to it.
#[tokio::test]
async fn only_the_tokens_audience_or_its_client_may_introspect_it() {
    let mut customers = client(
        "customers-rs",
        "customers-rs-secret",
        &[AuthMethod::ClientSecretBasic],
        "country.read",
    );
    customers.metadata.resource_server = Some("http://localhost:8085/customer-service".to_owned());
    let app = TestApp::spawn(playground_with([other_client(), customers])).await;
    let customers = "customers-rs:customers-rs-secret";
    let both = app.access_token(OWN).await;
    let country_only = app.access_token_for(OWN, "country.read").await;
    // The token's own client.
    assert_eq!(app.introspect(OWN, &country_only).await["active"], true);
    // The resource server each token is meant for.
    assert_eq!(app.introspect(OTHER, &country_only).await["active"], true);
    assert_eq!(app.introspect(customers, &both).await["active"], true);
    // A resource server the token is not meant for learns nothing.
    assert_eq!(
        app.introspect(customers, &country_only).await,
        json!({"active": false})
    );
    // A client that is no resource server learns nothing about another client's token.
    let plain = app.access_token(OTHER).await;
    assert_eq!(app.introspect(OWN, &plain).await, json!({"active": false}));
}

#[tokio::test]
async fn metadata_names_both_endpoints() {
    let app = TestApp::playground().await;
    let (_, _, m) = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(
        m["revocation_endpoint"],
        "http://localhost:8085/ms-auth-server/oauth2/revoke"
    );
    assert_eq!(
        m["introspection_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt"
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_at_one_replica_holds_at_the_other_until_the_token_expires() {
    let redis = RedisServer::start();
    let at = location(Backend::Postgres).await;
    let mut settings = playground_with([{
        let mut c = other_client();
        c.metadata.access_token_ttl_secs = 3;
        c
    }]);
    settings.store = at.settings.clone();
    settings.redis = RedisSettings {
        url: Some(redis.url()),
        ..RedisSettings::default()
    };
    settings.cluster.replicated = true;
    let (a, b) = tokio::join!(
        TestApp::spawn(settings.clone()),
        TestApp::spawn(settings.clone())
    );
    let token = a.access_token(OTHER).await;
    assert_eq!(b.introspect(OTHER, &token).await["active"], true);
    assert_eq!(a.revoke(OTHER, &format!("token={token}")).await, 200);
    assert_eq!(
        b.introspect(OTHER, &token).await,
        json!({"active": false}),
        "revoked at A, refused at B"
    );
    // The denylist entry lives exactly as long as the token could: Redis' own expiry, so
    // this part waits in real time.
    let jti = claims_of(&token)["jti"].as_str().unwrap().to_owned();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("ms-auth-server:deny:{jti}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((1..=3).contains(&ttl), "ttl {ttl}");
    tokio::time::sleep(Duration::from_millis(3_300)).await;
    let exists: bool = redis::cmd("EXISTS")
        .arg(format!("ms-auth-server:deny:{jti}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!exists, "the entry left with the token");
    a.stop().await;
    b.stop().await;
}
