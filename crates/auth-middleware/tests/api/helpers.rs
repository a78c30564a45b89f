//! A real ms-auth-server (with a key file the test can also sign with) and a small resource
//! server protected by the middleware, both on loopback ports.

use std::{
    net::TcpListener,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix_web::{HttpResponse, web};
use auth_middleware::{
    IntrospectionSettings, Principal, Secret, Verifier, VerifierSettings, require_active_scope,
    require_scope,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ms_auth_server::keys::{SigningAlgorithm, SigningKey};
use serde_json::{Value, json};

pub const ISSUER: &str = "http://localhost:8085/ms-auth-server";
pub const CLIENT: &str = "service-client-jwt";
pub const SECRET: &str = "service-client-jwt-secret";
/// The test resource's identifier: customer-service's, whose scopes its routes check, so the
/// playground's tokens for those scopes name it in `aud`.
pub const RESOURCE: &str = "http://localhost:8085/customer-service";

pub struct AuthServer {
    pub port: u16,
    /// The server's own signing key, loaded from the same PEM file.
    pub key: SigningKey,
    handle: actix_web::dev::ServerHandle,
    _dir: TempDir,
}

/// A temp dir removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("auth-mw-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn playground_settings() -> ms_auth_server::Settings {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/playground/ms-auth-server.toml");
    let mut settings = ms_auth_server::Settings::load(Some(&path)).unwrap();
    settings.store.url = "memory".to_owned();
    settings
}

impl AuthServer {
    /// The playground ms-auth-server with a fresh RSA key, on `port` (0 = any).
    pub async fn start(port: u16) -> Self {
        Self::start_with(port, |_| {}).await
    }

    pub async fn start_with(port: u16, tweak: impl FnOnce(&mut ms_auth_server::Settings)) -> Self {
        let dir = TempDir::new();
        let path = dir.0.join("key.pem");
        let pem = SigningKey::generate(SigningAlgorithm::RS256)
            .unwrap()
            .to_pkcs8_pem()
            .unwrap();
        std::fs::write(&path, &pem).unwrap();
        let mut settings = playground_settings();
        settings.server.port = port;
        settings.keys.private_key_file = Some(path);
        tweak(&mut settings);
        let app = ms_auth_server::App::build(settings).await.unwrap();
        let (port, handle) = (app.port(), app.handle());
        tokio::spawn(app.run());
        let key = SigningKey::from_pem(pem.as_bytes(), SigningAlgorithm::RS256, None).unwrap();
        Self {
            port,
            key,
            handle,
            _dir: dir,
        }
    }

    pub fn jwks_url(&self) -> String {
        format!("http://127.0.0.1:{}/ms-auth-server/oauth2/jwks", self.port)
    }

    pub fn introspection_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/ms-auth-server/oauth2/introspect",
            self.port
        )
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }

    /// A token from the token endpoint, for `scope`.
    pub async fn token(&self, scope: &str) -> String {
        let res = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/ms-auth-server/oauth2/token",
                self.port
            ))
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

    /// A token with `claims` (merged over good defaults), signed by the server's own key.
    pub fn sign(&self, claims: Value) -> String {
        self.key
            .sign(ms_auth_server::keys::Typ::AccessToken, &good_claims(claims))
            .unwrap()
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Valid claims for the playground client, with `overrides` applied (`null` removes a claim).
pub fn good_claims(overrides: Value) -> Value {
    let now = now();
    let mut claims = json!({
        "iss": ISSUER, "sub": CLIENT, "aud": RESOURCE, "client_id": CLIENT,
        "iat": now, "nbf": now, "exp": now + 600,
        "scope": ["customer.read", "country.read"], "jti": uuid::Uuid::new_v4().to_string(),
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

/// A compact JWS with an arbitrary header, claims and signature bytes.
pub fn raw_jwt(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// A resource server: `/r` needs `customer.read`, `/w` needs `customer.write`, `/a` needs
/// `customer.read` and a token the issuer says is active, `/open` takes a `Principal` without
/// the middleware.
pub struct Resource {
    pub base: String,
    pub verifier: web::Data<Verifier>,
    pub http: reqwest::Client,
}

pub fn settings_for(jwks_url: &str) -> VerifierSettings {
    VerifierSettings {
        issuer: ISSUER.to_owned(),
        jwks_url: Some(jwks_url.to_owned()),
        realm: "test-resource".to_owned(),
        resource: Some(RESOURCE.to_owned()),
        min_refetch_interval_secs: 1,
        ..VerifierSettings::default()
    }
}

/// `[auth.introspection]` for `url` with these client credentials.
pub fn introspection(url: &str, client_id: &str, client_secret: &str) -> IntrospectionSettings {
    IntrospectionSettings {
        url: url.to_owned(),
        client_id: client_id.to_owned(),
        client_secret: Secret(client_secret.to_owned()),
        cache_secs: 60,
        max_entries: 100,
    }
}

/// Stands between the resource server and the issuer's introspection endpoint, counting the
/// requests and holding each for `delay` before forwarding it, so that concurrent ones overlap.
pub struct CountingProxy {
    pub url: String,
    calls: Arc<AtomicUsize>,
}

impl CountingProxy {
    pub fn start(upstream: String, delay: Duration) -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let server = actix_web::HttpServer::new(move || {
            let (upstream, counter) = (upstream.clone(), Arc::clone(&counter));
            actix_web::App::new().default_service(web::to(
                move |req: actix_web::HttpRequest, body: web::Bytes| {
                    let (upstream, counter) = (upstream.clone(), Arc::clone(&counter));
                    async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        let mut forward = reqwest::Client::new().post(upstream).body(body.to_vec());
                        for name in ["authorization", "content-type"] {
                            if let Some(value) = req.headers().get(name) {
                                forward = forward.header(name, value.as_bytes());
                            }
                        }
                        let res = forward.send().await.unwrap();
                        let status = res.status().as_u16();
                        let body = res.bytes().await.unwrap();
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                            .content_type("application/json")
                            .body(body.to_vec())
                    }
                },
            ))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self {
            url: format!("http://127.0.0.1:{port}/introspect"),
            calls,
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

async fn whoami(caller: Principal) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "subject": caller.subject, "client_id": caller.client_id, "scopes": caller.scopes,
        "jti": caller.claims.get("jti"),
    }))
}

impl Resource {
    pub async fn start(settings: VerifierSettings) -> Self {
        let verifier = web::Data::new(Verifier::new(settings).unwrap());
        verifier.start();
        let data = verifier.clone();
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .route(
                    "/r",
                    web::get().to(whoami).wrap(require_scope("customer.read")),
                )
                .route(
                    "/w",
                    web::post().to(whoami).wrap(require_scope("customer.write")),
                )
                .route(
                    "/a",
                    web::get()
                        .to(whoami)
                        .wrap(require_active_scope("customer.read")),
                )
                .route("/open", web::get().to(whoami))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self {
            base: format!("http://127.0.0.1:{port}"),
            verifier,
            http: reqwest::Client::new(),
        }
    }

    /// Waits (up to 10 s) until the key set has been fetched.
    pub async fn ready(self) -> Self {
        for _ in 0..100 {
            if !self.verifier.keys().current().is_empty() {
                return self;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("keys never arrived");
    }

    pub async fn get(&self, path: &str, authorization: Option<&str>) -> (u16, String, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let challenge = res
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = res.json().await.unwrap_or(Value::Null);
        (status, challenge, body)
    }

    pub async fn bearer(&self, path: &str, token: &str) -> (u16, String, Value) {
        self.get(path, Some(&format!("Bearer {token}"))).await
    }
}

/// A playground ms-auth-server and a resource server that has fetched its keys.
pub async fn setup() -> (AuthServer, Resource) {
    let auth = AuthServer::start(0).await;
    let rs = Resource::start(settings_for(&auth.jwks_url()))
        .await
        .ready()
        .await;
    (auth, rs)
}

/// Asserts a 401 `invalid_token` and returns its description.
pub fn assert_invalid((status, challenge, body): (u16, String, Value)) -> String {
    assert_eq!(status, 401, "{body}");
    assert!(
        challenge.starts_with("Bearer realm=\"test-resource\", error=\"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(body["error"], "invalid_token");
    body["error_description"].as_str().unwrap().to_owned()
}
