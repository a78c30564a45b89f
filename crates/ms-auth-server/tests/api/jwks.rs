//! `GET /oauth2/jwks` (RFC 7517 §5).

use crate::helpers::*;

#[tokio::test]
async fn jwks_publishes_the_public_rsa_key_only() {
    let app = TestApp::playground().await;
    let (status, headers, body) = app.get_json("/oauth2/jwks").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "application/json");
    assert_eq!(header(&headers, "cache-control"), "public, max-age=300");
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = keys[0].as_object().unwrap();
    let mut names: Vec<&str> = k.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(
        (k["kty"].as_str(), k["use"].as_str(), k["alg"].as_str()),
        (Some("RSA"), Some("sig"), Some("RS256"))
    );
    assert!(uuid::Uuid::parse_str(k["kid"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn jwks_is_get_only() {
    let app = TestApp::playground().await;
    let res = app.http.post(app.url("/oauth2/jwks")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(header(res.headers(), "allow"), "GET");
}
