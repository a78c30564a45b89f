//! Upstream failures: 502, 504, round-robin, skipping, retry rules.

use std::time::{Duration, Instant};

use crate::helpers::*;

#[tokio::test]
async fn an_upstream_that_refuses_is_502_json() {
    let gw = gateway(vec![dead_upstream()], |_| {}).await;
    let (status, body) = gw.get_json("/svc/echo").await;
    assert_eq!((status, body["error"].as_str()), (502, Some("bad_gateway")));
}

#[tokio::test]
async fn a_slow_upstream_is_504_json_within_the_timeout() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |s| {
        s.upstream.response_timeout_ms = 500;
        s.upstream.queue_timeout_ms = 100;
    })
    .await;
    let started = Instant::now();
    let (status, body) = gw.get_json("/svc/slow").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("gateway_timeout"))
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn requests_are_spread_round_robin() {
    let (a, b) = (Upstream::start().await, Upstream::start().await);
    let gw = gateway(vec![a.base.clone(), b.base.clone()], |_| {}).await;
    for _ in 0..10 {
        assert_eq!(gw.get_json("/svc/echo").await.0, 200);
    }
    assert_eq!((a.hits(), b.hits()), (5, 5));
}

#[tokio::test]
async fn idempotent_requests_retry_once_on_another_upstream() {
    let live = Upstream::start().await;
    // The dead upstream comes first in the rotation.
    let gw = gateway(vec![dead_upstream(), live.base.clone()], |_| {}).await;
    assert_eq!(gw.get_json("/svc/echo").await.0, 200);
    assert_eq!(live.hits(), 1);
}

#[tokio::test]
async fn an_idempotent_request_with_a_buffered_body_is_retried_whole() {
    let live = Upstream::start().await;
    let gw = gateway(vec![dead_upstream(), live.base.clone()], |_| {}).await;
    let res = gw
        .http
        .put(gw.url("/svc/echo"))
        .body("replayable")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["body_len"], 10);
    assert_eq!(live.hits(), 1);
}

#[tokio::test]
async fn non_idempotent_requests_are_never_retried() {
    let live = Upstream::start().await;
    let gw = gateway(vec![dead_upstream(), live.base.clone()], |_| {}).await;
    let res = gw
        .http
        .post(gw.url("/svc/echo"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert_eq!(live.hits(), 0, "a POST went to a second upstream");
    // The refusing upstream is now skipped: the next POST reaches the live one.
    let res = gw
        .http
        .post(gw.url("/svc/echo"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(live.hits(), 1);
}

#[tokio::test]
async fn a_refusing_upstream_is_skipped_for_a_while_then_tried_again() {
    let live = Upstream::start().await;
    let gw = gateway(vec![dead_upstream(), live.base.clone()], |s| {
        s.upstream.down_for_ms = 300
    })
    .await;
    let res = gw
        .http
        .post(gw.url("/svc/echo"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    for _ in 0..4 {
        let res = gw
            .http
            .post(gw.url("/svc/echo"))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "skipped while down");
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Back in rotation: within two POSTs one is sent to it (and fails, unretried).
    let mut statuses = Vec::new();
    for _ in 0..2 {
        statuses.push(
            gw.http
                .post(gw.url("/svc/echo"))
                .body("x")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert!(statuses.contains(&502), "{statuses:?}");
}

#[tokio::test]
async fn upstream_errors_are_counted_on_the_metrics_page() {
    let gw = gateway(vec![dead_upstream()], |_| {}).await;
    assert_eq!(gw.get_json("/svc/echo").await.0, 502);
    let page = gw.metrics_page().await;
    let errors =
        service_kit::metrics::sample(&page, "upstream_errors_total", &[("kind", "connect")]);
    assert!(errors.unwrap_or(0.0) >= 1.0, "{page}");
    let routed = service_kit::metrics::sample(
        &page,
        "http_requests_total",
        &[("route", "/svc/"), ("status", "502")],
    );
    assert!(routed.unwrap_or(0.0) >= 1.0, "{page}");
}

#[tokio::test]
async fn health_is_on_the_management_listener_whatever_the_upstreams() {
    let gw = gateway(vec![dead_upstream()], |_| {}).await;
    for path in ["/health", "/health/live", "/health/ready"] {
        let res = gw
            .http
            .get(format!("{}{path}", gw.management))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("UP")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_public_listener_serves_no_health_or_metrics() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    for path in ["/metrics", "/health", "/health/live", "/health/ready"] {
        let (status, body) = gw.get_json(path).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    assert_eq!(up.hits(), 0, "no route covers them here");
    assert!(gw.metrics_page().await.contains("http_requests_total"));
}
