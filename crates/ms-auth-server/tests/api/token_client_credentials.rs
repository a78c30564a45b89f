//! RFC 6749 §4.4 at the token endpoint: success shape, scopes, token claims.

use std::time::Duration;

use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use ms_auth_server::{
    clock::ManualClock, keys::SigningAlgorithm, oauth::access_token::ScopeClaimFormat,
    oauth::client::AuthMethod,
};
use serde_json::Value;

use crate::helpers::*;

const ALL: &str = "customer.read customer.write country.read";

#[tokio::test]
async fn success_has_the_rfc6749_5_1_shape_and_headers() {
    let app = TestApp::playground().await;
    let res = app
        .token_form(&format!(
            "grant_type=client_credentials&client_id={PLAYGROUND_CLIENT}&client_secret={PLAYGROUND_SECRET}&scope=country.read%20customer.read"
        ))
        .await;
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 14400);
    // Granted scope is echoed, in the registration's order.
    assert_eq!(body["scope"], "customer.read country.read");
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);
}

#[tokio::test]
async fn omitted_or_empty_scope_grants_every_registered_scope() {
    let app = TestApp::playground().await;
    for body in [
        format!(
            "grant_type=client_credentials&client_id={PLAYGROUND_CLIENT}&client_secret={PLAYGROUND_SECRET}"
        ),
        format!(
            "grant_type=client_credentials&scope=&client_id={PLAYGROUND_CLIENT}&client_secret={PLAYGROUND_SECRET}"
        ),
    ] {
        let (status, _, json) = parts(app.token_form(&body).await).await;
        assert_eq!((status, json["scope"].as_str()), (200, Some(ALL)), "{body}");
    }
}

#[tokio::test]
async fn unregistered_or_malformed_scope_is_invalid_scope() {
    let app = TestApp::playground().await;
    let auth = PLAYGROUND_ID_SECRET;
    let d = assert_oauth_error(
        app.token_basic(
            auth,
            "grant_type=client_credentials&scope=country.read%20admin",
        )
        .await,
        400,
        "invalid_scope",
    )
    .await;
    assert!(d.contains("admin"), "{d}");
    assert_oauth_error(
        app.token_basic(auth, "grant_type=client_credentials&scope=a%22b")
            .await,
        400,
        "invalid_scope",
    )
    .await;
}

const CUSTOMERS: &str = "http://localhost:8085/customer-service";
const COUNTRIES: &str = "http://localhost:8085/country-service";

/// Fetches the JWKS over HTTP and verifies `token` with jsonwebtoken, a JWT library that
/// shares no code with the signer.
async fn verify_against_served_jwks(app: &TestApp, token: &str) -> (jsonwebtoken::Header, Value) {
    let (status, headers, jwks) = app.get_json("/oauth2/jwks").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "cache-control").contains("max-age="));
    let jwks: JwkSet = serde_json::from_value(jwks).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in JWKS");
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&["http://localhost:8085/ms-auth-server"]);
    validation.set_audience(&[CUSTOMERS, COUNTRIES]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "sub", "aud"]);
    let data =
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap();
    (data.header, data.claims)
}

/// A token for the playground client with `scope` (form-encoded).
async fn issue(app: &TestApp, scope: &str) -> String {
    app.access_token_for(PLAYGROUND_ID_SECRET, scope).await
}

