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
        for lacking in [wrong, &country] {
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
            "Bearer realm=\"customer-service\", resource_metadata=\"http://localhost:8085/customer-service/.well-known/oauth-protected-resource\""
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
