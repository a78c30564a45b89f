//! Health, protected-resource metadata, 404 and 405, configuration errors.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_metadata_and_unknown_paths() {
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
            .get(s.management_url("/health/live"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &json!({"status": "UP"})));
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
            "resource": "http://localhost:8085/country-service",
            "authorization_servers": ["http://localhost:8085/ms-auth-server"],
            "scopes_supported": ["country.read"],
            "bearer_methods_supported": ["header"],
        })
    );
    for path in ["/nope", "/countries/DE/extra"] {
        let r = Reply::of(s.http.get(s.url(path)).send().await.unwrap()).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let t = s.token("country.read").await;
    for path in ["/countries", "/countries/DE"] {
        let r = s.send(Method::POST, path, Some(&t), Some(json!({}))).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (405, Some("method_not_allowed")),
            "{path}"
        );
        assert_eq!(r.headers["allow"], "GET");
    }
}

#[tokio::test]
async fn not_ready_while_the_auth_server_is_down() {
    let management = spawn_service(test_support::dead_jwks_url())
        .await
        .management;
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
        http.get(format!("{management}/health/ready"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status, &r.body), (503, &json!({"status": "DOWN"})));
}

#[test]
fn configuration_errors_name_the_key() {
    for (env, value, key) in [
        ("COUNTRY_SERVICE__SERVER__PORT", "80000", "server.port"),
        ("COUNTRY_SERVICE__AUTH__REALM_X", "x", "`realm_x`"),
        (
            "COUNTRY_SERVICE__SERVER__CONTEXT_PATH",
            "no/",
            "server.context_path",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_country-service"))
            .env(env, value)
            .env_remove("COUNTRY_SERVICE_CONFIG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(key) && !stderr.contains("panicked"),
            "{key}: {stderr}"
        );
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_country-service"))
        .args(["--config", "/nonexistent/country-service.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/country-service.toml"));
}
