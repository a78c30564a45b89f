//! Every endpoint's scope, and the RFC 6750 answers without it.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const ID: &str = "00000000-0000-4000-8000-000000000000";

fn endpoints() -> Vec<(Method, String, &'static str)> {
    vec![
        (Method::GET, "/customers".into(), "customer.read"),
        (Method::GET, format!("/customers/{ID}"), "customer.read"),
        (Method::POST, "/customers".into(), "customer.write"),
        (Method::PUT, format!("/customers/{ID}"), "customer.write"),
        (Method::DELETE, format!("/customers/{ID}"), "customer.write"),
    ]
}

fn body() -> serde_json::Value {
    json!({"name": "Ada", "email": "ada@example.com", "country": "GB"})
}

#[tokio::test]
async fn each_endpoint_needs_its_scope() {
    let s = stack().await;
    let read = s.token("customer.read").await;
    let write = s.token("customer.write").await;
    let country = s.token("country.read").await;
    for (method, path, scope) in endpoints() {
        let (right, wrong) = if scope == "customer.read" {
            (&read, &write)
        } else {
            (&write, &read)
        };
        let ok = s
            .send(method.clone(), &path, Some(right), Some(body()))
            .await;
        assert!(
            [200, 201, 204, 404].contains(&ok.status),
            "{method} {path}: {}",
            ok.status
        );
        // F2: a country.read token names country-service in `aud`: refused here as
        // invalid_token, before its scopes are looked at.
        let r = s
            .send(method.clone(), &path, Some(&country), Some(body()))
            .await;
        assert_eq!(r.status, 401, "{method} {path}");
        assert!(
            r.challenge().contains("error=\"invalid_token\"")
                && r.challenge().contains("another audience"),
            "{}",
            r.challenge()
        );
        for lacking in [wrong] {
            let r = s
                .send(method.clone(), &path, Some(lacking), Some(body()))
                .await;
            assert_eq!(r.status, 403, "{method} {path}");
            assert!(
                r.challenge().contains("error=\"insufficient_scope\""),
                "{}",
                r.challenge()
            );
            assert!(
                r.challenge().contains(&format!("scope=\"{scope}\"")),
                "{}",
                r.challenge()
            );
        }
        let none = s.send(method.clone(), &path, None, Some(body())).await;
        assert_eq!(none.status, 401, "{method} {path}");
        assert_eq!(
            none.challenge(),
            "Bearer realm=\"customer-service\", resource_metadata=\"http://localhost:8085/.well-known/oauth-protected-resource/customer-service\""
        );
    }
}

#[tokio::test]
async fn bad_tokens_are_401_invalid_token() {
    let s = stack().await;
    let good = s.token("customer.read").await;
    let parts: Vec<&str> = good.split('.').collect();
    let alg_none = {
        use base64::Engine;
        let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        format!("{h}.{}.", parts[1])
    };
    for token in [
        good[..good.len() - 10].to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        alg_none,
        "garbage".to_owned(),
    ] {
        let r = s.send(Method::GET, "/customers", Some(&token), None).await;
        assert_eq!(r.status, 401, "{token}");
        assert!(
            r.challenge().contains("error=\"invalid_token\""),
            "{}",
            r.challenge()
        );
    }
    let r = Reply::of(
        s.http
            .get(s.url("/customers"))
            .header("Authorization", "Bearer a b")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
}

/// Revokes `token` at the stack's auth server as the client it was issued to.
async fn revoke(s: &Stack, token: &str) {
    let res = s
        .http
        .post(format!("{}/ms-auth-server/oauth2/revoke", s.auth.base))
        .basic_auth(test_support::CLIENT, Some(test_support::SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// F8: a revoked token stops reading personal data too, not only writing it.
#[tokio::test]
async fn a_revoked_token_stops_working_on_every_route_within_the_cache_period() {
    let s = stack().await;
    let token = s.token("customer.read customer.write").await;
    let created = s
        .send(Method::POST, "/customers", Some(&token), Some(body()))
        .await;
    assert_eq!(created.status, 201);
    revoke(&s, &token).await;
    // The tests' cache period is one second.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let refused = s
        .send(Method::POST, "/customers", Some(&token), Some(body()))
        .await;
    assert_eq!(refused.status, 401, "{:?}", refused.body);
    assert_eq!(refused.body["error"], "invalid_token");
    assert!(refused.challenge().contains("error=\"invalid_token\""));
    let id = created.body["id"].as_str().unwrap();
    let path = format!("/customers/{id}");
    for method in [Method::PUT, Method::DELETE] {
        let r = s.send(method, &path, Some(&token), Some(body())).await;
        assert_eq!(r.status, 401);
    }
    // Reads ask as well: customer data is personal data.
    for path in [path.as_str(), "/customers"] {
        let r = s.send(Method::GET, path, Some(&token), None).await;
        assert_eq!(r.status, 401, "GET {path}");
    }
    // A fresh token writes again.
    let fresh = s.token("customer.write").await;
    assert_eq!(
        s.send(Method::POST, "/customers", Some(&fresh), Some(body()))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn every_route_answers_503_when_revocation_cannot_be_checked() {
    let auth = test_support::AuthServer::start().await;
    let path = test_support::workspace_root().join("deploy/playground/customer-service.toml");
    let mut settings = customer_service::Settings::load(Some(&path)).unwrap();
    settings.server.port = 0;
    settings.store.url = "memory".to_owned();
    settings.auth.jwks_url = Some(auth.jwks_url());
    // Nobody listens there.
    settings.auth.introspection.as_mut().unwrap().url =
        format!("{}/oauth2/introspect", test_support::dead_jwks_url());
    let app = customer_service::App::build(settings).await.unwrap();
    let spawned =
        test_support::Spawned::new("/customer-service", app.port(), app.management_port());
    tokio::spawn(app.run());
    let http = reqwest::Client::new();
    spawned.wait_ready().await;
    let base = spawned.base;
    let token = auth.token("customer.read customer.write").await;
    let write = test_support::send(
        &http,
        &base,
        Method::POST,
        "/customers",
        Some(&token),
        Some(body()),
    )
    .await;
    assert_eq!(write.status, 503, "{:?}", write.body);
    assert_eq!(write.body["error"], "temporarily_unavailable");
    assert!(write.headers.contains_key("retry-after"));
    let read =
        test_support::send(&http, &base, Method::GET, "/customers", Some(&token), None).await;
    assert_eq!(read.status, 503, "reads fail closed too");
}
