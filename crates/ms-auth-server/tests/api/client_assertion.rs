//! Client authentication by signed assertion (RFC 7523 §2.2/§3, OpenID Connect Core §9):
//! `client_secret_jwt` and `private_key_jwt` over real HTTP, the assertions built by an
//! independent library (PyJWT, through scripts/client-assertion.py), and every refusal.

use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use ms_auth_server::{
    Settings,
    oauth::{
        client::{AuthMethod, ClientMetadata, GrantType},
        client_assertion::ASSERTION_TYPE,
        scope::ScopeSet,
        secret::ClientSecret,
    },
    settings::ClientSettings,
    store::RedisSettings,
};
use serde_json::Value;

use crate::{
    helpers::*,
    servers::RedisServer,
    store::{Backend, Replica, location},
};

const ISSUER: &str = "http://localhost:8085/ms-auth-server";
const TOKEN_URL: &str = "http://localhost:8085/ms-auth-server/oauth2/token";
const CC: &str = "grant_type=client_credentials";
/// The client_secret_jwt client's secret (the playground accepts it in plain text).
const HMAC_SECRET: &str = "a-client-secret-of-enough-entropy-for-hs512-0123456789abcdef0123";

/// A key pair of a client: its private key in a PEM file, its public JWK.
struct ClientKey {
    pem: PathBuf,
    alg: &'static str,
    kid: Option<String>,
    jwk: Value,
}

impl ClientKey {
    /// A fresh key for `alg`, made by openssl; its JWK printed by PyJWT.
    fn new(alg: &'static str, kid: Option<&str>) -> Self {
        let dir = std::env::temp_dir().join(format!("client-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = dir.join("key.pem");
        let args: &[&str] = match alg {
            "RS256" | "PS256" => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "ES256" => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "ES384" => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "EdDSA" => &["-algorithm", "ed25519"],
            other => panic!("no key for {other}"),
        };
        let ok = std::process::Command::new("openssl")
            .arg("genpkey")
            .args(args)
            .arg("-out")
            .arg(&pem)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let mut print = vec![
            "--client-id",
            "x",
            "--key",
            pem.to_str().unwrap(),
            "--alg",
            alg,
        ];
        if let Some(kid) = kid {
            print.extend(["--kid", kid]);
        }
        print.push("--print-jwk");
        let jwk = serde_json::from_str(&assertion(&print)).unwrap();
        Self {
            pem,
            alg,
            kid: kid.map(str::to_owned),
            jwk,
        }
    }

    /// An assertion by `client_id` signed with this key, with `extra` arguments of
    /// scripts/client-assertion.py.
    fn sign(&self, client_id: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "--client-id",
            client_id,
            "--key",
            self.pem.to_str().unwrap(),
            "--alg",
            self.alg,
        ];
        if let Some(kid) = &self.kid {
            args.extend(["--kid", kid.as_str()]);
        }
        if !extra.contains(&"--aud") {
            args.extend(["--aud", TOKEN_URL]);
        }
        args.extend_from_slice(extra);
        assertion(&args)
    }
}

fn metadata(method: AuthMethod) -> ClientMetadata {
    let scopes = ScopeSet::parse_param("country.read").unwrap();
    ClientMetadata::new()
        .grant(GrantType::ClientCredentials)
        .method(method)
        .scope(scopes.clone())
        .default_scopes(scopes)
}

/// A `private_key_jwt` client registering `keys` by value.
fn key_client(id: &str, keys: &[&ClientKey], alg: Option<&str>) -> ClientSettings {
    let jwks: Vec<Value> = keys.iter().map(|k| k.jwk.clone()).collect();
    ClientSettings {
        client_id: id.to_owned(),
        client_secret: None,
        client_secret_hash: None,
        metadata: ClientMetadata {
            jwks: Some(serde_json::json!({ "keys": jwks })),
            token_endpoint_auth_signing_alg: alg.map(str::to_owned),
            ..metadata(AuthMethod::PrivateKeyJwt)
        },
    }
}

/// The `client_secret_jwt` client, `hmac-client`.
fn hmac_client() -> ClientSettings {
    ClientSettings::confidential(
        "hmac-client",
        ClientSecret::new(HMAC_SECRET),
        metadata(AuthMethod::ClientSecretJwt),
    )
}

fn hmac(extra: &[&str]) -> String {
    let mut args = vec!["--client-id", "hmac-client", "--secret", HMAC_SECRET];
    if !extra.contains(&"--aud") {
        args.extend(["--aud", TOKEN_URL]);
    }
    args.extend_from_slice(extra);
    assertion(&args)
}

/// The form parameters presenting `jwt`.
fn with_assertion(body: &str, jwt: &str) -> String {
    format!("{body}&client_assertion_type={ASSERTION_TYPE}&client_assertion={jwt}")
}

impl TestApp {
    async fn token_by_assertion(&self, jwt: &str) -> reqwest::Response {
        self.token_form(&with_assertion(CC, jwt)).await
    }

