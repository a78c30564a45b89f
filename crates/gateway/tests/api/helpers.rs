//! An echo upstream, and a gateway in front of it.

use std::{
    net::TcpListener,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use gateway::{App, Settings, settings::RouteSettings};
use serde_json::json;

/// An upstream that answers under `/svc/…`: `/svc/echo` (and any `/{service}/.well-known/{name}`
/// or `/{service}/admin/…`) describes the request it got,
/// `/svc/big/{n}` streams n MiB, `/svc/slow` answers after 3 s. It counts the requests it served.
pub struct Upstream {
    pub base: String,
    pub hits: Arc<AtomicUsize>,
    /// TCP connections accepted.
    pub connections: Arc<AtomicUsize>,
}

async fn echo(req: HttpRequest, mut body: web::Payload) -> HttpResponse {
    let mut len = 0usize;
    let mut sum = 0u64;
    // A body the gateway broke off ends here (the answer goes nowhere).
    while let Some(Ok(chunk)) = body.next().await {
        len += chunk.len();
        sum = chunk
            .iter()
            .fold(sum, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64));
    }
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                json!(v.to_str().unwrap_or("<bytes>")),
            )
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "method": req.method().as_str(), "path": req.path(), "query": req.query_string(),
        "headers": headers, "body_len": len, "body_sum": sum,
    }))
}

async fn big(n: web::Path<usize>) -> HttpResponse {
    let chunks = futures_util::stream::iter(
        (0..n.into_inner() * 16)
            .map(|i| Ok::<_, std::io::Error>(web::Bytes::from(vec![(i % 251) as u8; 64 * 1024]))),
    );
    HttpResponse::Ok().streaming(chunks)
}

impl Upstream {
    pub async fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::clone(&connections);
        let server = actix_web::HttpServer::new(move || {
            let counter = Arc::clone(&counter);
            actix_web::App::new()
                .wrap_fn(move |req, srv| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    actix_web::dev::Service::call(srv, req)
                })
                .app_data(web::PayloadConfig::new(usize::MAX))
                .route("/svc/echo", web::to(echo))
                .route("/svc/echo/{tail:.*}", web::to(echo))
                .route("/{service}/.well-known/{name}", web::to(echo))
                .route("/{service}/admin/{tail:.*}", web::to(echo))
                .route("/svc/big/{n}", web::get().to(big))
                .route(
                    "/svc/drip",
                    web::get().to(|| async {
                        // One chunk now, the rest a second later.
                        let chunks =
                            futures_util::stream::iter([0u64, 1000]).then(|delay| async move {
                                tokio::time::sleep(Duration::from_millis(delay)).await;
                                Ok::<_, std::io::Error>(web::Bytes::from_static(b"drip "))
                            });
                        HttpResponse::Ok().streaming(chunks)
                    }),
                )
                .route(
                    "/svc/slow",
                    web::get().to(|| async {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        HttpResponse::Ok().body("late")
                    }),
                )
        })
        .on_connect(move |_, _| {
            accepted.fetch_add(1, Ordering::SeqCst);
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self {
            base: format!("http://127.0.0.1:{port}"),
            hits,
            connections,
        }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// An upstream written by hand, answering every request with `response` verbatim: actix-web
/// would not let a test send hop-by-hop fields such as `Connection`.
pub async fn raw_upstream(response: &'static [u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(response).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// An address where nothing listens.
pub fn dead_upstream() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

pub struct TestGateway {
    pub base: String,
    pub port: u16,
    /// `http://127.0.0.1:{management port}`: health and metrics.
    pub management: String,
    pub http: reqwest::Client,
}

/// A gateway routing `/svc/` to `upstreams`, with `tweak` applied to its settings.
pub async fn gateway(upstreams: Vec<String>, tweak: impl FnOnce(&mut Settings)) -> TestGateway {
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.server.workers = Some(1);
    settings.management.port = Some(0);
    settings.routes = vec![RouteSettings {
        prefix: "/svc/".into(),
        upstream_prefix: None,
        upstreams,
    }];
    tweak(&mut settings);
    let app = App::build(settings).await.unwrap();
    let port = app.port();
    let management = format!("http://127.0.0.1:{}", app.management_port());
    // `run` serves the management listener on the current actix system: give it one.
    std::thread::spawn(move || actix_web::rt::System::new().block_on(app.run()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestGateway {
        base: format!("http://127.0.0.1:{port}"),
        port,
        management,
        http,
    }
}

impl TestGateway {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The management listener's `/metrics` page.
    pub async fn metrics_page(&self) -> String {
        let res = self
            .http
            .get(format!("{}/metrics", self.management))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.text().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.http.get(self.url(path)).send().await.unwrap();
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(serde_json::Value::Null),
        )
    }
}

/// Sends raw bytes over TCP and returns the status line's code (the gateway answers and
/// closes, or answers and the read times out).
pub async fn raw_status(port: u16, request: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
