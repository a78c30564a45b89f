//! Health, protected-resource metadata, configuration errors.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_and_resource_metadata() {
    let s = stack().await;
    let r = Reply::of(
        s.http
            .get(s.management_url("/health"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, &r.body),
        (
            200,
            &json!({"status": "UP", "checks": {"live": "UP", "keys": "UP", "ready": "UP"}})
        )
    );
    let r = Reply::of(
        s.http
            .get(s.url("/.well-known/oauth-protected-resource"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        r.body,
        json!({
            "resource": "http://localhost:8085/customer-service",
            "authorization_servers": ["http://localhost:8085/ms-auth-server"],
            "scopes_supported": ["customer.read", "customer.write"],
            "bearer_methods_supported": ["header"],
        })
    );
    let r = Reply::of(s.http.get(s.url("/nope")).send().await.unwrap()).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn not_ready_while_the_auth_server_is_down() {
    let spawned = spawn_service(test_support::dead_jwks_url()).await;
    let (base, management) = (spawned.base, spawned.management);
    let http = reqwest::Client::new();
    let r = Reply::of(
        http.get(format!("{management}/health"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, r.body["checks"]["keys"].as_str()),
        (503, Some("DOWN"))
    );
    let r = Reply::of(
        http.get(format!("{base}/customers"))
            .bearer_auth("a.b.c")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, r.headers["retry-after"].to_str().unwrap()),
        (503, "5")
    );
}

#[test]
fn configuration_errors_name_the_key() {
    for (env, key) in [
        ("CUSTOMER_SERVICE__SERVER__PORT", "server.port"),
        ("CUSTOMER_SERVICE__AUTH__LEEWAY_SECS", "auth.leeway_secs"),
        (
            "CUSTOMER_SERVICE__SERVER__CONTEXT_PATH",
            "server.context_path",
        ),
        ("CUSTOMER_SERVICE__SERVER__PROT", "`prot`"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_customer-service"))
            .env(env, "no/")
            .env_remove("CUSTOMER_SERVICE_CONFIG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(key) && !stderr.contains("panicked"),
            "{key}: {stderr}"
        );
    }
}

#[tokio::test]
async fn responses_echo_the_request_id() {
    let s = stack().await;
    let res = s
        .http
        .get(s.url("/.well-known/oauth-protected-resource"))
        .header("X-Request-Id", "trace-me-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-1");
    let res = s.http.get(s.url("/customers")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers().contains_key("x-request-id"),
        "refused requests carry one too"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_key_fetches_and_refusals() {
    use service_kit::metrics::sample;
    let s = stack().await;
    let t = s.token("customer.read").await;
    assert_eq!(
        s.send(reqwest::Method::GET, "/customers", Some(&t), None)
            .await
            .status,
        200
    );
    assert_eq!(
        s.send(reqwest::Method::GET, "/customers", None, None)
            .await
            .status,
        401
    );
    let page = s
        .http
        .get(s.management_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sample(&page, "jwks_fetches_total", &[("outcome", "ok")]).unwrap_or(0.0) >= 1.0,
        "{page}"
    );
    assert!(
        sample(
            &page,
            "bearer_auth_failures_total",
            &[("reason", "missing")]
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{page}"
    );
    let ok = sample(
        &page,
        "http_requests_total",
        &[("route", "/customer-service/customers"), ("status", "200")],
    );
    assert!(ok.unwrap_or(0.0) >= 1.0, "{page}");
    let listed = sample(
        &page,
        "store_operation_duration_seconds_count",
        &[("store", "customers"), ("op", "list"), ("outcome", "ok")],
    );
    assert!(
        listed.unwrap_or(0.0) >= 1.0,
        "store latency by operation: {page}"
    );
}
