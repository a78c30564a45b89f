//! Limits and odd input: 413, 431, dot segments, bad bytes, absolute-form targets.

use crate::helpers::*;

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |s| s.server.max_body_bytes = 1024).await;
    let res = gw
        .http
        .post(gw.url("/svc/echo"))
        .body(vec![b'a'; 2048])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(up.hits(), 0, "refused before reaching the upstream");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");
    // Chunked: found out while streaming.
    let stream =
        futures_util::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 512])));
    let res = gw
        .http
        .post(gw.url("/svc/echo"))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    // At the limit is fine.
    let res = gw
        .http
        .post(gw.url("/svc/echo"))
        .body(vec![b'a'; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn huge_headers_are_431() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let res = gw
        .http
        .get(gw.url("/svc/echo"))
        .header("X-Big", "a".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 431);
    // Past what the HTTP parser buffers at all: still an answer, not a hang.
    let status = raw_status(
        gw.port,
        format!(
            "GET /svc/echo HTTP/1.1\r\nHost: x\r\nX-Huge: {}\r\n\r\n",
            "b".repeat(200 * 1024)
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 431);
    assert_eq!(up.hits(), 0);
}

#[tokio::test]
async fn dot_segments_are_refused() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    for path in [
        "/svc/../etc/passwd",
        "/svc/./echo",
        "/svc/%2e%2e/x",
        "/svc/.%2E/x",
        "/svc/%2E",
    ] {
        let status = raw_status(
            gw.port,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(status, 400, "{path}");
    }
    assert_eq!(up.hits(), 0);
}

#[tokio::test]
async fn encoded_slashes_backslashes_and_nul_are_400_json() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    for path in [
        "/svc/echo%2Fx",
        "/svc%2fecho",
        "/svc/echo%5Cx",
        "/svc/echo%5cx",
        "/svc/echo\\x",
        "/svc/echo%00x",
        "/svc/echo%zz",
        "/svc/echo%2",
    ] {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", gw.port))
            .await
            .unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut answer),
        )
        .await
        .expect("an answer")
        .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(
            answer.contains("\"error\":\"bad_request\""),
            "{path}: {answer}"
        );
    }
    assert_eq!(up.hits(), 0);
}

#[tokio::test]
async fn odd_targets_get_an_answer_never_a_crash() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    // Bad UTF-8 in the path: routed as bytes, the upstream answers.
    let status = raw_status(
        gw.port,
        b"GET /svc/echo/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert!(status == 200 || status == 400, "{status}");
    // Absolute-form: only the path is used; the authority never chooses the upstream.
    let status = raw_status(
        gw.port,
        b"GET http://evil.example/svc/echo HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200);
    let status = raw_status(
        gw.port,
        b"GET http://evil.example/other HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    )
    .await;
    assert_eq!(status, 404);
    // Garbage request line.
    let status = raw_status(gw.port, b"\x00\x01 nonsense\r\n\r\n").await;
    assert_eq!(status, 400);
    // The gateway still serves.
    assert_eq!(gw.get_json("/svc/echo").await.0, 200);
}

/// The series on a metrics page, values left out.
fn series(page: &str) -> std::collections::BTreeSet<String> {
    page.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s).to_owned())
        .collect()
}

#[tokio::test]
async fn invented_methods_are_501_and_mint_no_metric_series() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let invented = || {
        let token = format!("X{}", uuid::Uuid::new_v4().simple()).to_ascii_uppercase();
        reqwest::Method::from_bytes(token.as_bytes()).unwrap()
    };
    let send = |method: reqwest::Method| gw.http.request(method, gw.url("/svc/echo")).send();
    // The first one creates the `_OTHER` series; from then on nothing may grow.
    let res = send(invented()).await.unwrap();
    assert_eq!(res.status(), 501);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_implemented");
    let before = gw.metrics_page().await;
    for _ in 0..1_000 {
        assert_eq!(send(invented()).await.unwrap().status(), 501);
    }
    let after = gw.metrics_page().await;
    eprintln!(
        "metrics page: {} bytes before, {} bytes after 1,000 invented methods",
        before.len(),
        after.len()
    );
    assert_eq!(series(&before), series(&after), "new series appeared");
    // Only counter values grow (a few digits), never a series per method.
    assert!(
        after.len().abs_diff(before.len()) < 256,
        "{} -> {}",
        before.len(),
        after.len()
    );
    let refused = service_kit::metrics::sample(
        &after,
        "http_requests_total",
        &[("method", "_OTHER"), ("status", "501")],
    );
    assert_eq!(refused, Some(1_001.0), "{after}");
    assert_eq!(up.hits(), 0, "never routed");
    // Standard methods, lower-case ones being distinct tokens (RFC 9110 §9.1), still pass.
    assert_eq!(gw.get_json("/svc/echo").await.0, 200);
    let lower = reqwest::Method::from_bytes(b"get").unwrap();
    assert_eq!(send(lower).await.unwrap().status(), 501);
}
