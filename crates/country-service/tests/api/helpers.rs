//! A real ms-auth-server (playground config) and country-service pointed at its JWKS.

use std::{path::PathBuf, time::Duration};

use serde_json::Value;

pub const CLIENT: &str = "service-client-jwt";
pub const SECRET: &str = "service-client-jwt-secret";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct Stack {
    pub auth: String,
    pub base: String,
    pub http: reqwest::Client,
}

impl Stack {
    /// ms-auth-server, then country-service, both on free ports; returns once the service
    /// has the keys.
    pub async fn start() -> Self {
        let mut auth = ms_auth_server::Settings::load(Some(
            &root().join("deploy/playground/ms-auth-server.toml"),
        ))
        .unwrap();
        auth.server.port = 0;
        let auth = ms_auth_server::App::build(auth).await.unwrap();
        let auth_base = format!("http://127.0.0.1:{}", auth.port());
        tokio::spawn(auth.run());
        let mut settings = country_service::Settings::load(Some(
            &root().join("deploy/playground/country-service.toml"),
        ))
        .unwrap();
        settings.server.port = 0;
        settings.auth.jwks_url = Some(format!("{auth_base}/ms-auth-server/oauth2/jwks"));
        let app = country_service::App::build(settings).await.unwrap();
        let base = format!("http://127.0.0.1:{}/country-service", app.port());
        tokio::spawn(app.run());
        let stack = Self {
            auth: auth_base,
            base,
            http: reqwest::Client::new(),
        };
        for _ in 0..100 {
            if stack
                .http
                .get(stack.url("/health/ready"))
                .send()
                .await
                .unwrap()
                .status()
                == 200
            {
                return stack;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("country-service never got the keys");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn token(&self, scope: &str) -> String {
        let res = self
            .http
            .post(format!("{}/ms-auth-server/oauth2/token", self.auth))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_secret", SECRET),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::of(req.send().await.unwrap()).await
    }
}

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

    pub fn challenge(&self) -> &str {
        self.headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}