#[tokio::test]
async fn token_verifies_against_the_served_jwks_with_the_docs_claims() {
    let app = TestApp::playground().await;
    let token = issue(&app, "country.read%20customer.read%20customer.write").await;
    let (header, claims) = verify_against_served_jwks(&app, &token).await;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert!(uuid::Uuid::parse_str(header.kid.as_deref().unwrap()).is_ok());
    assert_eq!(claims["iss"], "http://localhost:8085/ms-auth-server");
    assert_eq!(claims["sub"], PLAYGROUND_CLIENT);
    // F2: the resources of the granted scopes, in grant order (RFC 9068 §3).
    assert_eq!(claims["aud"], serde_json::json!([CUSTOMERS, COUNTRIES]));
    assert_eq!(claims["client_id"], PLAYGROUND_CLIENT);
    assert_eq!(
        claims["scope"],
        serde_json::json!(["customer.read", "customer.write", "country.read"])
    );
    let (iat, nbf, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["nbf"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!((nbf, exp), (iat, iat + 14400));
    assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
    // Each token has its own jti.
    let (_, other) = verify_against_served_jwks(&app, &issue(&app, "country.read").await).await;
    assert_ne!(other["jti"], claims["jti"]);
    assert_eq!(other["scope"], serde_json::json!(["country.read"]));
}

#[tokio::test]
async fn scope_claim_can_be_the_rfc9068_string() {
    let mut settings = playground_settings();
    settings.tokens.scope_claim = ScopeClaimFormat::String;
    let app = TestApp::spawn(settings).await;
    let (_, claims) =
        verify_against_served_jwks(&app, &issue(&app, "country.read%20customer.read").await).await;
    assert_eq!(claims["scope"], "customer.read country.read");
}

#[tokio::test]
async fn es256_keys_sign_verifiable_tokens() {
    let mut settings = playground_settings();
    settings.keys.algorithm = SigningAlgorithm::ES256;
    let app = TestApp::spawn(settings).await;
    let (header, _) = verify_against_served_jwks(&app, &issue(&app, "country.read").await).await;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
}

#[tokio::test]
async fn eddsa_keys_sign_verifiable_tokens_and_survive_a_pem_round_trip() {
    let mut settings = playground_settings();
    settings.keys.algorithm = SigningAlgorithm::EdDSA;
    let app = TestApp::spawn(settings).await;
    let (header, _) = verify_against_served_jwks(&app, &issue(&app, "country.read").await).await;
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    let (_, _, jwks) = app.get_json("/oauth2/jwks").await;
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    // RFC 8037: the key written as PKCS#8 and read back signs with the same kid.
    let key = ms_auth_server::keys::SigningKey::generate(SigningAlgorithm::EdDSA).unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let again =
        ms_auth_server::keys::SigningKey::from_pem(pem.as_bytes(), SigningAlgorithm::EdDSA, None)
            .unwrap();
    let thumbprint_kid = again.kid().to_owned();
    let third =
        ms_auth_server::keys::SigningKey::from_pem(pem.as_bytes(), SigningAlgorithm::EdDSA, None)
            .unwrap();
    assert_eq!(third.kid(), thumbprint_kid);
    assert!(
        ms_auth_server::keys::SigningKey::from_pem(pem.as_bytes(), SigningAlgorithm::RS256, None)
            .is_err()
    );
}

#[tokio::test]
async fn a_key_file_gives_the_same_kid_and_keys_across_instances() {
    let dir = std::env::temp_dir().join(format!("msas-key-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("key.pem");
    let pem = ms_auth_server::keys::SigningKey::generate(SigningAlgorithm::RS256)
        .unwrap()
        .to_pkcs8_pem()
        .unwrap();
    std::fs::write(&path, pem).unwrap();
    let mut settings = playground_settings();
    settings.keys.private_key_file = Some(path);
    let a = TestApp::spawn(settings.clone()).await;
    let b = TestApp::spawn(settings).await;
    // A token issued by one instance verifies with the other's JWKS: a restart loses nothing.
    let token = issue(&a, "country.read").await;
    verify_against_served_jwks(&b, &token).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn configured_audiences_join_the_resources_of_the_scopes() {
    let mut c = client(
        "aud-client",
        "aud-secret",
        &[AuthMethod::ClientSecretBasic],
        "country.read",
    );
    c.metadata.audience = vec!["https://api.example".into(), "https://other.example".into()];
    let app = TestApp::spawn(playground_with([c])).await;
    let (status, _, body) = parts(
        app.token_basic("aud-client:aud-secret", "grant_type=client_credentials")
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(
        claims["aud"],
        serde_json::json!([
            "http://localhost:8085/country-service",
            "https://api.example",
            "https://other.example"
        ])
    );
}

/// F16: issuance is limited per client (a client minting thousands of fresh tokens costs
/// every resource server a verification and an introspection each).
#[tokio::test]
async fn issuance_is_limited_per_client() {
    let mut settings = playground_settings();
    settings.tokens.max_per_client_per_second = 3;
    // The server's second stands still, so all ten requests fall in one window.
    let clock = ManualClock::now();
    let app = TestApp::spawn_at(settings, &clock).await;
    let auth = PLAYGROUND_ID_SECRET;
    let mut statuses = Vec::new();
    let mut refusal = None;
    for _ in 0..10 {
        let res = app.token_basic(auth, "grant_type=client_credentials").await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 && refusal.is_none() {
            refusal = Some(res);
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
    let res = refusal.expect("some were refused");
    assert_eq!(header(res.headers(), "retry-after"), "1");
    assert_oauth_error(res, 429, "slow_down").await;
    // The next second is a new window.
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        app.token_basic(auth, "grant_type=client_credentials")
            .await
            .status(),
        200
    );
}
