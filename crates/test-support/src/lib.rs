//! Helpers for the resource services' integration tests (a dev-dependency only): a real
//! ms-auth-server with the playground config on a free port, tokens from its token endpoint
//! over HTTP, and replies read into status, headers and JSON. Loading the playground and
//! starting the server are `ms_auth_server::testing`'s, which ms-auth-server's own tests use.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{future::Future, time::Duration};

use ms_auth_server::testing;
use serde_json::Value;

pub use ms_auth_server::testing::{
    PLAYGROUND_CLIENT as CLIENT, PLAYGROUND_SECRET as SECRET, workspace_root,
};

/// A running ms-auth-server started with the playground config.
pub struct AuthServer {
    /// `http://127.0.0.1:PORT`, without the context path.
    pub base: String,
    pub http: reqwest::Client,
    server: testing::Spawned,
}

impl AuthServer {
    pub async fn start() -> Self {
        let server = testing::spawn(testing::playground_settings()).await;
        Self {
            base: server.origin.clone(),
            http: reqwest::Client::new(),
            server,
        }
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/oauth2/jwks", self.server.base)
    }

    /// An access token for the playground client with `scope`, from the token endpoint.
    pub async fn token(&self, scope: &str) -> String {
        let res = self
            .http
            .post(format!("{}/oauth2/token", self.server.base))
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
        wait_ready(&format!("{}/health/ready", self.management)).await;
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
pub async fn wait_ready(url: &str) {
    testing::wait_for(url, 200, Duration::from_secs(5)).await;
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
