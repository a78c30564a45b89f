//! What passes through: method, path, query, status, headers, bodies (streamed).

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn method_path_query_and_end_to_end_headers_pass_unchanged() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let res = gw
        .http
        .request(
            reqwest::Method::PATCH,
            gw.url("/svc/echo/a%20b/c?x=1&y=%2F"),
        )
        .header("X-Custom", "v1")
        .header("Authorization", "Bearer t0k3n")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["method"], "PATCH");
    assert_eq!(body["path"], "/svc/echo/a%20b/c");
    assert_eq!(body["query"], "x=1&y=%2F");
    assert_eq!(body["body_len"], 5);
    let h = &body["headers"];
    assert_eq!(h["x-custom"], "v1");
    assert_eq!(h["authorization"], "Bearer t0k3n");
    // The client's Host reaches the upstream, so that it builds its absolute URLs right.
    assert_eq!(h["host"], format!("127.0.0.1:{}", gw.port));
}

/// A browser's CORS preflight reaches the upstream as sent (the resource services answer it),
/// and the answer's CORS fields come back unchanged.
#[tokio::test]
async fn cors_preflights_and_their_answers_pass_through() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let res = gw
        .http
        .request(reqwest::Method::OPTIONS, gw.url("/svc/echo"))
        .header("Origin", "http://127.0.0.1:8080")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["method"], "OPTIONS");
    let h = &body["headers"];
    assert_eq!(h["origin"], "http://127.0.0.1:8080");
    assert_eq!(h["access-control-request-method"], "GET");
    assert_eq!(h["access-control-request-headers"], "authorization");

    let up = raw_upstream(
        b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: http://127.0.0.1:8080\r\nAccess-Control-Allow-Methods: GET\r\nAccess-Control-Allow-Headers: Authorization\r\nAccess-Control-Max-Age: 600\r\nVary: Origin\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    let gw = gateway(vec![up], |_| {}).await;
    let res = gw
        .http
        .request(reqwest::Method::OPTIONS, gw.url("/svc/countries"))
        .header("Origin", "http://127.0.0.1:8080")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    for (name, value) in [
        ("access-control-allow-origin", "http://127.0.0.1:8080"),
        ("access-control-allow-methods", "GET"),
        ("access-control-allow-headers", "Authorization"),
        ("access-control-max-age", "600"),
        ("vary", "Origin"),
    ] {
        assert_eq!(res.headers()[name], value, "{name}");
    }
}

/// What the echo upstream got in the forwarding fields, for a client that wrote its own.
async fn forwarding_fields_seen(gw: &TestGateway) -> Value {
    let res = gw
        .http
        .get(gw.url("/svc/echo"))
        .header("X-Forwarded-For", "203.0.113.9")
        .header("Forwarded", "for=203.0.113.9")
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .header("X-Real-IP", "203.0.113.9")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["headers"].clone()
}

#[tokio::test]
async fn a_clients_forwarding_fields_are_replaced() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let h = forwarding_fields_seen(&gw).await;
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-real-ip"], "127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-host"], format!("127.0.0.1:{}", gw.port));
    assert_eq!(
        h["forwarded"],
        format!("for=127.0.0.1;host=\"127.0.0.1:{}\";proto=http", gw.port)
    );
    // A peer outside the trusted ranges is no better than none.
    let gw = gateway(vec![up.base.clone()], |s| {
        s.server.trusted_proxies = vec!["10.0.0.0/8".into(), "::1".into()]
    })
    .await;
    let h = forwarding_fields_seen(&gw).await;
    assert_eq!(
        (&h["x-forwarded-for"], &h["x-real-ip"]),
        (&Value::from("127.0.0.1"), &Value::from("127.0.0.1"))
    );
}

