//! A real ms-auth-server (playground config) and customer-service pointed at its JWKS.

pub use test_support::Reply;
use test_support::{AuthServer, send, wait_ready, workspace_root};

pub struct Stack {
    pub auth: AuthServer,
    pub base: String,
    pub http: reqwest::Client,
}

impl Stack {
    /// ms-auth-server, then customer-service, both on free ports; returns once the service has the keys.
    pub async fn start() -> Self {
        let auth = AuthServer::start().await;
        let mut settings = customer_service::Settings::load(Some(
            &workspace_root().join("deploy/playground/customer-service.toml"),
        ))
        .unwrap();
        settings.server.port = 0;
        settings.auth.jwks_url = Some(auth.jwks_url());
        let app = customer_service::App::build(settings).await.unwrap();
        let base = format!("http://127.0.0.1:{}/customer-service", app.port());
        tokio::spawn(app.run());
        let http = reqwest::Client::new();
        wait_ready(&http, &format!("{base}/health/ready")).await;
        Self { auth, base, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn token(&self, scope: &str) -> String {
        self.auth.token(scope).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        send(&self.http, &self.base, method, path, token, body).await
    }
}
