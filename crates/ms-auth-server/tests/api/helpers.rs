//! Starting apps and talking to them.

use std::path::PathBuf;

use base64::{Engine, engine::general_purpose::STANDARD};
use ms_auth_server::{
    App, Settings,
    oauth::{
        client::{AuthMethod, GrantType},
        scope::ScopeSet,
        secret::ClientSecret,
    },
    settings::ClientSettings,
};
use serde_json::Value;

pub const PLAYGROUND_CLIENT: &str = "service-client-jwt";
pub const PLAYGROUND_SECRET: &str = "service-client-jwt-secret";

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The playground's own config file, on a free port.
pub fn playground_settings() -> Settings {
    let mut settings = Settings::load(Some(
        &workspace_root().join("deploy/playground/ms-auth-server.toml"),
    ))
    .expect("playground config");
    settings.server.port = 0;
    settings.store.url = "memory".to_owned();
    settings
}

/// A client registered for client_credentials, with the given methods, scopes and secret.
pub fn client(id: &str, secret: &str, methods: &[AuthMethod], scopes: &str) -> ClientSettings {
    let scopes = ScopeSet::parse_param(scopes).unwrap();
    ClientSettings::confidential(
        id,
        ClientSecret::new(secret),
        ms_auth_server::oauth::client::ClientMetadata::new()
            .grant(GrantType::ClientCredentials)
            .methods(methods.iter().copied())
            .scope(scopes.clone())
            .default_scopes(scopes)
            .access_token_ttl_secs(3600),
    )
}

/// The playground config plus `extra` clients.
pub fn playground_with(extra: impl IntoIterator<Item = ClientSettings>) -> Settings {
    let mut settings = playground_settings();
    settings.clients.extend(extra);
    settings
}

pub struct TestApp {
    pub base: String,
    /// The management listener: `/health…`, `/metrics`.
    pub management: String,
    pub http: reqwest::Client,
}

impl TestApp {
    /// Starts an app with `settings` on a free port.
    pub async fn spawn(settings: Settings) -> Self {
        let app = App::build(settings).await.expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let management = format!("http://127.0.0.1:{}", app.management_port());
        tokio::spawn(app.run());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base,
            management,
            http,
        }
    }

    pub async fn playground() -> Self {
        Self::spawn(playground_settings()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/ms-auth-server{path}", self.base)
    }

    /// `POST /oauth2/token` with a raw form body.
    pub async fn token_form(&self, body: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// `POST /oauth2/token` with HTTP Basic (`id:secret` as given, not url-encoded) and a form body.
    pub async fn token_basic(&self, id_secret: &str, body: &str) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/token"))
            .header("Authorization", basic(id_secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(
        &self,
        path: &str,
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
        let res = self.http.get(self.url(path)).send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.json().await.unwrap())
    }
}

/// Polls `url` until it answers `status` (readiness answers are reused for about a second).
pub async fn wait_for_status(url: &str, status: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = reqwest::get(url).await.map(|r| r.status().as_u16());
        if got.as_ref().is_ok_and(|s| *s == status) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url} answered {got:?}, not {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub fn basic(id_secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(id_secret))
}

/// Status, headers and JSON body of a response.
pub async fn parts(res: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.expect("JSON body");
    (status, headers, body)
}

/// Asserts an RFC 6749 §5.2 error response and returns its description.
pub async fn assert_oauth_error(res: reqwest::Response, status: u16, code: &str) -> String {
    let (got_status, headers, body) = parts(res).await;
    assert_eq!(
        (got_status, body["error"].as_str()),
        (status, Some(code)),
        "body: {body}"
    );
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    body["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub fn header(headers: &reqwest::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
