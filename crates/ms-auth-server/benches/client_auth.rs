//! client_credentials end to end in-process (the whole actix service: body, parameters, client
//! authentication, claims, signing, JSON) by client authentication method, measured in one run:
//! `client_secret_basic`, and `private_key_jwt` with RS256 and ES256 assertions. Assertions are
//! signed before each timed stretch (the client's work, not the server's), each with its own
//! `jti`. `scripts/bench-client-auth.sh` prints the medians and the ratios (target ≥ 0.85).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use actix_web::test::{TestRequest, call_service, init_service, read_body};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use ms_auth_server::{
    AppState,
    oauth::{
        client::{AuthMethod, ClientMetadata, GrantType},
        client_assertion::ASSERTION_TYPE,
        scope::ScopeSet,
    },
    settings::ClientSettings,
};

const TOKEN_URL: &str = "http://localhost:8085/ms-auth-server/oauth2/token";
const BASIC: &str = "Basic c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ=";
const SCOPE: &str = "scope=country.read%20customer.read%20customer.write";

/// A private key made by openssl, and its public JWK.
fn key(alg: Algorithm) -> (EncodingKey, Jwk) {
    let dir = std::env::temp_dir().join(format!("bench-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join(format!("{alg:?}.pem"));
    let args: &[&str] = match alg {
        Algorithm::RS256 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        _ => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    };
    let ok = std::process::Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .arg("-out")
        .arg(&pem)
        .status()
        .unwrap();
    assert!(ok.success());
    let bytes = std::fs::read(&pem).unwrap();
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&bytes).unwrap(),
        _ => EncodingKey::from_ec_pem(&bytes).unwrap(),
    };
    let mut jwk = Jwk::from_encoding_key(&key, alg).unwrap();
    jwk.common.key_id = Some(format!("{alg:?}"));
    (key, jwk)
}

fn key_client(id: &str, jwk: &Jwk) -> ClientSettings {
    let scopes = ScopeSet::parse_param("country.read customer.read customer.write").unwrap();
    ClientSettings {
        client_id: id.to_owned(),
        client_secret: None,
        client_secret_hash: None,
        metadata: ClientMetadata {
            jwks: Some(serde_json::json!({ "keys": [jwk] })),
            ..ClientMetadata::new()
                .grant(GrantType::ClientCredentials)
                .method(AuthMethod::PrivateKeyJwt)
                .scope(scopes.clone())
                .default_scopes(scopes)
                .access_token_ttl_secs(3600)
        },
    }
}

/// How a request authenticates: a header, or a fresh assertion per request.
#[derive(Clone, Copy)]
enum Method<'a> {
    Basic,
    Assertion {
        client_id: &'a str,
        alg: Algorithm,
        key: &'a EncodingKey,
    },
}

impl Method<'_> {
    /// The bodies (and header) of `n` requests, signed now.
    fn requests(&self, n: usize) -> Vec<(Option<&'static str>, String)> {
        (0..n)
            .map(|_| match self {
                Method::Basic => (
                    Some(BASIC),
                    format!("grant_type=client_credentials&{SCOPE}"),
                ),
                Method::Assertion {
                    client_id,
                    alg,
                    key,
                } => {
                    let now = jsonwebtoken::get_current_timestamp();
                    let claims = serde_json::json!({
                        "iss": client_id, "sub": client_id, "aud": TOKEN_URL,
                        "iat": now, "exp": now + 120, "jti": uuid::Uuid::new_v4().to_string(),
                    });
                    let mut header = Header::new(*alg);
                    header.kid = Some(format!("{alg:?}"));
                    let jwt = jsonwebtoken::encode(&header, &claims, key).unwrap();
                    (
                        None,
                        format!(
                            "grant_type=client_credentials&{SCOPE}&client_assertion_type={ASSERTION_TYPE}&client_assertion={jwt}"
                        ),
                    )
                }
            })
            .collect()
    }
}

fn client_auth(c: &mut Criterion) {
    let (rsa, rsa_jwk) = key(Algorithm::RS256);
    let (ec, ec_jwk) = key(Algorithm::ES256);
    let mut settings = ms_auth_server::testing::playground_settings();
    settings.tokens.max_per_client_per_second = u64::MAX;
    settings.clients.push(key_client("bench-rs256", &rsa_jwk));
    settings.clients.push(key_client("bench-es256", &ec_jwk));
    let system = actix_web::rt::System::new();
    let state = system.block_on(AppState::build(&settings)).unwrap();
    let service = system.block_on(init_service(
        actix_web::App::new().configure(|cfg| state.configure()(cfg)),
    ));
    let service = &service;
    let issue = |header: Option<&'static str>, body: String| async move {
        let mut req = TestRequest::post()
            .uri("/ms-auth-server/oauth2/token")
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
        if let Some(h) = header {
            req = req.insert_header(("Authorization", h));
        }
        let res = call_service(service, req.set_payload(body).to_request()).await;
        assert!(res.status().is_success(), "{}", res.status());
        read_body(res).await
    };
    let methods = [
        ("client_secret_basic", Method::Basic),
        (
            "private_key_jwt_rs256",
            Method::Assertion {
                client_id: "bench-rs256",
                alg: Algorithm::RS256,
                key: &rsa,
            },
        ),
        (
            "private_key_jwt_es256",
            Method::Assertion {
                client_id: "bench-es256",
                alg: Algorithm::ES256,
                key: &ec,
            },
        ),
    ];
    // The time of `requests`, issued one after the other.
    let run = |requests: Vec<(Option<&'static str>, String)>| {
        let started = Instant::now();
        for (header, body) in requests {
            std::hint::black_box(system.block_on(issue(header, body)));
        }
        started.elapsed()
    };

    let mut group = c.benchmark_group("client_auth");
    for (name, method) in &methods {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| run(method.requests(iters as usize)))
        });
    }
    group.finish();

    // Paired, as the machine is a noisy VM: short bursts of each method in turn, the order
    // rotating each round, and the median of the per-round ratios to client_secret_basic.
    const ROUNDS: usize = 40;
    const BURST: usize = 50;
    let mut times = vec![Vec::new(); methods.len()];
    let mut ratios = vec![Vec::new(); methods.len()];
    for round in 0..ROUNDS {
        let mut this_round = vec![Duration::ZERO; methods.len()];
        for k in 0..methods.len() {
            let i = (round + k) % methods.len();
            this_round[i] = run(methods[i].1.requests(BURST));
        }
        for i in 0..methods.len() {
            let micros = this_round[i].as_secs_f64() * 1e6 / BURST as f64;
            times[i].push(micros);
            // Throughput relative to client_secret_basic: its time over this method's.
            ratios[i].push(this_round[0].as_secs_f64() / this_round[i].as_secs_f64());
        }
    }
    for (i, (name, _)) in methods.iter().enumerate() {
        println!(
            "paired {name}: {:.1} µs per token request, throughput {:.3} x client_secret_basic (median of {ROUNDS} rounds of {BURST})",
            median(&mut times[i]),
            median(&mut ratios[i]),
        );
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

criterion_group!(benches, client_auth);
criterion_main!(benches);
