//! Slow clients cost only their own connection (review F5): small bodies are read before an
//! upstream is asked, every body has a deadline or a minimum rate, and a full route answers
//! 503 at once instead of queueing.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::*;

/// A POST to `/svc/echo` declaring `len` body bytes, sending `first` at once and then a byte
/// every `every`: the status it got and when.
async fn trickle(port: u16, len: usize, first: usize, every: Duration) -> (u16, Duration) {
    trickle_to(port, "/svc/echo", len, first, every).await
}

/// As [`trickle`], to `path`.
async fn trickle_to(
    port: u16,
    path: &str,
    len: usize,
    first: usize,
    every: Duration,
) -> (u16, Duration) {
    let started = Instant::now();
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n\r\n");
    write.write_all(head.as_bytes()).await.unwrap();
    write.write_all(&vec![b'a'; first]).await.unwrap();
    let writer = tokio::spawn(async move {
        for _ in first..len {
            tokio::time::sleep(every).await;
            if write.write_all(b"a").await.is_err() {
                break;
            }
        }
    });
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), read.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap_or(0);
    writer.abort();
    let status = String::from_utf8_lossy(&buf[..n])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

fn summary(label: &str, mut d: Vec<Duration>) -> Duration {
    d.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "{label}: n={} min={:.1} ms median={:.1} ms max={:.1} ms",
        d.len(),
        ms(d[0]),
        ms(d[d.len() / 2]),
        ms(d[d.len() - 1])
    );
    d[d.len() - 1]
}

#[tokio::test]
async fn six_hundred_trickling_uploads_starve_no_one() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |s| s.server.body_timeout_ms = 3_000).await;
    let trickles: Vec<_> = (0..600)
        .map(|_| tokio::spawn(trickle(gw.port, 16_000, 0, Duration::from_millis(300))))
        .collect();
    // Every connection is open and trickling.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (mut posts, mut gets) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let t = Instant::now();
        let res = gw
            .http
            .post(gw.url("/svc/echo"))
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        posts.push(t.elapsed());
        assert_eq!(body["body_len"], 29);
        let t = Instant::now();
        assert_eq!(gw.get_json("/svc/echo").await.0, 200);
        gets.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let worst_post = summary("POST with a small body, during 600 trickles", posts);
    let worst_get = summary("GET, during 600 trickles", gets);
    let mut outcomes = Vec::new();
    for t in trickles {
        outcomes.push(t.await.unwrap());
    }
    let slow: Vec<Duration> = outcomes.iter().map(|(_, d)| *d).collect();
    summary("trickling uploads, until their 408", slow);
    assert!(worst_post < Duration::from_secs(1), "{worst_post:?}");
    assert!(worst_get < Duration::from_secs(1), "{worst_get:?}");
    assert!(
        outcomes.iter().all(|(status, _)| *status == 408),
        "{:?}",
        outcomes
            .iter()
            .filter(|(s, _)| *s != 408)
            .take(5)
            .collect::<Vec<_>>()
    );
    assert_eq!(up.connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(up.hits(), 20, "no trickling body reached the upstream");
}

