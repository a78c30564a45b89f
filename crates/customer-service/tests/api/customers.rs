//! The customer resource: create, read, list, replace, delete, and what bad input gets.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn stack_and_token() -> (Stack, String) {
    let s = stack().await;
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
        // F19: past what SQL binds as a signed 64-bit OFFSET.
        ("offset=18446744073709551615", "offset"),
        ("offset=1000000001", "offset"),
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
        (
            json!({"name": null, "email": "a@b.de", "country": "DE"}),
            "name",
        ),
        (json!({"email": "a@b.de", "country": "DE"}), "name"),
        (
            json!({"name": "A", "email": "a@b", "country": "DE"}),
            "email",
        ),
        (
            json!({"name": "A", "email": "a b@c.de", "country": "DE"}),
            "email",
        ),
        (
            json!({"name": "A", "email": format!("{}@example.com", "a".repeat(250)), "country": "DE"}),
            "email",
        ),
        (
            json!({"name": "A", "email": "a@b.de", "country": "DEU"}),
            "country",
        ),
        // Kosovo's XK is user-assigned, not ISO 3166-1.
        (
            json!({"name": "A", "email": "a@b.de", "country": "XK"}),
            "country",
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
        assert!(
            r.body["error_description"]
                .as_str()
                .is_some_and(|d| d.starts_with(field)),
            "{}",
            r.body
        );
    }
    let put = s
        .send(
            Method::PUT,
            "/customers/00000000-0000-4000-8000-000000000000",
            Some(&t),
            Some(json!({"name": "A", "email": "a@b.de", "country": "ZZ"})),
        )
        .await;
    assert_eq!(
        (put.status, put.body["field"].as_str()),
        (400, Some("country"))
    );
    let listed = s.send(Method::GET, "/customers", Some(&t), None).await;
    assert_eq!(listed.body["total"], 0, "nothing invalid was stored");
}

#[tokio::test]
async fn malformed_bodies_are_4xx() {
    let (s, t) = stack_and_token().await;
    let post = |ct: &'static str, body: reqwest::Body| {
        let req = s.http.post(s.url("/customers")).bearer_auth(&t).body(body);
        let req = if ct.is_empty() {
            req
        } else {
            req.header("Content-Type", ct)
        };
        async move { Reply::of(req.send().await.unwrap()).await }
    };
    let json = "application/json";
    for bad in [&b"{not json"[..], b"\xff\xfe", b"", b"[1,"] {
        let r = post(json, bad.to_vec().into()).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (400, Some("invalid_json")),
            "{bad:?}"
        );
    }
    let ok = br#"{"name":"A","email":"a@b.de","country":"DE"}"#;
    let r = post("application/json; charset=utf-8", ok.to_vec().into()).await;
    assert_eq!(r.status, 201);
    // RFC 9110 §15.5.16: another media type is 415, not 400.
    for ct in ["text/plain", "application/x-www-form-urlencoded", ""] {
        let r = post(ct, ok.to_vec().into()).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (415, Some("unsupported_media_type")),
            "{ct}"
        );
    }
    let big = format!(
        r#"{{"name":"{}","email":"a@b.de","country":"DE"}}"#,
        "x".repeat(20_000)
    );
    let r = post(json, big.clone().into()).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (413, Some("payload_too_large"))
    );
    // Chunked, so no Content-Length announces the size: the limit holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .into_bytes()
        .chunks(1000)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let r = post(
        json,
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)),
    )
    .await;
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
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (404, Some("not_found")),
            "{id}"
        );
    }
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let (s, t) = stack_and_token().await;
    for (method, path, allow) in [
        (Method::PATCH, "/customers", "GET, POST"),
        (Method::DELETE, "/customers", "GET, POST"),
        (Method::POST, "/customers/x", "GET, PUT, DELETE"),
        (Method::PATCH, "/customers/x", "GET, PUT, DELETE"),
    ] {
        let r = s.send(method.clone(), path, Some(&t), None).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (405, Some("method_not_allowed")),
            "{method} {path}"
        );
        assert_eq!(r.headers["allow"], allow);
    }
}
