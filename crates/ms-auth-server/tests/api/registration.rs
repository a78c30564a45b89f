//! Dynamic client registration (RFC 7591) and its management (RFC 7592) over real HTTP: the
//! whole lifecycle, each kind of bad metadata, the policies, the rate limit, two replicas,
//! the logs, and an independent client library (Authlib) registering a client and using it.

use std::time::{Duration, Instant};

use ms_auth_server::{
    Settings,
    clock::ManualClock,
    oauth::{resources::ScopeDefinition, scope::Scope},
    settings::RegistrationMode,
};
use serde_json::{Value, json};

use crate::helpers::*;

const REGISTER: &str = "/connect/register";

/// The resource server client of the playground that may introspect country.read tokens.
const COUNTRY_SERVICE: &str = "country-service:country-service-introspection-secret";

/// `POST /connect/register` with `body` as JSON (and `bearer`, when given).
async fn post(app: &TestApp, body: &Value, bearer: Option<&str>) -> reqwest::Response {
    let mut req = app.http.post(app.url(REGISTER)).json(body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// Registers `body`, which must succeed: the Client Information Response.
async fn register(app: &TestApp, body: &Value) -> Value {
    let (status, headers, answer) = parts(post(app, body, None).await).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    answer
}

/// A client_credentials client of `scope` with client_secret_basic.
fn machine(scope: &str) -> Value {
    json!({
        "client_name": "Batch job",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": scope,
    })
}

/// The registration's path under the context path (its `registration_client_uri` names the
/// issuer, the gateway, which these tests do not run).
fn path_of(info: &Value) -> String {
    format!("{REGISTER}/{}", info["client_id"].as_str().unwrap())
}

fn id_secret(info: &Value) -> String {
    format!(
        "{}:{}",
        info["client_id"].as_str().unwrap(),
        info["client_secret"].as_str().unwrap()
    )
}

fn token_of(info: &Value) -> String {
    info["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `method path` with `bearer` and, for PUT, `body`.
async fn manage(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut req = app.http.request(method, app.url(path));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

/// `created`'s registration replaced at `app` by a machine client with `scope` (RFC 7592
/// §2.2), which must succeed: the Client Information Response.
async fn put_machine(app: &TestApp, created: &Value, scope: &str) -> Value {
    let mut update = machine(scope);
    update["client_id"] = created["client_id"].clone();
    let res = manage(
        app,
        reqwest::Method::PUT,
        &path_of(created),
        Some(&token_of(created)),
        Some(&update),
    )
    .await;
    let (status, _, updated) = parts(res).await;
    assert_eq!(status, 200, "{updated}");
    updated
}

/// `created`'s registration deleted at `app` with the registration access token of `current`
/// (the Client Information Response that issued the token now current), which must succeed.
async fn delete_registration(app: &TestApp, created: &Value, current: &Value) {
    let res = manage(
        app,
        reqwest::Method::DELETE,
        &path_of(created),
        Some(&token_of(current)),
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
}

/// RFC 7592 §2.1 and RFC 6750 §3.1: 401 with the Bearer challenge; `invalid_token` when a
/// token was presented.
async fn assert_refused_token(res: reqwest::Response) {
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, 401, "{body}");
    let challenge = header(&headers, "www-authenticate");
    assert!(
        challenge.starts_with("Bearer realm=\"ms-auth-server\""),
        "{challenge}"
    );
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn the_whole_lifecycle_create_read_update_delete() {
    let app = TestApp::playground().await;
    let (_, _, discovery) = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["registration_endpoint"],
        "http://localhost:8085/ms-auth-server/connect/register"
    );

    // Create (RFC 7591 §3.2.1).
    let created = register(&app, &machine("country.read")).await;
    let id = created["client_id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(created["client_secret"].as_str().unwrap().len(), 43);
    assert_eq!(created["client_secret_expires_at"], 0);
    assert!(created["client_id_issued_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(
        created["registration_client_uri"],
        format!("http://localhost:8085/ms-auth-server/connect/register/{id}")
    );
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(created["grant_types"], json!(["client_credentials"]));
    assert_eq!(created["response_types"], json!([]));
    assert_eq!(created["scope"], "country.read");
    assert_eq!(created["client_name"], "Batch job");
    let token = app.access_token(&id_secret(&created)).await;
    assert_eq!(claims_of(&token)["client_id"], id.as_str());
    assert_eq!(claims_of(&token)["scope"], json!(["country.read"]));

    // Read (RFC 7592 §2.1): the same registration; no secret, the token not rotated.
    let path = path_of(&created);
    let first = token_of(&created);
    let res = manage(&app, reqwest::Method::GET, &path, Some(&first), None).await;
    let (status, headers, read) = parts(res).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(read, expected);

    // Refusals are one: a wrong token, no token, another client's path.
    for (path, bearer) in [
        (path.as_str(), Some("not-the-token")),
        (
            &format!("{REGISTER}/{}", uuid::Uuid::new_v4()),
            Some(first.as_str()),
        ),
    ] {
        assert_refused_token(manage(&app, reqwest::Method::GET, path, bearer, None).await).await;
    }
    let res = manage(&app, reqwest::Method::GET, &path, None, None).await;
    assert_eq!(res.status(), 401);
    assert!(header(res.headers(), "www-authenticate").starts_with("Bearer "));

    // Update (RFC 7592 §2.2): the whole registration again, the secret as issued; the token
    // rotates.
    let mut update = machine("country.read customer.read");
    update["client_id"] = json!(id);
    update["client_secret"] = created["client_secret"].clone();
    update["client_name"] = json!("Batch job, renamed");
    let res = manage(
        &app,
        reqwest::Method::PUT,
        &path,
        Some(&first),
        Some(&update),
    )
    .await;
    let (status, headers, updated) = parts(res).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    let second = token_of(&updated);
    assert_ne!(second, first);
    assert!(
        updated.get("client_secret").is_none(),
        "the secret is kept, not re-sent"
    );
    assert_eq!(updated["scope"], "country.read customer.read");
    assert_eq!(updated["client_name"], "Batch job, renamed");
    assert_eq!(
        updated["client_id_issued_at"],
        created["client_id_issued_at"]
    );
    assert_refused_token(manage(&app, reqwest::Method::GET, &path, Some(&first), None).await).await;
    let res = manage(&app, reqwest::Method::GET, &path, Some(&second), None).await;
    assert_eq!(parts(res).await.2["scope"], "country.read customer.read");
    let token = app
        .access_token_for(&id_secret(&created), "customer.read")
        .await;
    assert_eq!(claims_of(&token)["scope"], json!(["customer.read"]));

    // Delete (RFC 7592 §2.3): the old token cannot; the current one can, once.
    assert_refused_token(manage(&app, reqwest::Method::DELETE, &path, Some(&first), None).await)
        .await;
    let res = manage(&app, reqwest::Method::DELETE, &path, Some(&second), None).await;
    assert_eq!(res.status(), 204);
    assert!(res.text().await.unwrap().is_empty());
    let res = app
        .token_basic(&id_secret(&created), "grant_type=client_credentials")
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        assert_refused_token(manage(&app, method, &path, Some(&second), None).await).await;
    }
    let res = manage(
        &app,
        reqwest::Method::PUT,
        &path,
        Some(&second),
        Some(&update),
    )
    .await;
    assert_refused_token(res).await;
}

#[tokio::test]
async fn a_public_client_of_the_code_flow_registers_without_a_secret() {
    let app = TestApp::playground().await;
    let info = register(
        &app,
        &json!({
            "redirect_uris": ["http://127.0.0.1:3000/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid offline_access country.read",
            "post_logout_redirect_uris": ["http://127.0.0.1:3000/"],
            "software_id": "example-spa",
            "unknown_extension": {"ignored": true},
        }),
    )
    .await;
    assert!(info.get("client_secret").is_none() && info.get("client_secret_expires_at").is_none());
    assert_eq!(
        info["response_types"],
        json!(["code"]),
        "RFC 7591 §2's default"
    );
    assert_eq!(info["software_id"], "example-spa");
    assert!(info.get("unknown_extension").is_none());
    // The authorization endpoint knows it at once: the sign-in page, not an error.
    let (_, challenge) = pkce();
    let res = app
        .http
        .get(app.url("/oauth2/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", info["client_id"].as_str().unwrap()),
            ("redirect_uri", "http://127.0.0.1:3000/callback"),
            ("scope", "openid country.read"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("name=\"username\""),
        "the sign-in page: {page}"
    );
}

#[tokio::test]
async fn each_kind_of_bad_metadata_is_refused_naming_its_field() {
    let app = TestApp::playground().await;
    let cb = json!(["https://app.example/cb"]);
    let cases = [
        (
            json!({"redirect_uris": ["http://app.example/cb"]}),
            "invalid_redirect_uri",
            "redirect_uris",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb#x"]}),
            "invalid_redirect_uri",
            "redirect_uris",
        ),
        (
            json!({"redirect_uris": cb, "response_types": ["token"]}),
            "invalid_client_metadata",
            "response_types",
        ),
        (
            json!({"grant_types": ["client_credentials"], "response_types": ["code"]}),
            "invalid_client_metadata",
            "response_types",
        ),
        (
            json!({"redirect_uris": cb, "jwks": {"keys": []}, "jwks_uri": "https://app.example/jwks"}),
            "invalid_client_metadata",
            "jwks",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_method": "magic"}),
            "invalid_client_metadata",
            "token_endpoint_auth_method",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_signing_alg": "none"}),
            "invalid_client_metadata",
            "token_endpoint_auth_signing_alg",
        ),
        (
            json!({"redirect_uris": cb, "scope": "country.read admin"}),
            "invalid_client_metadata",
            "scope",
        ),
        (
            json!({"redirect_uris": cb, "backchannel_logout_uri": "https://elsewhere.example/logout"}),
            "invalid_client_metadata",
            "backchannel_logout_uri",
        ),
        (
            json!({"redirect_uris": cb, "software_statement": "eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngifQ.c2ln"}),
            "unapproved_software_statement",
            "software_statement",
        ),
        (
            json!({"redirect_uris": cb, "software_statement": "plain text"}),
            "invalid_software_statement",
            "software_statement",
        ),
        // The playground offers the legacy grants (its legacy client), but never to a
        // registration.
        (
            json!({"grant_types": ["password", "refresh_token"]}),
            "invalid_client_metadata",
            "grant_types",
        ),
        (
            json!({"redirect_uris": cb, "grant_types": ["implicit"], "response_types": ["token"]}),
            "invalid_client_metadata",
            "grant_types",
        ),
        (
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                   "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "TMs4-rAq-oGxcmrnOOjWkVEuuSVoWcgy51SYFOFVsl4", "d": "c2VjcmV0"}]}}),
            "invalid_client_metadata",
            "jwks",
        ),
        (
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
            "jwks_uri",
        ),
    ];
    for (body, code, field) in &cases {
        let res = post(&app, body, None).await;
        let description = assert_oauth_error(res, 400, code).await;
        assert!(
            description.starts_with(&format!("{field}: ")),
            "{body}: {description}"
        );
    }
    // Not JSON, not an object, not JSON at all by its type, too large.
    let raw = |content_type: &'static str, body: Vec<u8>| {
        app.http
            .post(app.url(REGISTER))
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    let res = raw("application/json", b"{\"redirect_uris\": [".to_vec())
        .await
        .unwrap();
    assert_oauth_error(res, 400, "invalid_client_metadata").await;
    let res = raw("application/json", b"[]".to_vec()).await.unwrap();
    assert_oauth_error(res, 400, "invalid_client_metadata").await;
    let res = raw(
        "application/x-www-form-urlencoded",
        b"client_name=x".to_vec(),
    )
    .await
    .unwrap();
    let description = assert_oauth_error(res, 400, "invalid_request").await;
    assert!(description.contains("application/json"), "{description}");
    let huge = format!("{{\"client_name\": \"{}\"}}", "x".repeat(20_000));
    let res = raw("application/json", huge.into_bytes()).await.unwrap();
    assert_eq!(res.status(), 413);
    // A method the endpoint does not answer.
    let res = app.http.get(app.url(REGISTER)).send().await.unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn registration_off_answers_404_everywhere_and_discovery_names_no_endpoint() {
    let mut settings = playground_settings();
    settings.registration.policy = RegistrationMode::Off;
    let app = TestApp::spawn(settings).await;
    let (_, _, discovery) = app
        .get_json("/.well-known/oauth-authorization-server")
        .await;
    assert!(
        discovery.get("registration_endpoint").is_none(),
        "{discovery}"
    );
    let res = post(&app, &machine("country.read"), None).await;
    assert_eq!(res.status(), 404);
    let path = format!("{REGISTER}/{}", uuid::Uuid::new_v4());
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let body = (method == reqwest::Method::PUT).then(|| machine("country.read"));
        let res = manage(&app, method, &path, Some("t"), body.as_ref()).await;
        assert_eq!(res.status(), 404);
    }
}

/// The playground with registration behind an initial access token of scope
/// `client.register`, which the client `registrar` may be granted.
fn with_initial_access_tokens() -> Settings {
    let mut settings = playground_with([client(
        "registrar",
        "registrar-secret-of-the-administrators",
        &[ms_auth_server::oauth::client::AuthMethod::ClientSecretBasic],
        "client.register",
    )]);
    settings.scopes.push(ScopeDefinition {
        name: Scope::parse("client.register").unwrap(),
        description: "Register clients".to_owned(),
        resource: None,
    });
    settings.registration.policy = RegistrationMode::InitialAccessToken;
    settings
}

#[tokio::test]
async fn with_initial_access_tokens_only_their_bearers_register() {
    let app = TestApp::spawn(with_initial_access_tokens()).await;
    let body = machine("country.read");
    // None: RFC 6750 §3.1's bare challenge.
    let res = post(&app, &body, None).await;
    assert_eq!(res.status(), 401);
    assert!(header(res.headers(), "www-authenticate").starts_with("Bearer "));
    assert_refused_token(post(&app, &body, Some("garbage")).await).await;
    // A good token without the scope: 403 insufficient_scope.
    let other = app.access_token(PLAYGROUND_ID_SECRET).await;
    let (status, headers, answer) = parts(post(&app, &body, Some(&other)).await).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    assert!(header(&headers, "www-authenticate").contains("scope=\"client.register\""));
    // The administrators' token registers.
    let initial = app
        .access_token("registrar:registrar-secret-of-the-administrators")
        .await;
    let (status, _, created) = parts(post(&app, &body, Some(&initial)).await).await;
    assert_eq!(status, 201, "{created}");
    app.access_token(&id_secret(&created)).await;
    // Revoked, it registers no more.
    let status = app
        .revoke(
            "registrar:registrar-secret-of-the-administrators",
            &format!("token={initial}"),
        )
        .await;
    assert_eq!(status, 200);
    assert_refused_token(post(&app, &body, Some(&initial)).await).await;
}

#[tokio::test]
async fn registrations_are_limited_per_source_address() {
    let mut settings = playground_settings();
    settings.registration.max_per_source_per_minute = 2;
    let app = TestApp::spawn(settings).await;
    for _ in 0..2 {
        register(&app, &machine("country.read")).await;
    }
    let res = post(&app, &machine("country.read"), None).await;
    let retry_after = header(res.headers(), "retry-after");
    let description = assert_oauth_error(res, 429, "slow_down").await;
    assert_eq!(retry_after, "60");
    assert!(
        description.contains("too many registrations"),
        "{description}"
    );
    // Bad requests count too: a flood of them is refused before it is read.
    let res = post(&app, &json!({"grant_types": 1}), None).await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn the_registered_clients_are_bounded_in_number() {
    let mut settings = playground_settings();
    settings.registration.max_clients = 2;
    let app = TestApp::spawn(settings).await;
    let first = register(&app, &machine("country.read")).await;
    register(&app, &machine("country.read")).await;
    let description = assert_oauth_error(
        post(&app, &machine("country.read"), None).await,
        400,
        "access_denied",
    )
    .await;
    assert!(
        description.contains("registration.max_clients"),
        "{description}"
    );
    // A deletion makes room; the config's own clients never counted.
    delete_registration(&app, &first, &first).await;
    register(&app, &machine("country.read")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_registered_at_one_replica_works_at_the_other_at_once() {
    let at = crate::store::location(crate::store::Backend::Postgres).await;
    let redis = crate::servers::RedisServer::start();
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    settings.redis.url = Some(redis.url());
    let (a, b) = tokio::join!(TestApp::spawn(settings.clone()), TestApp::spawn(settings));
    // Each replica's notices flow before the test relies on them.
    for app in [&a, &b] {
        wait_for_status(&format!("{}/health/ready", app.management), 200).await;
    }
    let created = register(&a, &machine("country.read")).await;
    let token = b.access_token(&id_secret(&created)).await;
    assert_eq!(claims_of(&token)["client_id"], created["client_id"]);
    // b caches it now; an update at a reaches b at once (its copy dropped by the notice).
    let updated = put_machine(&a, &created, "customer.read").await;
    let at_b = |scope: &'static str| {
        let b = &b;
        let id_secret = id_secret(&created);
        async move {
            b.token_basic(
                &id_secret,
                &format!("grant_type=client_credentials&scope={scope}"),
            )
            .await
            .status()
            .as_u16()
        }
    };
    eventually("b grants the updated scope", || at_b("customer.read"), 200).await;
    // The management protocol answers at b with the rotated token too.
    delete_registration(&b, &created, &updated).await;
    eventually(
        "a refuses the deleted client",
        || async {
            a.token_basic(&id_secret(&created), "grant_type=client_credentials")
                .await
                .status()
                .as_u16()
        },
        401,
    )
    .await;
}

/// Polls `probe` until it answers `expected`: a notice crosses Redis in milliseconds, so within
/// a second.
async fn eventually<F, Fut>(what: &str, mut probe: F, expected: u16)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let got = probe().await;
        if got == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {got}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_registers_a_client_and_uses_it() {
    // The issuer is the app's own address, so that Authlib follows discovery and the
    // registration_client_uri as a client would.
    let port = ms_auth_server::testing::free_port();
    let mut settings = playground_settings();
    settings.server.port = port;
    settings.issuer = format!("http://127.0.0.1:{port}/ms-auth-server");
    let issuer = settings.issuer.clone();
    let app = TestApp::spawn(settings).await;
    let out = tokio::task::spawn_blocking(move || {
        run_python(&[
            "scripts/lib/authlib-registration.py",
            &issuer,
            "country.read",
        ])
    })
    .await
    .unwrap();
    let got: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let id = got["registered"]["client_id"].as_str().unwrap();
    assert_eq!(got["read"]["client_id"], id);
    assert_eq!(got["token"]["token_type"], "Bearer");
    assert_eq!(got["token"]["scope"], "country.read");
    let token = got["token"]["access_token"].as_str().unwrap();
    // country-service's own client introspects it as the resource server would.
    let answer = app.introspect(COUNTRY_SERVICE, token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["client_id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_the_registration_access_token_nor_the_secret_is_ever_logged() {
    use std::io::{BufRead, BufReader};
    let port = ms_auth_server::testing::free_port();
    let dir = std::env::temp_dir().join(format!("dcr-log-{}", uuid::Uuid::new_v4().simple()));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
        .args(["-c", &playground_config().display().to_string()])
        .env("MS_AUTH_SERVER__SERVER__PORT", port.to_string())
        .env("MS_AUTH_SERVER__MANAGEMENT__PORT", "0")
        .env(
            "MS_AUTH_SERVER__STORE__URL",
            format!("sqlite://{}/auth.db", dir.display()),
        )
        .env("RUST_LOG", "trace")
        .env_remove("MS_AUTH_SERVER_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, listening) = (
        std::sync::Arc::new(std::sync::Mutex::new(String::new())),
        std::sync::Arc::new(std::sync::Barrier::new(2)),
    );
    let reader = {
        let (lines, listening) = (lines.clone(), listening.clone());
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut told = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = lines.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
                if !told && line.contains("ms-auth-server listening") {
                    told = true;
                    drop(log);
                    listening.wait();
                }
            }
        })
    };
    tokio::task::spawn_blocking(move || listening.wait())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/ms-auth-server");
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{base}{REGISTER}"))
        .json(&machine("country.read"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uri = format!("{base}{}", path_of(&created));
    let first = token_of(&created);
    let read = http.get(&uri).bearer_auth(&first).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let mut update = machine("country.read");
    update["client_id"] = created["client_id"].clone();
    update["client_secret"] = created["client_secret"].clone();
    let updated: Value = http
        .put(&uri)
        .bearer_auth(&first)
        .json(&update)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = token_of(&updated);
    // A refused token is not logged either.
    let refused = http.get(&uri).bearer_auth(&first).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let deleted = http.delete(&uri).bearer_auth(&second).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let log = lines.lock().unwrap().clone();
    assert!(log.contains("client registered"), "{log}");
    let secret = created["client_secret"].as_str().unwrap();
    for (what, value) in [
        ("the first registration access token", first.as_str()),
        ("the second registration access token", second.as_str()),
        ("the client secret", secret),
    ] {
        assert!(!log.contains(value), "{what} was logged:\n{log}");
    }
}

#[tokio::test]
async fn an_expired_secret_is_refused_and_an_update_issues_a_new_one() {
    let clock = ManualClock::now();
    let mut settings = playground_settings();
    settings.registration.client_secret_ttl_secs = 60;
    let app = TestApp::spawn_at(settings, &clock).await;
    let created = register(&app, &machine("country.read")).await;
    let issued_at = created["client_id_issued_at"].as_i64().unwrap();
    assert_eq!(created["client_secret_expires_at"], issued_at + 60);
    app.access_token(&id_secret(&created)).await;
    clock.advance(Duration::from_secs(60));
    let res = app
        .token_basic(&id_secret(&created), "grant_type=client_credentials")
        .await;
    assert_oauth_error(res, 401, "invalid_client").await;
    // RFC 7592 §2.2: the update may issue a new secret; past its expiry, it does.
    let updated = put_machine(&app, &created, "country.read").await;
    assert_ne!(updated["client_secret"], created["client_secret"]);
    assert_eq!(updated["client_secret_expires_at"], issued_at + 120);
    app.access_token(&id_secret(&updated)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_updates_and_deletions_are_audited_with_their_actor() {
    let at = crate::store::location(crate::store::Backend::Sqlite).await;
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    let app = TestApp::spawn(settings).await;
    let created = register(&app, &machine("country.read")).await;
    let id = created["client_id"].as_str().unwrap().to_owned();
    let updated = put_machine(&app, &created, "country.read").await;
    delete_registration(&app, &created, &updated).await;
    let audit = crate::store::open(&at.settings)
        .await
        .unwrap()
        .audit
        .recent(20)
        .await
        .unwrap();
    let entry = |event: &str| {
        audit
            .iter()
            .find(|e| e.event == event && e.client_id.as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("no {event}: {audit:?}"))
    };
    let registered = entry("client_registered");
    assert_eq!(registered.actor, "registrant:127.0.0.1");
    assert_eq!(
        registered.detail,
        "client_secret_basic; grant types client_credentials; scope country.read"
    );
    assert_eq!(entry("client_updated").actor, format!("client:{id}"));
    let deleted = entry("client_deleted");
    assert_eq!(deleted.actor, format!("client:{id}"));
    assert_eq!(deleted.detail, "0 token famil(ies) revoked");
    let secret = created["client_secret"].as_str().unwrap();
    let logged = format!("{audit:?}");
    assert!(!logged.contains(secret) && !logged.contains(&token_of(&created)));
}

#[tokio::test]
async fn deleting_a_registration_ends_the_grants_it_was_given() {
    let app = TestApp::playground().await;
    let redirect = "http://127.0.0.1:3000/callback";
    let created = register(
        &app,
        &json!({
            "client_name": "Registered web app",
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid offline_access country.read",
        }),
    )
    .await;
    let id = created["client_id"].as_str().unwrap();
    // Alice signs in and consents (a registered client is never first-party).
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let url = authorize_url_for(
        "code",
        &app,
        id,
        redirect,
        &[
            ("scope", "openid offline_access country.read"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let hops = browser.open(&url).await;
    let after = sign_in(&browser, hops.last().unwrap(), ALICE).await;
    let page = after.last().unwrap();
    assert!(page.body.contains("Registered web app"), "{}", page.body);
    let done = consent(&browser, page, "approve").await;
    let code = param(&client_redirect(&done), "code").unwrap().to_owned();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", redirect)
        .append_pair("code_verifier", &verifier)
        .finish();
    let (status, _, tokens) = parts(app.token_basic(&id_secret(&created), &body).await).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        app.introspect(COUNTRY_SERVICE, access).await["active"],
        true
    );

    delete_registration(&app, &created, &created).await;
    // RFC 7592 §2.3: its grants and live tokens end with it.
    assert_eq!(
        app.introspect(COUNTRY_SERVICE, access).await["active"],
        false
    );
    let refresh = format!(
        "grant_type=refresh_token&refresh_token={}",
        tokens["refresh_token"].as_str().unwrap()
    );
    let res = app.token_basic(&id_secret(&created), &refresh).await;
    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_registered_clients_and_the_config_never_touches_them() {
    let at = crate::store::location(crate::store::Backend::Sqlite).await;
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    let first = TestApp::spawn(settings.clone()).await;
    let created = register(&first, &machine("country.read")).await;
    first.stop().await;
    // The config's clients are seeded again; the registered one is not the config's to disable.
    let second = TestApp::spawn(settings).await;
    second.access_token(&id_secret(&created)).await;
    let res = manage(
        &second,
        reqwest::Method::GET,
        &path_of(&created),
        Some(&token_of(&created)),
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
}
