//! The customer resource: create, read, list, replace, delete, and what bad input gets.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn stack_and_token() -> (Stack, String) {
    let s = Stack::start().await;
    let t = s.token("customer.read customer.write").await;
    (s, t)
}

#[tokio::test]
async fn create_read_replace_delete() {
    let (s, t) = stack_and_token().await;
    let created = s
        .send(
            Method::POST,
            "/customers",
            Some(&t),
            Some(json!({"name": "Ada Lovelace", "email": "ada@Example.com", "country": "gb"})),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(
        created.headers["location"],
        format!("/customer-service/customers/{id}")
    );
    assert_eq!(
        created.body,
        json!({"id": id, "name": "Ada Lovelace", "email": "ada@example.com", "country": "GB"})
    );

    let read = s
        .send(Method::GET, &format!("/customers/{id}"), Some(&t), None)
        .await;
    assert_eq!((read.status, &read.body), (200, &created.body));

    let replaced = s
        .send(
            Method::PUT,
            &format!("/customers/{id}"),
            Some(&t),
            Some(json!({"name": "Ada King", "email": "ada@example.com", "country": "FR"})),
        )
        .await;
    assert_eq!(replaced.status, 200);
    assert_eq!(replaced.body["country"], "FR");
    assert_eq!(
        s.send(Method::GET, &format!("/customers/{id}"), Some(&t), None)
            .await
            .body["name"],
        "Ada King"
    );

    let deleted = s
        .send(Method::DELETE, &format!("/customers/{id}"), Some(&t), None)
        .await;
    assert_eq!(deleted.status, 204);
    for method in [Method::GET, Method::DELETE] {
        let gone = s
            .send(method, &format!("/customers/{id}"), Some(&t), None)
            .await;
        assert_eq!(
            (gone.status, gone.body["error"].as_str()),
            (404, Some("not_found"))
        );
    }
    let gone = s
        .send(
            Method::PUT,
            &format!("/customers/{id}"),
            Some(&t),
            Some(json!({"name": "X", "email": "x@y.de", "country": "DE"})),
        )
        .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn lists_are_paginated() {
    let (s, t) = stack_and_token().await;
    for i in 0..5 {
        let r = s
            .send(
                Method::POST,
                "/customers",
                Some(&t),
                Some(json!({"name": format!("c{i}"), "email": "c@d.de", "country": "DE"})),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let page = s
        .send(Method::GET, "/customers?limit=2&offset=1", Some(&t), None)
        .await;
    assert_eq!(page.status, 200);
    let names: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c1", "c2"]);
    assert_eq!(
        (
            page.body["limit"].as_u64(),
            page.body["offset"].as_u64(),
            page.body["total"].as_u64()
        ),
        (Some(2), Some(1), Some(5))
    );
    let default = s.send(Method::GET, "/customers", Some(&t), None).await;
    assert_eq!(default.body["limit"], 20);
    let past_end = s
        .send(Method::GET, "/customers?offset=50", Some(&t), None)
        .await;
    assert_eq!(past_end.body["items"], json!([]));
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("offset=-5", "offset"),
        ("offset=1.5", "offset"),
    ] {
        let r = s
            .send(Method::GET, &format!("/customers?{query}"), Some(&t), None)
            .await;
        assert_eq!(
            (r.status, r.body["field"].as_str()),
            (400, Some(field)),
            "{query}"
        );
    }
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let (s, t) = stack_and_token().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"name": "", "email": "a@b.de", "country": "DE"}),
            "name",
        ),
        (
            json!({"name": "x".repeat(201), "email": "a@b.de", "country": "DE"}),
            "name",
        ),
        (
            json!({"name": "A", "email": "not-an-email", "country": "DE"}),
            "email",
        ),
        (
            json!({"name": "A", "email": "a@b.de", "country": "XX"}),
            "country",
        ),
        (json!({"name": "A", "email": "a@b.de"}), "country"),
        (
            json!({"name": "A", "email": "a@b.de", "country": "DE", "admin": true}),
            "admin",
        ),
        (
            json!({"name": 7, "email": "a@b.de", "country": "DE"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let r = s
            .send(Method::POST, "/customers", Some(&t), Some(body.clone()))
            .await;
        assert_eq!(
            (r.status, r.body["error"].as_str(), r.body["field"].as_str()),
            (400, Some("invalid_field"), Some(field)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn malformed_bodies_are_4xx() {
    let (s, t) = stack_and_token().await;
    let post = |ct: &'static str, body: Vec<u8>| {
        s.http
            .post(s.url("/customers"))
            .bearer_auth(&t)
            .header("Content-Type", ct)
            .body(body)
            .send()
    };
    let r = Reply::of(
        post("application/json", b"{not json".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_json"))
    );
    let r = Reply::of(
        post("application/json", b"\xff\xfe".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = Reply::of(
        post("text/plain", br#"{"name":"A"}"#.to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 415);
    let big = format!(
        r#"{{"name":"{}","email":"a@b.de","country":"DE"}}"#,
        "x".repeat(20_000)
    );
    let r = Reply::of(post("application/json", big.into_bytes()).await.unwrap()).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (413, Some("payload_too_large"))
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let (s, t) = stack_and_token().await;
    for id in ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "%FF"] {
        let r = s
            .send(Method::GET, &format!("/customers/{id}"), Some(&t), None)
            .await;
        assert_eq!(r.status, 404, "{id}");
    }
}
