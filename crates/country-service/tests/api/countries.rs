//! The country resource, its scope, health and metadata.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_full_iso_3166_1_list_with_country_read() {
    let s = Stack::start().await;
    let t = s.token("country.read").await;
    let r = s.send(Method::GET, "/countries", Some(&t), None).await;
    assert_eq!(r.status, 200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len() as u64, r.body["total"].as_u64().unwrap());
    assert!(items.len() >= 249, "{}", items.len());
    assert!(
        items
            .contains(&json!({"alpha2": "JP", "alpha3": "JPN", "numeric": "392", "name": "Japan"}))
    );
}

#[tokio::test]
async fn lookups_by_alpha2_or_alpha3_in_any_case() {
    let s = Stack::start().await;
    let t = s.token("country.read").await;
    for code in ["DE", "de", "DEU", "deu", "dEu"] {
        let r = s
            .send(Method::GET, &format!("/countries/{code}"), Some(&t), None)
            .await;
        assert_eq!(
            (r.status, r.body["alpha3"].as_str()),
            (200, Some("DEU")),
            "{code}"
        );
    }
    for code in ["XX", "XXX", "D", "DEUT", "1", "%C3%84"] {
        let r = s
            .send(Method::GET, &format!("/countries/{code}"), Some(&t), None)
            .await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (404, Some("not_found")),
            "{code}"
        );
    }
}

#[tokio::test]
async fn every_route_needs_country_read() {
    let s = Stack::start().await;
    let customer = s.token("customer.read customer.write").await;
    for path in ["/countries", "/countries/DE"] {
        let r = s.send(Method::GET, path, Some(&customer), None).await;
        assert_eq!(r.status, 403, "{path}");
        assert!(
            r.challenge()
                .contains("error=\"insufficient_scope\", scope=\"country.read\""),
            "{}",
            r.challenge()
        );
        let r = s.send(Method::GET, path, None, None).await;
        assert_eq!(r.status, 401);
        assert!(
            r.challenge()
                .starts_with("Bearer realm=\"country-service\", resource_metadata="),
            "{}",
            r.challenge()
        );
        let r = s.send(Method::GET, path, Some("not.a.token"), None).await;
        assert_eq!(r.status, 401);
        assert!(r.challenge().contains("error=\"invalid_token\""));
    }
}

#[tokio::test]
async fn health_and_resource_metadata() {
    let s = Stack::start().await;
    let r = Reply::of(s.http.get(s.url("/health")).send().await.unwrap()).await;
    assert_eq!(r.body["status"], "UP");
    let r = Reply::of(
        s.http
            .get(s.url("/.well-known/oauth-protected-resource"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.body["resource"], "http://localhost:8085/country-service");
    assert_eq!(r.body["scopes_supported"], json!(["country.read"]));
}
