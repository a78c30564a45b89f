//! `GET /health`, `/health/live`, `/health/ready`.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_reports_live_and_ready() {
    let app = TestApp::playground().await;
    let (status, headers, body) = app.get_json("/health").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert_eq!(
        body,
        json!({ "status": "UP", "checks": { "live": "UP", "ready": "UP" } })
    );
    for probe in ["/health/live", "/health/ready"] {
        let (status, _, body) = app.get_json(probe).await;
        assert_eq!(
            (status.as_u16(), body["status"].as_str()),
            (200, Some("UP")),
            "{probe}"
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_tokens_and_authentication_failures() {
    use service_kit::metrics::sample;
    let app = TestApp::playground().await;
    let auth = format!("{PLAYGROUND_CLIENT}:{PLAYGROUND_SECRET}");
    assert_eq!(
        app.token_basic(&auth, "grant_type=client_credentials")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.token_basic(&auth, "grant_type=client_credentials")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.token_basic("service-client-jwt:wrong", "grant_type=client_credentials")
            .await
            .status(),
        401
    );
    let page = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let issued = sample(
        &page,
        "tokens_issued_total",
        &[
            ("client_id", PLAYGROUND_CLIENT),
            ("grant_type", "client_credentials"),
        ],
    );
    assert!(issued.unwrap_or(0.0) >= 2.0, "{page}");
    assert!(
        sample(
            &page,
            "client_auth_failures_total",
            &[("reason", "bad_secret")]
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{page}"
    );
    assert!(
        sample(&page, "token_errors_total", &[("error", "invalid_client")]).unwrap_or(0.0) >= 1.0,
        "{page}"
    );
    let ok = sample(
        &page,
        "http_requests_total",
        &[("route", "/ms-auth-server/oauth2/token"), ("status", "200")],
    );
    assert!(ok.unwrap_or(0.0) >= 2.0, "{page}");
    assert!(
        page.contains("http_request_duration_seconds_bucket"),
        "{page}"
    );
    let lookups = sample(
        &page,
        "store_operation_duration_seconds_count",
        &[("store", "clients"), ("op", "get"), ("outcome", "ok")],
    );
    assert!(
        lookups.unwrap_or(0.0) >= 3.0,
        "store latency by operation: {page}"
    );
    assert!(
        !page.contains("service-client-jwt-secret") && !page.contains("wrong"),
        "no secret in metrics"
    );
}
