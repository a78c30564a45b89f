//! The callback refuses what OpenID Connect Core §3.1.3.7 refuses: ID tokens with a foreign
//! signature, another issuer or audience, a wrong nonce, expired, or of another kind (`typ`);
//! and responses with a wrong `state` or `iss` (RFC 9207), or with no sign-in started.

use ms_auth_server::keys::{SigningAlgorithm, SigningKey, Typ};
use serde_json::{Value, json};

use crate::helpers::*;

/// `claims` with `change`'s fields replaced (`null` removes one).
fn with(mut claims: Value, change: Value) -> Value {
    for (k, v) in change.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

#[tokio::test]
async fn a_good_id_token_signs_alice_in() {
    let t = WithTestProvider::start().await;
    let browser = Browser::new();
    t.signed_in(&browser, "sid-1").await;
    let hops = browser.open(&t.app.url("/")).await;
    let page = hops.last().unwrap();
    assert!(
        page.body
            .contains("Hello, <span id=\"name\">Alice Example</span>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("sid-1"));
    // Signing in again in the same browser replaces the session (and its id).
    let first = browser.cookie(&t.app.url("/"), "sample_session").unwrap();
    t.signed_in(&browser, "sid-2").await;
    assert_eq!(t.app.state.store.count_for("alice-id"), 1);
    assert_ne!(
        browser.cookie(&t.app.url("/"), "sample_session").unwrap(),
        first
    );
}

/// Makes the ID token for the nonce the app sent.
type MakeToken<'a> = Box<dyn Fn(&str) -> String + 'a>;

#[tokio::test]
async fn bad_id_tokens_are_refused() {
    let t = WithTestProvider::start().await;
    let stranger = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let cases: Vec<(&str, MakeToken)> = vec![
        (
            "signed with a key the provider does not publish",
            Box::new(|n| sign(&stranger, Typ::IdToken, &t.op.id_claims(n, "s"))),
        ),
        (
            "another audience",
            Box::new(|n| {
                sign(
                    &t.op.key,
                    Typ::IdToken,
                    &with(t.op.id_claims(n, "s"), json!({"aud": "someone-else"})),
                )
            }),
        ),
        (
            "another issuer",
            Box::new(|n| {
                sign(
                    &t.op.key,
                    Typ::IdToken,
                    &with(
                        t.op.id_claims(n, "s"),
                        json!({"iss": "http://evil.example"}),
                    ),
                )
            }),
        ),
        (
            "another nonce",
            Box::new(|_| {
                sign(
                    &t.op.key,
                    Typ::IdToken,
                    &t.op.id_claims("not-the-one-sent", "s"),
                )
            }),
        ),
        (
            "expired",
            Box::new(|n| {
                sign(
                    &t.op.key,
                    Typ::IdToken,
                    &with(t.op.id_claims(n, "s"), json!({"exp": now() - 3600})),
                )
            }),
        ),
        (
            "a logout token",
            Box::new(|n| sign(&t.op.key, Typ::LogoutToken, &t.op.id_claims(n, "s"))),
        ),
        (
            "alg none",
            Box::new(|n| {
                let signed = sign(&t.op.key, Typ::IdToken, &t.op.id_claims(n, "s"));
                let body = signed.split('.').nth(1).unwrap().to_owned();
                format!("eyJhbGciOiJub25lIn0.{body}.")
            }),
        ),
    ];
    for (what, id_token) in cases {
        let browser = Browser::new();
        let res = t.sign_in_with(&browser, id_token).await;
        assert_eq!(res.status(), 400, "{what}");
        let body = res.text().await.unwrap();
        assert!(body.contains("The ID token was refused"), "{what}: {body}");
        assert!(
            browser.cookie(&t.app.url("/"), "sample_session").is_none(),
            "{what}"
        );
    }
    assert_eq!(t.app.state.store.count_for("alice-id"), 0);
}

#[tokio::test]
async fn the_callback_checks_state_iss_and_its_flow() {
    let t = WithTestProvider::start().await;
    let callback = t.app.url("/login/oauth2/code/playground-web");
    let iss = url::form_urlencoded::byte_serialize(t.op.issuer.as_bytes()).collect::<String>();
    // No sign-in started in this browser.
    let browser = Browser::new();
    let res = browser
        .get(&format!("{callback}?code=c&state=s&iss={iss}"))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("No sign-in was started"));
    for (query, why) in [
        (
            format!("code=c&state=other&iss={iss}"),
            "state is not the one",
        ),
        (
            "code=c&state={state}&iss=http%3A%2F%2Fevil.example".to_owned(),
            "another issuer",
        ),
        ("code=c&state={state}".to_owned(), "lacks the issuer"),
        (
            format!("error=access_denied&state={{state}}&iss={iss}"),
            "access_denied",
        ),
    ] {
        let browser = Browser::new();
        let res = t.app.press(&browser, "/login").await;
        let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
        let state = location
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let res = browser
            .get(&format!("{callback}?{}", query.replace("{state}", &state)))
            .await;
        assert_eq!(res.status(), 400, "{query}");
        assert!(res.text().await.unwrap().contains(why), "{query}");
        // The flow is spent: the right answer afterwards finds none.
        let res = browser
            .get(&format!("{callback}?code=c&state={state}&iss={iss}"))
            .await;
        assert!(
            res.text().await.unwrap().contains("No sign-in was started"),
            "{query}"
        );
    }
}