/// F5 with the real services: 600 connections trickling token-request bodies through the
/// gateway, while a token request and a country GET through it still answer within a second.
#[actix_web::test]
async fn six_hundred_trickles_leave_the_real_services_answering() {
    use crate::procs::{Proc, free_port, playground_config, wait_ok};
    let (auth, country, gw) = (free_port(), free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("slow-real-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports = [
        ("9000", auth.to_string()),
        ("8082", country.to_string()),
        ("8085", gw.to_string()),
    ];
    let env = [
        ("MS_AUTH_SERVER__STORE__URL", "memory"),
        ("GATEWAY__SERVER__BODY_TIMEOUT_MS", "3000"),
    ];
    let mut procs: Vec<Proc> = ["ms-auth-server", "country-service", "gateway"]
        .into_iter()
        .map(|name| {
            let config = playground_config(&dir, &format!("{name}.toml"), &ports);
            Proc::start(name, &config, &env, &dir)
        })
        .collect();
    let http = reqwest::Client::new();
    for p in &procs {
        wait_ok(&http, &p.management_url("/health/ready")).await;
    }
    let base = format!("http://127.0.0.1:{gw}");
    let trickles: Vec<_> = (0..600)
        .map(|_| {
            tokio::spawn(trickle_to(
                gw,
                "/ms-auth-server/oauth2/token",
                16_000,
                0,
                Duration::from_millis(300),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (mut tokens, mut gets) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let t = Instant::now();
        let res = http
            .post(format!("{base}/ms-auth-server/oauth2/token"))
            .basic_auth("service-client-jwt", Some("service-client-jwt-secret"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "country.read"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        tokens.push(t.elapsed());
        let token = body["access_token"].as_str().unwrap().to_owned();
        let t = Instant::now();
        let res = http
            .get(format!("{base}/country-service/countries/DE"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        gets.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let worst_token = summary("token request, during 600 trickles (real services)", tokens);
    let worst_get = summary("country GET, during 600 trickles (real services)", gets);
    let mut outcomes = Vec::new();
    for t in trickles {
        outcomes.push(t.await.unwrap().0);
    }
    for p in &mut procs {
        p.stop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(worst_token < Duration::from_secs(1), "{worst_token:?}");
    assert!(worst_get < Duration::from_secs(1), "{worst_get:?}");
    assert!(outcomes.iter().all(|s| *s == 408), "{:?}", &outcomes[..5]);
}

#[tokio::test]
async fn a_small_body_is_all_read_before_the_upstream_is_asked() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |_| {}).await;
    let upload = tokio::spawn(trickle(gw.port, 6, 0, Duration::from_millis(100)));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        up.connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "an upstream connection was taken for an unfinished small body"
    );
    let (status, _) = upload.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(up.hits(), 1);
}

#[tokio::test]
async fn a_small_body_past_its_deadline_is_408_json() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |s| s.server.body_timeout_ms = 500).await;
    let mut stream = TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
    stream
        .write_all(b"POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b")
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("an answer, then the connection closed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\":\"request_timeout\""), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(up.hits(), 0);
}

#[tokio::test]
async fn a_streamed_body_under_the_minimum_rate_is_408() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |s| {
        s.server.buffer_body_bytes = 1_024;
        s.server.body_timeout_ms = 500;
        s.server.min_body_bytes_per_sec = 1_000;
    })
    .await;
    // 1,100 bytes at once earn 1.1 s after the first 0.5 s; then a byte a second is too slow.
    let (status, took) = trickle(gw.port, 100_000, 1_100, Duration::from_secs(1)).await;
    assert_eq!(status, 408);
    assert!(
        took > Duration::from_millis(1_400) && took < Duration::from_millis(3_000),
        "{took:?}"
    );
    // Fast large bodies stream on as before.
    let res = gw
        .http
        .post(gw.url("/svc/echo"))
        .body(vec![b'a'; 200_000])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["body_len"], 200_000);
}

#[tokio::test]
async fn a_full_route_is_503_at_once_and_other_routes_still_serve() {
    let up = Upstream::start().await;
    let gw = gateway(vec![up.base.clone()], |s| {
        s.upstream.max_requests_per_route = 2;
        s.upstream.queue_timeout_ms = 200;
        s.routes.push(gateway::settings::RouteSettings {
            prefix: "/other/".into(),
            upstream_prefix: Some("/svc/".into()),
            upstreams: vec![up.base.clone()],
        });
    })
    .await;
    let slow: Vec<_> = (0..2)
        .map(|_| {
            let (http, url) = (gw.http.clone(), gw.url("/svc/slow"));
            tokio::spawn(async move { http.get(url).send().await.unwrap().status().as_u16() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let res = gw.http.get(gw.url("/svc/echo")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "service_unavailable");
    assert!(started.elapsed() < Duration::from_millis(700));
    assert_eq!(gw.get_json("/other/echo").await.0, 200, "another route");
    for s in slow {
        assert_eq!(s.await.unwrap(), 200);
    }
    assert_eq!(gw.get_json("/svc/echo").await.0, 200, "slots come back");
}
