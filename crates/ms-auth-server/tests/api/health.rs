//! `GET /health`, `/health/live`, `/health/ready` and `/metrics`, on the management listener
//! only.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_reports_live_and_ready() {
    let app = TestApp::playground().await;
    let res = reqwest::get(format!("{}/health", app.management))
        .await
        .unwrap();
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert_eq!(
        body,
        json!({ "status": "UP", "checks": { "live": "UP", "ready": "UP", "keys": "UP" } })
    );
    for probe in ["/health/live", "/health/ready"] {
        let res = reqwest::get(format!("{}{probe}", app.management))
            .await
            .unwrap();
        let (status, _, body) = parts(res).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("UP")),
            "{probe}"
        );
    }
}

/// F3: the public listener serves only the product; the gateway in front of it routes the
/// whole prefix, so anything here would be public.
#[tokio::test]
async fn the_public_listener_serves_no_health_or_metrics() {
    let app = TestApp::playground().await;
    for path in ["/health", "/health/live", "/health/ready", "/metrics"] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        let res = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path} at the root");
    }
    let res = reqwest::get(format!("{}/oauth2/jwks", app.management))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "the management listener serves no product"
    );
}

#[tokio::test]
async fn metrics_count_requests_tokens_and_authentication_failures() {
    use service_kit::metrics::sample;
    let app = TestApp::playground().await;
    let auth = PLAYGROUND_ID_SECRET;
    assert_eq!(
        app.token_basic(auth, "grant_type=client_credentials")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.token_basic(auth, "grant_type=client_credentials")
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
        .get(format!("{}/metrics", app.management))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let issued = sample(
        &page,
        "tokens_issued_total",
        &[("grant_type", "client_credentials")],
    );
    assert!(issued.unwrap_or(0.0) >= 2.0, "{page}");
    assert!(
        !page.contains(PLAYGROUND_CLIENT),
        "no label carries a client id: {page}"
    );
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

/// F1: label values come from closed sets. Requests with invented methods all count as
/// `_OTHER`, so a thousand of them leave the page as long as it was.
#[tokio::test]
async fn invented_methods_add_no_series() {
    let app = TestApp::playground().await;
    let page = || async {
        reqwest::get(format!("{}/metrics", app.management))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let send = |method: String| {
        let http = app.http.clone();
        let url = app.url("/oauth2/jwks");
        async move {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            http.request(method, url).send().await.unwrap().status()
        }
    };
    // The `_OTHER` series exist once one such request was served.
    assert_eq!(send("WARMUP".to_owned()).await, 405);
    let before = page().await;
    for i in 0..1000 {
        let method = format!("M{}{i}", uuid::Uuid::new_v4().simple()).to_uppercase();
        assert_eq!(send(method).await, 405);
    }
    let after = page().await;
    assert!(after.contains("method=\"_OTHER\""), "{after}");
    // The same series, only their values moved on (a count of 1 became 1001).
    let series = |page: &str| -> Vec<String> {
        page.lines()
            .map(|l| {
                l.rsplit_once(' ')
                    .map_or(l, |(series, _)| series)
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(series(&before), series(&after), "{after}");
    assert!(
        after.len() <= before.len() + 64,
        "the page grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}