    /// `client_auth_failures_total{reason}` as the management listener reports it.
    async fn failures(&self, reason: &str) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.management))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let series = format!("client_auth_failures_total{{reason=\"{reason}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&series))
            .map_or(0, |v| v.trim().parse().unwrap())
    }

    /// Asserts that `jwt` is refused as `invalid_client`, for `reason`.
    async fn refuses(&self, jwt: &str, reason: &str) {
        self.refuses_form(&with_assertion(CC, jwt), reason).await;
    }

    /// Asserts that a token request with `body` is refused as `invalid_client`, for `reason`.
    async fn refuses_form(&self, body: &str, reason: &str) {
        let before = self.failures(reason).await;
        assert_oauth_error(self.token_form(body).await, 401, "invalid_client").await;
        assert!(
            self.failures(reason).await > before,
            "refused, but not for {reason}"
        );
    }
}

#[tokio::test]
async fn each_method_and_algorithm_authenticates_at_every_endpoint() {
    let rs = ClientKey::new("RS256", Some("rs-1"));
    let ps = ClientKey::new("PS256", Some("ps-1"));
    let es = ClientKey::new("ES256", None);
    let ed = ClientKey::new("EdDSA", Some("ed-1"));
    let app = TestApp::spawn(playground_with([
        hmac_client(),
        key_client("rs-client", &[&rs], None),
        key_client("ps-client", &[&ps], Some("PS256")),
        key_client("es-client", &[&es], None),
        key_client("ed-client", &[&ed], None),
    ]))
    .await;
    let cases = [
        ("hmac-client", hmac(&[])),
        ("hmac-client", hmac(&["--alg", "HS384"])),
        ("hmac-client", hmac(&["--alg", "HS512", "--aud", ISSUER])),
        ("rs-client", rs.sign("rs-client", &[])),
        ("ps-client", ps.sign("ps-client", &[])),
        ("es-client", es.sign("es-client", &["--aud", ISSUER])),
        ("ed-client", ed.sign("ed-client", &[])),
    ];
    for (client_id, jwt) in &cases {
        let (status, _, body) = parts(app.token_by_assertion(jwt).await).await;
        assert_eq!(status, 200, "{client_id}: {body}");
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(claims_of(token)["client_id"], *client_id);
        // Introspection and revocation take assertions too, with their own URL as `aud`.
        let introspect = format!("{ISSUER}/oauth2/introspect");
        let jwt = match *client_id {
            "hmac-client" => hmac(&["--aud", &introspect]),
            "rs-client" => rs.sign(client_id, &["--aud", &introspect]),
            "ps-client" => ps.sign(client_id, &["--aud", &introspect]),
            "es-client" => es.sign(client_id, &["--aud", &introspect]),
            _ => ed.sign(client_id, &["--aud", &introspect]),
        };
        let res = app
            .form_post_to(
                "/oauth2/introspect",
                &with_assertion(&format!("token={token}"), &jwt),
            )
            .await;
        let (status, _, answer) = parts(res).await;
        assert_eq!(
            (status, answer["active"].as_bool()),
            (200, Some(true)),
            "{answer}"
        );
    }
    let revoke = format!("{ISSUER}/oauth2/revoke");
    let token = app
        .token_by_assertion(&ed.sign("ed-client", &[]))
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .form_post_to(
            "/oauth2/revoke",
            &with_assertion(
                &format!("token={token}"),
                &ed.sign("ed-client", &["--aud", &revoke]),
            ),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.introspect(PLAYGROUND_ID_SECRET, &token).await["active"],
        false,
        "revoked by a client that authenticated with its key"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_bad_assertion_is_invalid_client() {
    let es = ClientKey::new("ES256", Some("es-1"));
    let rs = ClientKey::new("RS256", Some("rs-1"));
    let stranger = ClientKey::new("ES256", Some("es-1"));
    let app = TestApp::spawn(playground_with([
        hmac_client(),
        key_client("es-client", &[&es], Some("ES256")),
        key_client("rs-client", &[&rs], None),
    ]))
    .await;
    let es_sign = |extra: &[&str]| es.sign("es-client", extra);
    let in_an_hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    app.refuses(
        &es_sign(&["--aud", "https://elsewhere.example"]),
        "assertion_wrong_audience",
    )
    .await;
    app.refuses(&es_sign(&["--iat-offset", "-400"]), "assertion_expired")
        .await;
    app.refuses(
        &es_sign(&["--exp", &in_an_hour]),
        "assertion_lifetime_too_long",
    )
    .await;
    app.refuses(&es_sign(&["--no-exp"]), "assertion_no_exp")
        .await;
    app.refuses(
        &es_sign(&["--claim", "iat=", "--claim", &format!("nbf={in_an_hour}")]),
        "assertion_not_yet_valid",
    )
    .await;
    app.refuses(&es_sign(&["--claim", "jti="]), "assertion_no_jti")
        .await;
    app.refuses(
        &es_sign(&["--claim", "iss=rs-client"]),
        "assertion_wrong_issuer",
    )
    .await;
    // Signed by a key the client did not register, under its kid.
    app.refuses(&stranger.sign("es-client", &[]), "assertion_bad_signature")
        .await;
    // Another client's key: the kid is not in this client's set.
    app.refuses(&rs.sign("es-client", &[]), "assertion_alg_not_registered")
        .await;
    // The client_id beside the assertion names the client; its sub must be that client.
    let other_sub = rs.sign("rs-client", &["--claim", "sub=es-client"]);
    app.refuses_form(
        &format!("{}&client_id=rs-client", with_assertion(CC, &other_sub)),
        "assertion_wrong_issuer",
    )
    .await;
    // A wrong kid on a client registered by value: nothing to refetch.
    let unknown = ClientKey {
        kid: Some("not-registered".to_owned()),
        ..ClientKey::new("RS256", None)
    };
    app.refuses(&unknown.sign("rs-client", &[]), "assertion_unknown_kid")
        .await;
    // `alg: none`, and HMAC keyed with the client's public key: never accepted.
    let forged = run_python(&[
        "-c",
        r#"
import base64, hmac, hashlib, json, sys, time, uuid
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
now = int(time.time())
claims = b(json.dumps({"iss": "rs-client", "sub": "rs-client", "aud": sys.argv[1], "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}).encode())
none = b(json.dumps({"alg": "none"}).encode()) + "." + claims + "."
head = b(json.dumps({"alg": "HS256", "kid": "rs-1"}).encode()) + "." + claims
public = json.dumps(json.loads(sys.argv[2]), sort_keys=True).encode()
print(none)
print(head + "." + b(hmac.new(public, head.encode(), hashlib.sha256).digest()))
"#,
        TOKEN_URL,
        &rs.jwk.to_string(),
    ]);
    let mut forged = forged.lines();
    app.refuses(forged.next().unwrap(), "assertion_alg_unsupported")
        .await;
    app.refuses(forged.next().unwrap(), "method_not_allowed")
        .await;
    // A method the client is not registered for: an HMAC by the playground client's own secret.
    let by_secret = assertion(&[
        "--client-id",
        PLAYGROUND_CLIENT,
        "--secret",
        PLAYGROUND_SECRET,
        "--aud",
        TOKEN_URL,
    ]);
    app.refuses(&by_secret, "method_not_allowed").await;
    // …and the client_secret_jwt client presenting its secret itself.
    let res = app
        .token_basic(&format!("hmac-client:{HMAC_SECRET}"), CC)
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    // Garbage and an assertion of another type are refused without a 500.
    app.refuses("not-a-jwt", "unknown_client").await;
    let other_type = app
        .token_form(&format!(
            "{CC}&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:saml2-bearer&client_assertion=x"
        ))
        .await;
    assert_oauth_error(other_type, 400, "invalid_request").await;
    // A good one, once: the replay is refused.
    let once = es_sign(&[]);
    assert_eq!(app.token_by_assertion(&once).await.status(), 200);
    app.refuses(&once, "assertion_replayed").await;
    app.stop().await;
}

#[tokio::test]
async fn failed_assertions_count_toward_the_brute_force_limits() {
    let mut settings = playground_with([hmac_client()]);
    settings.brute_force.max_failures_per_source = 3;
    let app = TestApp::spawn(settings).await;
    let wrong = assertion(&[
        "--client-id",
        "hmac-client",
        "--secret",
        "not-the-secret-of-this-client-at-all-0123456789",
        "--aud",
        TOKEN_URL,
    ]);
    for _ in 0..3 {
        assert_eq!(app.token_by_assertion(&wrong).await.status(), 401);
    }
    let res = app.token_by_assertion(&hmac(&[])).await;
    assert_eq!(
        res.status(),
        429,
        "the source is blocked, a good assertion too"
    );
    assert!(res.headers().contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_assertion_fails_at_the_other_replica() {
    let redis = RedisServer::start();
    let at = location(Backend::Postgres).await;
    let mut settings = playground_with([hmac_client()]);
    settings.store = at.settings.clone();
    settings.redis = RedisSettings {
        url: Some(redis.url()),
        ..RedisSettings::default()
    };
    settings.cluster.replicated = true;
    let a = Replica::start_with(settings.clone()).await;
    let b = Replica::start_with(settings.clone()).await;
    let jwt = hmac(&[]);
    let post = |base: &str| {
        reqwest::Client::new()
            .post(format!("{base}/oauth2/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(with_assertion(CC, &jwt))
            .send()
    };
    assert_eq!(post(&a.base).await.unwrap().status(), 200);
    let replay = post(&b.base).await.unwrap();
    assert_eq!(
        replay.status(),
        401,
        "the jti was spent at the first replica"
    );
    // A fresh assertion still works at the second.
    let fresh = reqwest::Client::new()
        .post(format!("{}/oauth2/token", b.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(with_assertion(CC, &hmac(&[])))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    a.stop().await;
    b.stop().await;
}

/// A client's key server: serves `keys` at `/jwks` and counts the fetches.
struct KeyServer {
    url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    handle: actix_web::dev::ServerHandle,
}

impl KeyServer {
    async fn start(keys: Value) -> Self {
        let keys = Arc::new(Mutex::new(keys));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (k, f) = (keys.clone(), fetches.clone());
        let server = actix_web::HttpServer::new(move || {
            let (k, f) = (k.clone(), f.clone());
            actix_web::App::new().route(
                "/jwks",
                actix_web::web::get().to(move || {
                    let (k, f) = (k.clone(), f.clone());
                    async move {
                        f.fetch_add(1, Ordering::SeqCst);
                        let body = k.lock().unwrap().clone();
                        actix_web::HttpResponse::Ok().json(body)
                    }
                }),
            )
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/jwks"),
            keys,
            fetches,
            handle,
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

fn uri_client(id: &str, uri: &str) -> ClientSettings {
    ClientSettings {
        client_id: id.to_owned(),
        client_secret: None,
        client_secret_hash: None,
        metadata: ClientMetadata {
            jwks_uri: Some(uri.to_owned()),
            ..metadata(AuthMethod::PrivateKeyJwt)
        },
    }
}

#[tokio::test]
async fn a_jwks_uri_is_fetched_once_refetched_for_a_new_kid_and_an_unknown_kid_is_refused() {
    let first = ClientKey::new("ES256", Some("k1"));
    let rotated = ClientKey::new("ES256", Some("k2"));
    let made_up = ClientKey::new("ES256", Some("k3"));
    let keys = KeyServer::start(serde_json::json!({ "keys": [first.jwk] })).await;
    let mut settings = playground_with([uri_client("uri-client", &keys.url)]);
    settings.client_auth.jwks_uri_refetch_interval_secs = 2;
    let app = TestApp::spawn(settings).await;
    assert_eq!(
        app.token_by_assertion(&first.sign("uri-client", &[]))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.token_by_assertion(&first.sign("uri-client", &[]))
            .await
            .status(),
        200
    );
    assert_eq!(keys.fetches(), 1, "fetched once, then cached");
    // The client rotates: a new kid makes one refetch (past the refetch interval).
    *keys.keys.lock().unwrap() = serde_json::json!({ "keys": [first.jwk, rotated.jwk] });
    let by_rotated = rotated.sign("uri-client", &[]);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(app.token_by_assertion(&by_rotated).await.status(), 200);
    assert_eq!(keys.fetches(), 2);
    // A kid the client never published: refetched once, then refused; refused again at once
    // without another fetch.
    // Signed beforehand, so that the requests below fall within the interval.
    let made_up = made_up.sign("uri-client", &["--count", "6"]);
    let mut made_up = made_up.lines();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.refuses(made_up.next().unwrap(), "assertion_unknown_kid")
        .await;
    assert_eq!(keys.fetches(), 3, "one refetch for the unknown kid");
    for jwt in made_up {
        app.refuses(jwt, "assertion_unknown_kid").await;
    }
    assert_eq!(keys.fetches(), 3, "no refetch within the interval");
    app.stop().await;
    keys.handle.stop(true).await;
}

#[tokio::test]
async fn a_jwks_uri_on_a_private_address_is_never_fetched_outside_the_playground() {
    let key = ClientKey::new("ES256", Some("k1"));
    let keys = KeyServer::start(serde_json::json!({ "keys": [key.jwk] })).await;
    // The same key server, named by https on loopback: https passes validation, the address
    // does not pass the fetcher.
    let https = keys.url.replace("http://", "https://");
    let mut settings: Settings = playground_settings();
    settings.playground = false;
    settings.store.encryption_key = None;
    settings.users.clear();
    settings.clients = vec![uri_client("uri-client", &https)];
    let app = TestApp::spawn(settings).await;
    app.refuses(&key.sign("uri-client", &[]), "assertion_jwks_unavailable")
        .await;
    assert_eq!(
        keys.fetches(),
        0,
        "nothing was asked of the private address"
    );
    app.stop().await;
    keys.handle.stop(true).await;
}
