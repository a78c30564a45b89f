//! `POST /backchannel-logout` (Back-Channel Logout 1.0 §2.5–2.8): a valid logout token ends the
//! app's sessions of its `sid` (or of its `sub`), with 200 and `Cache-Control: no-store`; an
//! invalid one is a 400 `invalid_request` and ends nothing.

use ms_auth_server::keys::{SigningAlgorithm, SigningKey, Typ};
use serde_json::{Value, json};

use crate::helpers::*;

async fn deliver(app: &SampleApp, body: &[(&str, &str)]) -> (u16, String, Value) {
    let res = reqwest::Client::new()
        .post(app.url("/backchannel-logout"))
        .form(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let cache = res.headers()["cache-control"].to_str().unwrap().to_owned();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, cache, body)
}

fn remove(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

#[tokio::test]
async fn a_valid_logout_token_ends_that_sessions_only() {
    let t = WithTestProvider::start().await;
    let (mine, other) = (Browser::new(), Browser::new());
    t.signed_in(&mine, "sid-mine").await;
    t.signed_in(&other, "sid-other").await;
    assert_eq!(t.app.state.store.count_for("alice-id"), 2);

    let token = sign(&t.op.key, Typ::LogoutToken, &t.op.logout_claims("sid-mine"));
    let (status, cache, _) = deliver(&t.app, &[("logout_token", &token)]).await;
    assert_eq!((status, cache.as_str()), (200, "no-store"));
    assert_eq!(t.app.state.store.count_for("alice-id"), 1);
    assert_eq!(t.app.state.backchannel_deliveries(), (1, 0));
    // The browser of that session is signed out; the other is not.
    let page = browser_home(&t.app, &mine).await;
    assert!(page.contains("id=\"sign-in\""), "{page}");
    let page = browser_home(&t.app, &other).await;
    assert!(page.contains("Alice Example"), "{page}");

    // Without sid: every session of that sub.
    let claims = remove(t.op.logout_claims("x"), "sid");
    let token = sign(&t.op.key, Typ::LogoutToken, &claims);
    let (status, _, _) = deliver(&t.app, &[("logout_token", &token)]).await;
    assert_eq!(status, 200);
    assert_eq!(t.app.state.store.count_for("alice-id"), 0);
}

async fn browser_home(app: &SampleApp, browser: &Browser) -> String {
    browser
        .open(&app.url("/"))
        .await
        .last()
        .unwrap()
        .body
        .clone()
}

#[tokio::test]
async fn invalid_logout_tokens_are_refused_and_end_nothing() {
    let t = WithTestProvider::start().await;
    let browser = Browser::new();
    t.signed_in(&browser, "sid-1").await;
    let stranger = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let good = t.op.logout_claims("sid-1");
    let mut with_nonce = good.clone();
    with_nonce["nonce"] = json!("n-1");
    let mut other_aud = good.clone();
    other_aud["aud"] = json!("someone-else");
    let mut other_event = good.clone();
    other_event["events"] = json!({"http://schemas.openid.net/event/backchannel-logout": "yes"});
    let cases = [
        ("a nonce", sign(&t.op.key, Typ::LogoutToken, &with_nonce)),
        (
            "no events",
            sign(&t.op.key, Typ::LogoutToken, &remove(good.clone(), "events")),
        ),
        (
            "an event that is no object",
            sign(&t.op.key, Typ::LogoutToken, &other_event),
        ),
        (
            "another audience",
            sign(&t.op.key, Typ::LogoutToken, &other_aud),
        ),
        (
            "no jti",
            sign(&t.op.key, Typ::LogoutToken, &remove(good.clone(), "jti")),
        ),
        (
            "no iat",
            sign(&t.op.key, Typ::LogoutToken, &remove(good.clone(), "iat")),
        ),
        ("an ID token's typ", sign(&t.op.key, Typ::IdToken, &good)),
        (
            "a foreign signature",
            sign(&stranger, Typ::LogoutToken, &good),
        ),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (what, token) in &cases {
        let (status, cache, body) = deliver(&t.app, &[("logout_token", token)]).await;
        assert_eq!((status, cache.as_str()), (400, "no-store"), "{what}");
        assert_eq!(body["error"], "invalid_request", "{what}: {body}");
        assert!(body["error_description"].is_string(), "{what}");
        assert_eq!(t.app.state.store.count_for("alice-id"), 1, "{what}");
    }
    let (status, _, body) = deliver(&t.app, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let token = sign(&t.op.key, Typ::LogoutToken, &good);
    let (status, _, _) = deliver(
        &t.app,
        &[("logout_token", &token), ("logout_token", &token)],
    )
    .await;
    assert_eq!(status, 400, "two logout tokens");
    assert_eq!(
        t.app.state.backchannel_deliveries(),
        (0, cases.len() as u64 + 2)
    );
    assert_eq!(t.app.state.store.count_for("alice-id"), 1);
}

/// A token signed with a key published after the app read the JWKS: its unknown `kid` makes
/// the app fetch the keys once more.
#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_once() {
    let t = WithTestProvider::start().await;
    let browser = Browser::new();
    t.signed_in(&browser, "sid-1").await;
    let fetches = t.op.jwks_fetches();
    let rotated = SigningKey::generate(SigningAlgorithm::RS256).unwrap();
    t.op.publish(&rotated);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let token = sign(&rotated, Typ::LogoutToken, &t.op.logout_claims("sid-1"));
    let (status, _, body) = deliver(&t.app, &[("logout_token", &token)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(t.op.jwks_fetches(), fetches + 1);
    assert_eq!(t.app.state.store.count_for("alice-id"), 0);
}
