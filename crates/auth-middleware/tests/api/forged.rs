//! Tokens that must never pass: expired, foreign, forged, malformed (RFC 8725, RFC 9068 §4).

use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ms_auth_server::keys::{SigningAlgorithm, SigningKey};
use serde_json::json;

use crate::helpers::*;

fn header_of(auth: &AuthServer, alg: &str) -> serde_json::Value {
    json!({ "alg": alg, "kid": auth.key.kid(), "typ": "at+jwt" })
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused_outside_the_leeway() {
    let (auth, rs) = setup().await;
    let now = now();
    let d = assert_invalid(
        rs.bearer("/r", &auth.sign(json!({ "exp": now - 100 })))
            .await,
    );
    assert!(d.contains("expired"), "{d}");
    // Within the 30 s leeway.
    assert_eq!(
        rs.bearer("/r", &auth.sign(json!({ "exp": now - 10 })))
            .await
            .0,
        200
    );
    let d = assert_invalid(
        rs.bearer("/r", &auth.sign(json!({ "nbf": now + 300 })))
            .await,
    );
    assert!(d.contains("not valid yet"), "{d}");
    let d = assert_invalid(rs.bearer("/r", &auth.sign(json!({ "exp": null }))).await);
    assert!(d.contains("exp"), "{d}");
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let (auth, rs) = setup().await;
    let d = assert_invalid(
        rs.bearer("/r", &auth.sign(json!({ "iss": "https://evil.example" })))
            .await,
    );
    assert!(d.contains("issuer"), "{d}");
    assert_invalid(rs.bearer("/r", &auth.sign(json!({ "iss": null }))).await);
    // Another real ms-auth-server with the same issuer name but its own keys.
    let other = AuthServer::start(0).await;
    assert_invalid(rs.bearer("/r", &other.token("customer.read").await).await);
}

#[tokio::test]
async fn a_foreign_key_using_a_known_kid_is_refused() {
    let (auth, rs) = setup().await;
    let foreign = SigningKey::generate(SigningAlgorithm::RS256).unwrap();
    let token = raw_jwt(
        &header_of(&auth, "RS256"),
        &good_claims(json!({})),
        |input| foreign.sign_raw(input).unwrap(),
    );
    let d = assert_invalid(rs.bearer("/r", &token).await);
    assert_eq!(d, "invalid token: bad signature");
}

#[tokio::test]
async fn alg_none_and_hmac_with_the_public_key_are_refused() {
    let (auth, rs) = setup().await;
    let claims = good_claims(json!({}));
    let none = raw_jwt(&header_of(&auth, "none"), &claims, |_| Vec::new());
    assert_invalid(rs.bearer("/r", &none).await);
    let none_trailing = format!("{}.", none.trim_end_matches('.'));
    assert_invalid(rs.bearer("/r", &none_trailing).await);
    // The classic confusion attack: HS256 keyed with the RSA public key the JWKS publishes.
    let jwks = reqwest::get(auth.jwks_url())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let n = serde_json::from_str::<serde_json::Value>(&jwks).unwrap()["keys"][0]["n"]
        .as_str()
        .unwrap()
        .to_owned();
    for secret in [jwks.into_bytes(), URL_SAFE_NO_PAD.decode(n).unwrap()] {
        let hs = raw_jwt(&header_of(&auth, "HS256"), &claims, |input| {
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &secret), input)
                .as_ref()
                .to_vec()
        });
        let d = assert_invalid(rs.bearer("/r", &hs).await);
        assert!(d.contains("HS256"), "{d}");
    }
}

#[tokio::test]
async fn header_and_key_algorithm_must_agree() {
    let (auth, rs) = setup().await;
    // PS256 is allowed in general, but the key is published for RS256.
    let token = raw_jwt(
        &header_of(&auth, "PS256"),
        &good_claims(json!({})),
        |input| auth.key.sign_raw(input).unwrap(),
    );
    let d = assert_invalid(rs.bearer("/r", &token).await);
    assert!(d.contains("does not match"), "{d}");
}

#[tokio::test]
async fn tampered_tokens_are_refused() {
    let (auth, rs) = setup().await;
    let token = auth.token("country.read").await;
    let parts: Vec<&str> = token.split('.').collect();
    // Payload swapped for one with more scopes, signature kept.
    let richer = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&good_claims(json!({ "scope": ["customer.read"] }))).unwrap());
    let swapped = format!("{}.{}.{}", parts[0], richer, parts[2]);
    assert_eq!(
        assert_invalid(rs.bearer("/r", &swapped).await),
        "invalid token: bad signature"
    );
    // One signature character changed.
    let mut sig = parts[2].to_owned();
    let changed = if &sig[10..11] == "A" { "B" } else { "A" };
    sig.replace_range(10..11, changed);
    assert_invalid(
        rs.bearer("/r", &format!("{}.{}.{}", parts[0], parts[1], sig))
            .await,
    );
    // Truncated.
    assert_invalid(rs.bearer("/r", &token[..token.len() / 2]).await);
    assert_invalid(rs.bearer("/r", &format!("{}.{}", parts[0], parts[1])).await);
}

#[tokio::test]
async fn garbage_and_malformed_headers_are_401_never_500() {
    let (auth, rs) = setup().await;
    for value in [
        "Bearer",
        "Bearer ",
        "Bearer !!!",
        "Bearer a b c",
        "Bearer a.b.c",
        "Bearer eyJ.eyJ.sig",
        "Bearer ====",
    ] {
        let (status, _, _) = rs.get("/r", Some(value)).await;
        assert_eq!(status, 401, "{value}");
    }
    let res = rs
        .http
        .get(format!("{}/r", rs.base))
        .header(
            "Authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let token = auth.token("customer.read").await;
    let res = rs
        .http
        .get(format!("{}/r", rs.base))
        .header("Authorization", format!("Bearer {token}"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn oversize_tokens_and_non_access_tokens_are_refused() {
    let (auth, rs) = setup().await;
    let big = auth.sign(json!({ "padding": "x".repeat(9000) }));
    let d = assert_invalid(rs.bearer("/r", &big).await);
    assert!(d.contains("longer than 8192"), "{d}");
    // A JWT of another type (an ID token, say) signed by the same key.
    let id_token = raw_jwt(
        &json!({ "alg": "RS256", "kid": auth.key.kid(), "typ": "JWT" }),
        &good_claims(json!({})),
        |input| auth.key.sign_raw(input).unwrap(),
    );
    let d = assert_invalid(rs.bearer("/r", &id_token).await);
    assert!(d.contains("at+jwt"), "{d}");
    let no_kid = raw_jwt(
        &json!({ "alg": "RS256", "typ": "at+jwt" }),
        &good_claims(json!({})),
        |input| auth.key.sign_raw(input).unwrap(),
    );
    assert!(assert_invalid(rs.bearer("/r", &no_kid).await).contains("kid"));
}
