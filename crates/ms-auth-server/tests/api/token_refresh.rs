//! `grant_type=refresh_token` (RFC 6749 §6, RFC 9700 §4.14.2): rotation on every use, one
//! retry within the grace window answered with the same response, reuse revoking the family
//! and its access tokens, scope narrowed never widened.

use std::time::Duration;

use ms_auth_server::clock::{ManualClock, UnixTime};

use crate::helpers::*;

#[tokio::test]
async fn rotation_grace_retry_and_reuse_detection() {
    let clock = ManualClock::at(UnixTime::from_secs(1_900_000_000));
    let app = TestApp::spawn_at(playground_settings(), &clock).await;
    let first = app.web_tokens("openid offline_access country.read").await;
    let r0 = first["refresh_token"].as_str().unwrap();

    let (status, second) = app.refresh_web(r0, &[]).await;
    assert_eq!(status, 200, "{second}");
    let r1 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r0, r1, "rotated");
    let id = claims(second["id_token"].as_str().unwrap());
    assert_eq!(
        id["auth_time"],
        claims(first["id_token"].as_str().unwrap())["auth_time"]
    );
    assert!(id.get("nonce").is_none(), "OIDC Core §12.2");

    // The client lost that response and retries within the grace window: the same answer.
    clock.advance(Duration::from_secs(2));
    let (status, retried) = app.refresh_web(r0, &[]).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried, second, "the very same response");

    // A second retry, or one after the window, is reuse: the family dies, its access
    // tokens with it.
    clock.advance(Duration::from_secs(30));
    let (status, body) = app.refresh_web(r0, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = app.refresh_web(r1, &[]).await;
    assert_eq!(
        status, 400,
        "the current token of the family is revoked too"
    );
    assert!(
        !app.active_for_web(second["access_token"].as_str().unwrap())
            .await
    );
    assert!(
        !app.active_for_web(first["access_token"].as_str().unwrap())
            .await
    );
}

#[tokio::test]
async fn scope_may_be_narrowed_never_widened() {
    let app = TestApp::playground().await;
    let first = app.web_tokens("openid country.read offline_access").await;
    let r0 = first["refresh_token"].as_str().unwrap();
    let (status, wider) = app
        .refresh_web(r0, &[("scope", "openid customer.read")])
        .await;
    assert_eq!(
        (status, wider["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // The refused request did not spend the token.
    let (status, narrow) = app.refresh_web(r0, &[("scope", "country.read")]).await;
    assert_eq!(status, 200, "{narrow}");
    assert_eq!(narrow["scope"], "country.read");
    assert!(
        narrow.get("id_token").is_some(),
        "the family's grant is still openid"
    );
    // The new refresh token keeps the family's whole scope (RFC 6749 §6).
    let (status, full) = app
        .refresh_web(narrow["refresh_token"].as_str().unwrap(), &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        full["scope"], "openid offline_access country.read",
        "in the client's order"
    );
}

#[tokio::test]
async fn another_clients_refresh_token_is_refused_and_left_intact() {
    let app = TestApp::playground().await;
    let first = app.web_tokens("openid offline_access").await;
    let r0 = first["refresh_token"].as_str().unwrap();
    let (status, _, e) = parts(
        app.token_form(&format!(
            "grant_type=refresh_token&client_id={SPA_CLIENT}&refresh_token={r0}"
        ))
        .await,
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _) = app.refresh_web(r0, &[]).await;
    assert_eq!(status, 200, "still current for its own client");
}

#[tokio::test]
async fn refresh_tokens_are_revocable_and_introspection_does_not_know_them() {
    let app = TestApp::playground().await;
    let first = app.web_tokens("openid offline_access").await;
    let r0 = first["refresh_token"].as_str().unwrap();
    let res = app
        .post_basic(
            "/oauth2/revoke",
            &format!("{WEB_CLIENT}:{WEB_SECRET}"),
            &format!("token={r0}&token_type_hint=refresh_token"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, _) = app.refresh_web(r0, &[]).await;
    assert_eq!(status, 400);
    assert!(
        !app.active_for_web(first["access_token"].as_str().unwrap())
            .await
    );
}
