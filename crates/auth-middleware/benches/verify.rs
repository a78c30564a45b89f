//! The middleware's validation path with cached keys, beside the RSA verification it cannot
//! avoid, and a protected request in-process beside the same request unprotected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{
    HttpResponse,
    test::{TestRequest, call_service, init_service},
    web,
};
use auth_middleware::{Verifier, VerifierSettings, keys::KeySet, require_scope, verify};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use ms_auth_server::keys::{SigningAlgorithm, SigningKey};
use serde_json::json;

fn bench(c: &mut Criterion) {
    let key = SigningKey::generate(SigningAlgorithm::RS256).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": "http://localhost:8085/ms-auth-server", "sub": "service-client-jwt", "aud": "http://localhost:8085/customer-service",
        "nbf": now, "iat": now, "exp": now + 14400, "client_id": "service-client-jwt",
        "scope": ["customer.read", "customer.write", "country.read"], "jti": "8621ac5e-b6a3-493c-b225-9b35dd48fa15",
    });
    let token = key
        .sign(ms_auth_server::keys::Typ::AccessToken, &claims)
        .unwrap();
    let jwks = JwkSet {
        keys: vec![key.jwk().clone()],
    };
    let settings = VerifierSettings {
        audience: vec!["http://localhost:8085/customer-service".to_owned()],
        ..VerifierSettings::default()
    };
    let keys = KeySet::from_jwks(&jwks);

    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let AlgorithmParameters::RSA(rsa) = &key.jwk().algorithm else {
        unreachable!()
    };
    let (n, e) = (
        URL_SAFE_NO_PAD.decode(&rsa.n).unwrap(),
        URL_SAFE_NO_PAD.decode(&rsa.e).unwrap(),
    );
    let parsed = RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .unwrap();

    let mut group = c.benchmark_group("middleware_verify");
    group.bench_function("rsa_verify_parsed_key", |b| {
        b.iter(|| ParsedPublicKey::verify_sig(&parsed, input.as_bytes(), &sig).unwrap())
    });
    group.bench_function("verify_token", |b| {
        b.iter(|| verify(&settings, &keys, std::hint::black_box(&token), now).unwrap())
    });
    group.finish();

    let system = actix_web::rt::System::new();
    let bearer = format!("Bearer {token}");
    let mut group = c.benchmark_group("middleware_request");
    for (name, path, cache) in [
        ("open_get", "/open", 10_000),
        ("protected_get_cached", "/protected", 10_000),
        ("protected_get_uncached", "/protected", 0),
    ] {
        let verifier = web::Data::new(
            Verifier::new(VerifierSettings {
                token_cache_size: cache,
                ..settings.clone()
            })
            .unwrap(),
        );
        verifier.keys().install(KeySet::from_jwks(&jwks));
        let service = system.block_on(init_service(
            actix_web::App::new()
                .app_data(verifier)
                .route(
                    "/protected",
                    web::get()
                        .to(|| async { HttpResponse::Ok().body("ok") })
                        .wrap(require_scope("customer.read")),
                )
                .route(
                    "/open",
                    web::get().to(|| async { HttpResponse::Ok().body("ok") }),
                ),
        ));
        group.bench_function(name, |b| {
            b.iter(|| {
                system.block_on(async {
                    let req = TestRequest::get()
                        .uri(path)
                        .insert_header(("Authorization", bearer.as_str()))
                        .to_request();
                    assert!(call_service(&service, req).await.status().is_success());
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
