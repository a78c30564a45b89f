//! The contract between the services: a token ms-auth-server issues validates through the
//! middleware, and scopes and RFC 6750 challenges come out right.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_issued_token_validates_and_reaches_the_handler() {
    let (auth, rs) = setup().await;
    let token = auth.token("customer.read country.read").await;
    let (status, _, body) = rs.bearer("/r", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["subject"], CLIENT);
    assert_eq!(body["client_id"], CLIENT);
    assert_eq!(body["scopes"], json!(["customer.read", "country.read"]));
    assert!(body["jti"].is_string());
}

#[tokio::test]
async fn missing_scope_is_403_insufficient_scope() {
    let (auth, rs) = setup().await;
    let token = auth.token("customer.read").await;
    let res = rs
        .http
        .post(format!("{}/w", rs.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"test-resource\", error=\"insufficient_scope\", scope=\"customer.write\", resource_metadata=\"http://localhost:8085/.well-known/oauth-protected-resource/customer-service\""
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (body["error"].as_str(), body["scope"].as_str()),
        (Some("insufficient_scope"), Some("customer.write"))
    );
    // A token for this resource without the route's scope cannot read customers either.
    let (status, challenge, _) = rs.bearer("/r", &auth.token("customer.write").await).await;
    assert_eq!(status, 403);
    assert!(challenge.contains("scope=\"customer.read\""), "{challenge}");
}

#[tokio::test]
async fn no_token_is_401_with_a_bare_challenge() {
    let (auth, rs) = setup().await;
    for authorization in [None, Some("Basic c2VydmljZTpzZWNyZXQ=")] {
        let (status, challenge, body) = rs.get("/r", authorization).await;
        assert_eq!(status, 401);
        assert_eq!(
            challenge,
            "Bearer realm=\"test-resource\", resource_metadata=\"http://localhost:8085/.well-known/oauth-protected-resource/customer-service\""
        );
        assert!(!challenge.contains("error="));
        assert_eq!(body["error"], "unauthorized");
    }
    // A token in the query string does not count (RFC 6750 §2.3 is not supported).
    let token = auth.token("customer.read").await;
    let (status, _, _) = rs.get(&format!("/r?access_token={token}"), None).await;
    assert_eq!(status, 401);
    // A handler asking for the principal on an unprotected route gets a 401, not an anonymous caller.
    let (status, _, _) = rs.bearer("/open", &token).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn scope_as_an_rfc9068_string_is_accepted() {
    let (auth, rs) = setup().await;
    let token = auth.sign(json!({ "scope": "country.read customer.read" }));
    let (status, _, body) = rs.bearer("/r", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scopes"], json!(["country.read", "customer.read"]));
}

/// F2: a token for another resource is refused, whatever its scopes; the audience defaults
/// to the resource's identifier, and configured audiences replace it.
#[tokio::test]
async fn audience_is_always_checked() {
    let auth = AuthServer::start(0).await;
    let rs = Resource::start(settings_for(&auth.jwks_url()))
        .await
        .ready()
        .await;
    let country = auth.token("country.read").await;
    let d = assert_invalid(rs.bearer("/r", &country).await);
    assert!(d.contains("audience"), "{d}");
    let both = auth.token("customer.read country.read").await;
    assert_eq!(rs.bearer("/r", &both).await.0, 200, "a token for both");
    let mut settings = settings_for(&auth.jwks_url());
    settings.audience = vec!["https://api.example".into()];
    let rs = Resource::start(settings).await.ready().await;
    let d = assert_invalid(rs.bearer("/r", &auth.token("customer.read").await).await);
    assert!(d.contains("audience"), "{d}");
    let ok = auth.sign(json!({ "aud": ["other", "https://api.example"] }));
    assert_eq!(rs.bearer("/r", &ok).await.0, 200);
}

#[tokio::test]
async fn steady_state_needs_no_network() {
    let (auth, rs) = setup().await;
    let token = auth.token("customer.read").await;
    let before = rs.verifier.keys().fetch_counts();
    for _ in 0..20 {
        assert_eq!(rs.bearer("/r", &token).await.0, 200);
    }
    assert_eq!(rs.verifier.keys().fetch_counts(), before);
}

#[tokio::test]
async fn a_reused_token_is_served_from_the_cache_and_tampering_still_fails() {
    let (auth, rs) = setup().await;
    let token = auth.token("customer.read").await;
    assert_eq!(rs.verifier.cached_tokens(), 0);
    assert_eq!(rs.bearer("/r", &token).await.0, 200);
    assert_eq!(rs.verifier.cached_tokens(), 1);
    assert_eq!(rs.bearer("/r", &token).await.0, 200);
    assert_eq!(rs.verifier.cached_tokens(), 1);
    // A variant of a cached token is a different token: fully checked, and refused.
    let mut tampered = token.clone();
    tampered.push('A');
    assert_invalid(rs.bearer("/r", &tampered).await);
    // The cache never widens what a token may do.
    let res = rs
        .http
        .post(format!("{}/w", rs.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