#[tokio::test]
async fn a_trusted_proxys_forwarding_fields_are_appended_to() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |s| {
        s.server.trusted_proxies = vec!["127.0.0.0/8".into()]
    })
    .await;
    let h = forwarding_fields_seen(&gw).await;
    assert_eq!(h["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    assert_eq!(
        h["forwarded"],
        format!(
            "for=203.0.113.9, for=127.0.0.1;host=\"127.0.0.1:{}\";proto=http",
            gw.port
        )
    );
    // What the proxy in front saw of the client is kept.
    assert_eq!(h["x-forwarded-host"], "evil.example");
    assert_eq!(h["x-forwarded-proto"], "https");
    assert_eq!(h["x-real-ip"], "203.0.113.9");
}

#[tokio::test]
async fn paths_are_routed_and_forwarded_normalised() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    // `%73vc` is `svc`: routed by the decoded form, which the upstream gets.
    let (status, body) = gw
        .get_json("/%73vc/%65cho/%61b%7e/x%20y%c3%a9?q=%61&r=%2F")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["path"], "/svc/echo/ab~/x%20y%C3%A9");
    assert_eq!(body["query"], "q=%61&r=%2F", "the query is untouched");
    assert_eq!(up.hits(), 1);
    // The review's F14 example, through the default routes: one route, one upstream path.
    let gw = gateway(vec![], |s| {
        s.routes = gateway::Settings::default().routes;
        for r in &mut s.routes {
            r.upstreams = vec![up.base.clone()];
        }
    })
    .await;
    for path in ["/ms-auth-server/%61dmin/keys", "/ms-auth-server/admin/keys"] {
        let (status, body) = gw.get_json(path).await;
        assert_eq!(
            (status, body["path"].as_str()),
            (200, Some("/ms-auth-server/admin/keys")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn hop_by_hop_headers_are_dropped_both_ways() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let res = gw
        .http
        .get(gw.url("/svc/echo"))
        .header("Connection", "X-Client-Hop")
        .header("X-Client-Hop", "secret")
        .header("Proxy-Authorization", "Basic abc")
        .header("TE", "trailers")
        .header("X-Kept", "yes")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let h = body["headers"].as_object().unwrap();
    for dropped in ["x-client-hop", "proxy-authorization", "te"] {
        assert!(!h.contains_key(dropped), "{dropped} was forwarded");
    }
    assert_eq!(h["x-kept"], "yes");

    let hop = raw_upstream(
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Upstream-Hop\r\nX-Upstream-Hop: secret\r\nKeep-Alive: timeout=5\r\nX-End-To-End: kept\r\nContent-Length: 3\r\n\r\nhop",
    )
    .await;
    let gw = gateway(vec![hop], |_| {}).await;
    let res = gw.http.get(gw.url("/svc/hop")).send().await.unwrap();
    assert!(res.headers().get("x-upstream-hop").is_none());
    assert!(res.headers().get("keep-alive").is_none());
    assert_eq!(res.headers()["x-end-to-end"], "kept");
    assert_eq!(res.text().await.unwrap(), "hop");
}

#[tokio::test]
async fn large_bodies_stream_both_ways() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |s| {
        s.server.max_body_bytes = 64 * 1024 * 1024
    })
    .await;
    // 32 MiB up, sent chunked (no Content-Length), checked byte for byte by a checksum.
    let chunks: Vec<Vec<u8>> = (0..512).map(|i| vec![(i % 256) as u8; 64 * 1024]).collect();
    let expected_sum = chunks
        .iter()
        .flatten()
        .fold(0u64, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64));
    let stream = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
    let res = gw
        .http
        .post(gw.url("/svc/echo"))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["body_len"], 32 * 1024 * 1024);
    assert_eq!(body["body_sum"], expected_sum);
    // 48 MiB down, read as a stream.
    let mut res = gw.http.get(gw.url("/svc/big/48")).send().await.unwrap();
    let mut total = 0usize;
    while let Some(chunk) = res.chunk().await.unwrap() {
        total += chunk.len();
    }
    assert_eq!(total, 48 * 1024 * 1024);
}

