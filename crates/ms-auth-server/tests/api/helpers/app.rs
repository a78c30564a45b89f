//! Starting apps (through `ms_auth_server::testing`, the harness `test-support` shares) and
//! plain requests to them.

use ms_auth_server::{
    Settings,
    clock::{Clock, ManualClock},
    testing::{self, Spawned},
};
use serde_json::Value;

pub use ms_auth_server::testing::wait_for_status;

use super::{ADMIN_TOKEN, playground_settings};

/// A running app, with a client that follows no redirect.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, without the context path.
    pub base: String,
    /// The management listener: `/health…`, `/metrics`.
    pub management: String,
    pub http: reqwest::Client,
    server: Spawned,
}

impl TestApp {
    /// Starts an app with `settings` on a free port, on the system clock.
    pub async fn spawn(settings: Settings) -> Self {
        Self::spawn_with(settings, Clock::system()).await
    }

    /// Starts an app whose "now" is `clock`'s: the test moves time instead of sleeping.
    pub async fn spawn_at(settings: Settings, clock: &ManualClock) -> Self {
        Self::spawn_with(settings, clock.clock()).await
    }

    async fn spawn_with(settings: Settings, clock: Clock) -> Self {
        let server = testing::spawn_with(settings, clock).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base: server.origin.clone(),
            management: server.management.clone(),
            http,
            server,
        }
    }

    pub async fn playground() -> Self {
        Self::spawn(playground_settings()).await
    }

    /// Stops the app, letting requests in flight finish.
    pub async fn stop(self) {
        self.server.stop().await;
    }

    /// `path` under the playground's context path, `/ms-auth-server` (a test that moves the
    /// context path checks that this URL stops answering).
    pub fn url(&self, path: &str) -> String {
        format!("{}/ms-auth-server{path}", self.base)
    }

    pub async fn get_json(
        &self,
        path: &str,
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
        let res = self.http.get(self.url(path)).send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.json().await.unwrap())
    }

    /// The published key set (`GET /oauth2/jwks`).
    pub async fn jwks(&self) -> Value {
        let (status, _, jwks) = self.get_json("/oauth2/jwks").await;
        assert_eq!(status, 200);
        jwks
    }

    /// The `kid`s the JWKS publishes, in its order.
    pub async fn published_kids(&self) -> Vec<String> {
        self.jwks().await["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    /// `method path` with the admin token [`with_admin`](super::with_admin) configures.
    pub async fn as_admin(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.call(method, path, Some(ADMIN_TOKEN)).await
    }

    /// `method path`, with `bearer` as the bearer token when given (the admin endpoints).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}
