//! A provider of the test's own: OpenID metadata, a JWKS of keys the test holds, and a token
//! endpoint answering with whatever ID token the test signed. It sends what a real provider
//! never would (a wrong audience, a foreign signature), so the app's refusals can be seen.

use std::sync::{Arc, Mutex};

use actix_web::{HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::JwkSet;
use ms_auth_server::keys::{SigningAlgorithm, SigningKey, Typ};
use serde_json::{Value, json};

use super::{Browser, SampleApp, spawn_app};

pub const CLIENT: &str = "playground-web";

#[derive(Default)]
struct Shared {
    /// The keys the JWKS publishes.
    published: Vec<jsonwebtoken::jwk::Jwk>,
    /// The next token response's `id_token`.
    id_token: Option<String>,
    jwks_fetches: usize,
}

pub struct TestProvider {
    pub issuer: String,
    /// The key the JWKS publishes (others can be added).
    pub key: SigningKey,
    shared: Arc<Mutex<Shared>>,
}

impl TestProvider {
    /// Serves the provider on a free port.
    pub async fn start() -> Self {
        let key = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
        let shared = Arc::new(Mutex::new(Shared {
            published: vec![key.jwk().clone()],
            ..Shared::default()
        }));
        let state = web::Data::new(Arc::clone(&shared));
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(state.clone())
                .route("/.well-known/openid-configuration", web::get().to(metadata))
                .route("/jwks", web::get().to(jwks))
                .route("/token", web::post().to(token))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let issuer = format!("http://{}", server.addrs()[0]);
        tokio::spawn(server.run());
        Self {
            issuer,
            key,
            shared,
        }
    }

    /// Publishes `key` too (a rotation).
    pub fn publish(&self, key: &SigningKey) {
        self.shared
            .lock()
            .unwrap()
            .published
            .push(key.jwk().clone());
    }

    pub fn jwks_fetches(&self) -> usize {
        self.shared.lock().unwrap().jwks_fetches
    }

    /// The token endpoint's next ID token.
    pub fn answer_with(&self, id_token: String) {
        self.shared.lock().unwrap().id_token = Some(id_token);
    }

    /// ID token claims for alice at this provider, with `nonce`.
    pub fn id_claims(&self, nonce: &str, sid: &str) -> Value {
        let now = now();
        json!({
            "iss": self.issuer, "aud": CLIENT, "sub": "alice-id", "sid": sid,
            "name": "Alice Example", "iat": now, "exp": now + 300, "nonce": nonce,
        })
    }

    /// Logout token claims (Back-Channel Logout §2.4) for provider session `sid`.
    pub fn logout_claims(&self, sid: &str) -> Value {
        let now = now();
        json!({
            "iss": self.issuer, "aud": CLIENT, "iat": now, "exp": now + 120,
            "jti": uuid(), "sid": sid, "sub": "alice-id",
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        })
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn uuid() -> String {
    sample_client::random::token()
}

/// `key`'s signature over `claims` as a JWT of kind `typ`.
pub fn sign(key: &SigningKey, typ: Typ, claims: &Value) -> String {
    key.sign(typ, claims).unwrap()
}

async fn metadata(req: actix_web::HttpRequest) -> HttpResponse {
    let issuer = format!("http://{}", req.connection_info().host());
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn jwks(shared: web::Data<Arc<Mutex<Shared>>>) -> HttpResponse {
    let mut s = shared.lock().unwrap();
    s.jwks_fetches += 1;
    HttpResponse::Ok().json(JwkSet {
        keys: s.published.clone(),
    })
}

async fn token(shared: web::Data<Arc<Mutex<Shared>>>) -> HttpResponse {
    let id_token = shared.lock().unwrap().id_token.take();
    HttpResponse::Ok().json(json!({
        "access_token": "test-access-token", "token_type": "Bearer", "expires_in": 300,
        "refresh_token": "test-refresh-token", "id_token": id_token,
    }))
}

/// The sample app against a [`TestProvider`].
pub struct WithTestProvider {
    pub op: TestProvider,
    pub app: SampleApp,
}

impl WithTestProvider {
    pub async fn start() -> Self {
        let op = TestProvider::start().await;
        let app = spawn_app(&op.issuer, None).await;
        Self { op, app }
    }

    /// Starts a sign-in in `browser` and comes back to the callback with the ID token that
    /// `id_token(nonce)` makes: the callback's response.
    pub async fn sign_in_with(
        &self,
        browser: &Browser,
        id_token: impl FnOnce(&str) -> String,
    ) -> reqwest::Response {
        // POST /login as its form does (signed in already, the page shows no such form).
        browser.open(&self.app.url("/")).await;
        let csrf = browser.cookie(&self.app.url("/"), "sample_csrf").unwrap();
        let res = browser
            .http
            .post(self.app.url("/login"))
            .form(&[("csrf_token", csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let authorize = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
        let param = |name: &str| {
            authorize
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        self.op.answer_with(id_token(&param("nonce")));
        let callback = format!(
            "{}?code=c0de&state={}&iss={}",
            self.app.url("/login/oauth2/code/playground-web"),
            param("state"),
            url::form_urlencoded::byte_serialize(self.op.issuer.as_bytes()).collect::<String>()
        );
        browser.get(&callback).await
    }

    /// Alice signed in with a good ID token of provider session `sid`.
    pub async fn signed_in(&self, browser: &Browser, sid: &str) {
        let res = self
            .sign_in_with(browser, |nonce| {
                sign(&self.op.key, Typ::IdToken, &self.op.id_claims(nonce, sid))
            })
            .await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
        assert!(self.app.state.store.count_for("alice-id") >= 1);
    }
}