#[tokio::test]
async fn statuses_pass_through_and_unknown_routes_are_404_json() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let (status, _) = gw.get_json("/svc/nothing-here").await;
    assert_eq!(status, 404, "the upstream's own 404");
    assert_eq!(up.hits(), 1);
    let (status, body) = gw.get_json("/elsewhere").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    assert_eq!(up.hits(), 1, "unknown routes never reach an upstream");
}

#[tokio::test]
async fn responses_stream_without_waiting_for_the_whole_body() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let started = std::time::Instant::now();
    let mut res = gw.http.get(gw.url("/svc/drip")).send().await.unwrap();
    let first = res.chunk().await.unwrap().unwrap();
    let first_at = started.elapsed();
    assert_eq!(&first[..], b"drip ");
    assert!(
        first_at < std::time::Duration::from_millis(700),
        "first chunk after {first_at:?}"
    );
    let mut rest = Vec::new();
    while let Some(chunk) = res.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"drip ");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
}

#[tokio::test]
async fn upstream_connections_are_pooled_and_kept_alive() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    for _ in 0..20 {
        assert_eq!(gw.get_json("/svc/echo").await.0, 200);
    }
    let connections = up.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        connections <= 2,
        "{connections} upstream connections for 20 sequential requests"
    );
}

#[tokio::test]
async fn a_request_id_is_created_or_kept_and_reaches_the_upstream() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let res = gw.http.get(gw.url("/svc/echo")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["headers"]["x-request-id"],
        id.as_str(),
        "the upstream got the same id"
    );
    let res = gw
        .http
        .get(gw.url("/svc/echo"))
        .header("X-Request-Id", "client-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-42");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["headers"]["x-request-id"], "client-42");
}

#[tokio::test]
async fn rfc9728_metadata_urls_reach_each_resource_at_its_own_path() {
    let up = Upstream::start().await;
    let gw = gateway(vec![], |s| {
        // The default routes, every upstream being the echo server.
        s.routes = gateway::Settings::default().routes;
        for r in &mut s.routes {
            r.upstreams = vec![up.base.clone()];
        }
    })
    .await;
    for service in ["customer-service", "country-service"] {
        let (status, body) = gw
            .get_json(&format!(
                "/.well-known/oauth-protected-resource/{service}?x=1"
            ))
            .await;
        assert_eq!(status, 200, "{service}: {body}");
        assert_eq!(
            body["path"],
            format!("/{service}/.well-known/oauth-protected-resource")
        );
        assert_eq!(body["query"], "x=1");
    }
    // RFC 8414's form for the authorization server, as before.
    let (_, body) = gw
        .get_json("/.well-known/oauth-authorization-server/ms-auth-server")
        .await;
    assert_eq!(
        body["path"],
        "/ms-auth-server/.well-known/oauth-authorization-server"
    );
    let (status, _) = gw.get_json("/.well-known/oauth-protected-resource").await;
    assert_eq!(status, 404, "no resource at the bare well-known name");
}

/// What the echo upstream got of a caller's W3C Trace Context (no trace export in this process,
/// so the gateway injects none of its own).
async fn trace_context_seen(gw: &TestGateway) -> (Value, Value) {
    let res = gw
        .http
        .get(gw.url("/svc/echo"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("tracestate", "vendor=abc")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let h = &body["headers"];
    (h["traceparent"].clone(), h["tracestate"].clone())
}

#[tokio::test]
async fn a_callers_trace_context_is_dropped_unless_trusted() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    assert_eq!(trace_context_seen(&gw).await, (Value::Null, Value::Null));
    let gw = gateway(vec![up.base.clone()], |s| {
        s.server.trust_incoming_trace_context = true
    })
    .await;
    assert_eq!(
        trace_context_seen(&gw).await,
        (
            Value::from("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Value::from("vendor=abc")
        )
    );
}
