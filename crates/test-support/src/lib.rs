//! Helpers for the resource services' integration tests (a dev-dependency only): a real
//! ms-auth-server with the playground config on a free port, tokens from its token endpoint
//! over HTTP, and replies read into status, headers and JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{future::Future, path::PathBuf, time::Duration};

use serde_json::Value;

pub const CLIENT: &str = "service-client-jwt";
pub const SECRET: &str = "service-client-jwt-secret";

/// The workspace root, to find `deploy/playground/`.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running ms-auth-server started with the playground config.
pub struct AuthServer {
    pub base: String,
    pub http: reqwest::Client,
}

impl AuthServer {
    pub async fn start() -> Self {
        let path = workspace_root().join("deploy/playground/ms-auth-server.toml");
        let mut settings = ms_auth_server::Settings::load(Some(&path)).unwrap();
        settings.server.port = 0;
        settings.store.url = "memory".to_owned();
        let app = ms_auth_server::App::build(settings).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run());
        Self {
            base,
            http: reqwest::Client::new(),
        }
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/ms-auth-server/oauth2/jwks", self.base)
    }

    /// An access token for the playground client with `scope`, from the token endpoint.
    pub async fn token(&self, scope: &str) -> String {
        let res = self
            .http
            .post(format!("{}/ms-auth-server/oauth2/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_secret", SECRET),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

/// A JWKS URL where nothing listens: a service pointed there never gets keys.
pub fn dead_jwks_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/jwks")
}

/// A started service's two listeners.
#[derive(Debug, Clone)]
pub struct Spawned {
    /// The public base URL, context path included.
    pub base: String,
    /// The management listener's base URL (`/health…`, `/metrics`).
    pub management: String,
}

impl Spawned {
    pub fn new(context_path: &str, port: u16, management_port: u16) -> Self {
        Self {
            base: format!("http://127.0.0.1:{port}{context_path}"),
            management: format!("http://127.0.0.1:{management_port}"),
        }
    }

    /// Waits until the service's readiness answers 200.
    pub async fn wait_ready(&self) {
        wait_ready(
            &reqwest::Client::new(),
            &format!("{}/health/ready", self.management),
        )
        .await;
    }
}

/// A real ms-auth-server and a resource service pointed at its JWKS, ready to serve.
pub struct Stack {
    pub auth: AuthServer,
    /// The service's base URL, context path included.
    pub base: String,
    /// The service's management listener.
    pub management: String,
    pub http: reqwest::Client,
}

impl Stack {
    /// Starts the auth server, then the service through `spawn(jwks_url)`, and waits until
    /// the service has the keys.
    pub async fn start<F, Fut>(spawn: F) -> Self
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Spawned>,
    {
        let auth = AuthServer::start().await;
        let spawned = spawn(auth.jwks_url()).await;
        spawned.wait_ready().await;
        Self {
            auth,
            base: spawned.base,
            management: spawned.management,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A URL on the service's management listener.
    pub fn management_url(&self, path: &str) -> String {
        format!("{}{path}", self.management)
    }

    pub async fn token(&self, scope: &str) -> String {
        self.auth.token(scope).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        send(&self.http, &self.base, method, path, token, body).await
    }
}

/// Polls `url` until it answers 200 (up to 5 s): a service's readiness once it has the keys.
pub async fn wait_ready(http: &reqwest::Client, url: &str) {
    for _ in 0..100 {
        if http.get(url).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never became ready");
}

/// A response read whole.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn of(res: reqwest::Response) -> Self {
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        let text = res.text().await.unwrap();
        Self {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// The `WWW-Authenticate` challenge, or "".
    pub fn challenge(&self) -> &str {
        self.headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}

/// Sends `method path` to `base`, with a bearer token and a JSON body when given.
pub async fn send(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = http.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    Reply::of(req.send().await.unwrap()).await
}
