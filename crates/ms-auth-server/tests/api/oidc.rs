//! OpenID Connect: the ID token verified against the published keys, `at_hash` and `nonce`
//! (OIDC Core §3.1.3.6–7), and userinfo with claims by scope and RFC 6750 errors (§5.3).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn the_id_token_verifies_against_the_jwks_and_binds_the_access_token() {
    let app = TestApp::playground().await;
    let tokens = app.web_tokens("openid profile email").await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let jwks: JwkSet = serde_json::from_value(app.jwks().await).unwrap();
    let kid = jose_header(id_token)["kid"].as_str().unwrap().to_owned();
    let jwk = jwks.find(&kid).expect("signed by a published key");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[WEB_CLIENT]);
    validation.set_issuer(&[ISSUER]);
    let data =
        jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .expect("a valid ID token");
    let c = data.claims;
    // OIDC Core §3.1.3.6: at_hash is the left half of SHA-256 of the access token.
    let access = tokens["access_token"].as_str().unwrap();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access.as_bytes());
    assert_eq!(c["at_hash"], URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]));
    assert_eq!(c["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(c["azp"], WEB_CLIENT);
    assert!(c["exp"].as_u64().unwrap() > c["iat"].as_u64().unwrap());
    // OIDC Core §5.4: with an access token issued, the profile claims come from userinfo.
    assert!(c.get("email").is_none() && c.get("name").is_none());
}

#[tokio::test]
async fn userinfo_releases_the_claims_of_the_granted_scopes() {
    let app = TestApp::playground().await;
    let tokens = app.web_tokens("openid profile email").await;
    let access = tokens["access_token"].as_str().unwrap();
    let sub = claims(tokens["id_token"].as_str().unwrap())["sub"].clone();
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let res = app
            .http
            .request(method.clone(), app.url("/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        let (status, headers, body) = parts(res).await;
        assert_eq!(status, 200, "{method}: {body}");
        assert_eq!(header(&headers, "cache-control"), "no-store");
        assert_eq!(body["sub"], sub);
        assert_eq!(body["name"], "Alice Example");
        assert_eq!(body["given_name"], "Alice");
        assert_eq!(body["preferred_username"], "alice");
        assert_eq!(body["email"], "alice@example.com");
        assert_eq!(body["email_verified"], true);
    }
    // openid alone releases sub only.
    let bare = app.web_tokens("openid").await;
    let res = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(bare["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let (_, _, body) = parts(res).await;
    assert_eq!(body, json!({ "sub": sub }));
}

#[tokio::test]
async fn userinfo_answers_rfc6750_errors() {
    let app = TestApp::playground().await;
    let res = app.http.get(app.url("/userinfo")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let challenge = header(res.headers(), "www-authenticate");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let res = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(header(res.headers(), "www-authenticate").contains("invalid_token"));
    // A machine's token (client credentials) names no user.
    let (_, _, cc) = parts(
        app.token_basic(PLAYGROUND_ID_SECRET, "grant_type=client_credentials")
            .await,
    )
    .await;
    let res = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(cc["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no openid scope: insufficient_scope");
    assert!(header(res.headers(), "www-authenticate").contains("insufficient_scope"));
    // A revoked access token is refused.
    let tokens = app.web_tokens("openid").await;
    let access = tokens["access_token"].as_str().unwrap();
    let revoked = app
        .post_basic(
            "/oauth2/revoke",
            &format!("{WEB_CLIENT}:{WEB_SECRET}"),
            &format!("token={access}"),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    let res = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
