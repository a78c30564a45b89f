//! Client authentication at the token endpoint (RFC 6749 §2.3.1, §5.2 invalid_client).

use ms_auth_server::oauth::{
    client::{AuthMethod, GrantType},
    secret::{ClientSecret, SecretHash},
};

use crate::helpers::*;

const CC: &str = "grant_type=client_credentials";

#[tokio::test]
async fn unknown_client_and_wrong_secret_look_identical() {
    let app = TestApp::playground().await;
    let mut seen = Vec::new();
    for res in [
        app.token_basic("nobody:service-client-jwt-secret", CC)
            .await,
        app.token_basic("service-client-jwt:wrong", CC).await,
        app.token_form(&format!("{CC}&client_id=nobody&client_secret=x"))
            .await,
        app.token_form(&format!(
            "{CC}&client_id=service-client-jwt&client_secret=wrong"
        ))
        .await,
        // No credentials at all, and a public-client style request.
        app.token_form(CC).await,
        app.token_form(&format!("{CC}&client_id=service-client-jwt"))
            .await,
    ] {
        let (status, headers, body) = parts(res).await;
        assert_eq!(
            header(&headers, "www-authenticate"),
            "Basic realm=\"ms-auth-server\""
        );
        assert_eq!(header(&headers, "cache-control"), "no-store");
        seen.push((status, body));
    }
    assert_eq!(seen[0].0, 401);
    assert_eq!(seen[0].1["error"], "invalid_client");
    assert!(seen.iter().all(|s| s == &seen[0]), "{seen:?}");
}

#[tokio::test]
async fn a_client_may_only_use_its_registered_methods() {
    let app = TestApp::spawn(playground_with([
        client(
            "basic-only",
            "basic-secret",
            &[AuthMethod::ClientSecretBasic],
            "country.read",
        ),
        client(
            "post-only",
            "post-secret",
            &[AuthMethod::ClientSecretPost],
            "country.read",
        ),
    ]))
    .await;
    assert_eq!(
        app.token_basic("basic-only:basic-secret", CC)
            .await
            .status(),
        200
    );
    assert_oauth_error(
        app.token_form(&format!(
            "{CC}&client_id=basic-only&client_secret=basic-secret"
        ))
        .await,
        401,
        "invalid_client",
    )
    .await;
    assert_eq!(
        app.token_form(&format!(
            "{CC}&client_id=post-only&client_secret=post-secret"
        ))
        .await
        .status(),
        200
    );
    assert_oauth_error(
        app.token_basic("post-only:post-secret", CC).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn two_methods_in_one_request_are_invalid_request() {
    let app = TestApp::playground().await;
    let d = assert_oauth_error(
        app.token_basic(
            PLAYGROUND_ID_SECRET,
            &format!("{CC}&client_id={PLAYGROUND_CLIENT}&client_secret={PLAYGROUND_SECRET}"),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(d.contains("more than one"), "{d}");
}

#[tokio::test]
async fn basic_credentials_are_form_urldecoded() {
    // RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded, then base64.
    let app = TestApp::spawn(playground_with([client(
        "svc:reports/1",
        "p@ss wörd+%",
        &[AuthMethod::ClientSecretBasic],
        "country.read",
    )]))
    .await;
    let res = app
        .token_basic("svc%3Areports%2F1:p%40ss+w%C3%B6rd%2B%25", CC)
        .await;
    assert_eq!(res.status(), 200);
    // Sent without form encoding, '+' reads as a space: a different secret.
    let res = app.token_basic("svc%3Areports%2F1:p@ss+wörd+%", CC).await;
    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn malformed_basic_headers_are_a_clean_400() {
    let app = TestApp::playground().await;
    for value in [
        "Basic",
        "Basic !!!notbase64",
        "Basic Zm9v",
        "Bearer abc",
        "Basic OnNlY3JldA==",
    ] {
        let res = app
            .http
            .post(app.url("/oauth2/token"))
            .header("Authorization", value)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(CC)
            .send()
            .await
            .unwrap();
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    // Non-UTF-8 bytes in the header value.
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header(
            "Authorization",
            reqwest::header::HeaderValue::from_bytes(b"Basic \xff\xfe").unwrap(),
        )
        .body("")
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn two_authorization_headers_are_invalid_request() {
    let app = TestApp::playground().await;
    let auth = basic(PLAYGROUND_ID_SECRET);
    let res = app
        .http
        .post(app.url("/oauth2/token?grant_type=client_credentials"))
        .header("Authorization", &auth)
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn secrets_longer_than_72_bytes_count_every_byte() {
    let base = "s".repeat(72);
    let app = TestApp::spawn(playground_with([client(
        "long",
        &format!("{base}-right"),
        &[AuthMethod::ClientSecretPost],
        "country.read",
    )]))
    .await;
    let ok = app
        .token_form(&format!("{CC}&client_id=long&client_secret={base}-right"))
        .await;
    assert_eq!(ok.status(), 200);
    let wrong = app
        .token_form(&format!("{CC}&client_id=long&client_secret={base}-wrong"))
        .await;
    assert_oauth_error(wrong, 401, "invalid_client").await;
    let truncated = app
        .token_form(&format!("{CC}&client_id=long&client_secret={base}"))
        .await;
    assert_oauth_error(truncated, 401, "invalid_client").await;
}

#[tokio::test]
async fn hashed_secrets_from_config_authenticate() {
    let hash = SecretHash::generate(&ClientSecret::new("hashed-secret"))
        .unwrap()
        .to_phc();
    let mut c = client(
        "hashed",
        "unused",
        &[AuthMethod::ClientSecretBasic],
        "country.read",
    );
    c.client_secret = None;
    c.client_secret_hash = Some(hash);
    let app = TestApp::spawn(playground_with([c])).await;
    assert_eq!(
        app.token_basic("hashed:hashed-secret", CC).await.status(),
        200
    );
    assert_oauth_error(
        app.token_basic("hashed:hashed-secreT", CC).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn a_client_without_the_grant_is_unauthorized_client() {
    let mut c = client(
        "web",
        "web-secret",
        &[AuthMethod::ClientSecretBasic],
        "customer.read",
    );
    c.metadata.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    c.metadata.redirect_uris =
        vec![ms_auth_server::oauth::client::RedirectUri::parse("https://web.example/cb").unwrap()];
    let app = TestApp::spawn(playground_with([c])).await;
    let d = assert_oauth_error(
        app.token_basic("web:web-secret", CC).await,
        400,
        "unauthorized_client",
    )
    .await;
    assert!(d.contains("client_credentials"), "{d}");
    // Its own grant reaches the grant's checks.
    assert_oauth_error(
        app.token_basic("web:web-secret", "grant_type=authorization_code&code=x")
            .await,
        400,
        "invalid_grant",
    )
    .await;
}
