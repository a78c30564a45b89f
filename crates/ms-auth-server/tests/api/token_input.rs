//! What the token endpoint does with odd input: always a clear 4xx, never a 500.

use crate::helpers::*;

fn creds() -> String {
    format!("client_id={PLAYGROUND_CLIENT}&client_secret={PLAYGROUND_SECRET}")
}

#[tokio::test]
async fn grant_type_missing_or_unknown() {
    let app = TestApp::playground().await;
    let d = assert_oauth_error(app.token_form(&creds()).await, 400, "invalid_request").await;
    assert_eq!(d, "missing grant_type");
    assert_oauth_error(
        app.token_form(&format!("grant_type=&{}", creds())).await,
        400,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        // Tokens from the authorization endpoint only: never a token request.
        app.token_form(&format!("grant_type=implicit&{}", creds()))
            .await,
        400,
        "unsupported_grant_type",
    )
    .await;
}

#[tokio::test]
async fn repeated_parameters_are_invalid_request() {
    let app = TestApp::playground().await;
    let d = assert_oauth_error(
        app.token_form(&format!(
            "grant_type=client_credentials&scope=country.read&scope=country.read&{}",
            creds()
        ))
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(d.contains("scope"), "{d}");
    // Once in the query, once in the body.
    let res = app
        .http
        .post(app.url("/oauth2/token?grant_type=client_credentials"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&{}", creds()))
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn client_secret_in_the_query_string_is_refused() {
    let app = TestApp::playground().await;
    let res = app
        .http
        .post(app.url(&format!(
            "/oauth2/token?grant_type=client_credentials&{}",
            creds()
        )))
        .send()
        .await
        .unwrap();
    let d = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(d.contains("client_secret"), "{d}");
}

#[tokio::test]
async fn a_body_that_is_not_a_form_is_refused() {
    let app = TestApp::playground().await;
    for content_type in [None, Some("application/json"), Some("text/plain")] {
        let mut req = app
            .http
            .post(app.url("/oauth2/token"))
            .body(format!("grant_type=client_credentials&{}", creds()));
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        let d = assert_oauth_error(req.send().await.unwrap(), 400, "invalid_request").await;
        assert!(d.contains("Content-Type"), "{content_type:?}: {d}");
    }
    // A charset parameter and odd case are fine.
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header(
            "Content-Type",
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
        )
        .body(format!("grant_type=client_credentials&{}", creds()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn non_utf8_parameters_are_invalid_request() {
    let app = TestApp::playground().await;
    for body in [
        &b"grant_type=client_credentials&scope=%FF%FE"[..],
        &b"grant_type=client_\xffcredentials"[..],
    ] {
        let res = app
            .http
            .post(app.url("/oauth2/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let d = assert_oauth_error(res, 400, "invalid_request").await;
        assert!(d.contains("UTF-8"), "{d}");
    }
}

#[tokio::test]
async fn oversize_bodies_are_413_with_an_oauth_body() {
    let app = TestApp::playground().await;
    let big = format!("grant_type=client_credentials&scope={}", "a".repeat(20_000));
    let d = assert_oauth_error(app.token_form(&big).await, 413, "invalid_request").await;
    assert!(d.contains("larger than 16384"), "{d}");
    // Chunked, so no Content-Length announces it.
    let stream =
        futures_util::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 1000])));
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, 413, "invalid_request").await;
}

#[tokio::test]
async fn very_long_values_are_ordinary_errors() {
    let app = TestApp::playground().await;
    let long = "x".repeat(12_000);
    assert_oauth_error(
        app.token_form(&format!(
            "grant_type=client_credentials&client_id={long}&client_secret=s"
        ))
        .await,
        401,
        "invalid_client",
    )
    .await;
    let d = assert_oauth_error(
        app.token_form(&format!("grant_type={long}")).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    assert!(
        d.len() < 200,
        "the description echoes a bounded part of the input: {d}"
    );
    assert_oauth_error(
        app.token_form(&format!(
            "grant_type=client_credentials&scope={long}&{}",
            creds()
        ))
        .await,
        400,
        "invalid_scope",
    )
    .await;
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let app = TestApp::playground().await;
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let res = app
            .http
            .request(method.clone(), app.url("/oauth2/token"))
            .send()
            .await
            .unwrap();
        let (status, headers, body) = parts(res).await;
        assert_eq!(
            (status, header(&headers, "allow")),
            (405, "POST".to_owned()),
            "{method}"
        );
        assert_eq!(body["error"], "method_not_allowed");
    }
}

#[tokio::test]
async fn unknown_paths_are_404_json() {
    let app = TestApp::playground().await;
    for path in [
        "/nope",
        "/ms-auth-server/oauth2/nope",
        "/ms-auth-server/%FF%FE",
        "/ms-auth-server/../etc/passwd",
    ] {
        let res = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let (status, _, body) = parts(res).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
}

/// F5: a client trickling its body cannot hold a worker: past `server.body_timeout_ms` the
/// request is answered 408 (the head timeout does not cover bodies).
#[tokio::test]
async fn a_body_that_stops_coming_is_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut settings = playground_settings();
    settings.server.body_timeout_ms = 500;
    let app = TestApp::spawn(settings).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        b"POST /ms-auth-server/oauth2/token HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), conn.read(&mut answer))
        .await
        .expect("answered before the client finished")
        .unwrap();
    let head = String::from_utf8_lossy(&answer[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("too slowly"), "{head}");
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(400)
            && waited < std::time::Duration::from_secs(3),
        "{waited:?}"
    );
}
