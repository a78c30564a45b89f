//! Token issuance end to end in-process (actix service call: body reading, parameter parsing,
//! client authentication, claims, signing, JSON response) beside a bare signature with the same
//! key, measured in one run. `scripts/bench-token.sh` prints the medians and their ratio.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::test::{TestRequest, call_service, init_service, read_body};
use criterion::{Criterion, criterion_group, criterion_main};
use ms_auth_server::{AppState, Settings, keys::SigningAlgorithm};

/// The playground's settings (in-memory store) signing with `alg`.
fn playground(alg: SigningAlgorithm) -> Settings {
    let mut settings = ms_auth_server::testing::playground_settings();
    settings.keys.algorithm = alg;
    // The per-client issuance limit (20,000 a second by default) is still consulted on every
    // request, but set out of reach: an in-process loop issues faster than that with ES256.
    settings.tokens.max_per_client_per_second = u64::MAX;
    settings
}

const BODY: &str = "grant_type=client_credentials&client_id=service-client-jwt&client_secret=service-client-jwt-secret&scope=country.read%20customer.read%20customer.write";

fn issuance(c: &mut Criterion) {
    for (alg, name) in [
        (SigningAlgorithm::RS256, "rs256"),
        (SigningAlgorithm::ES256, "es256"),
        (SigningAlgorithm::EdDSA, "eddsa"),
    ] {
        let system = actix_web::rt::System::new();
        let state = system.block_on(AppState::build(&playground(alg))).unwrap();
        let service = system.block_on(init_service(
            actix_web::App::new().configure(|cfg| state.configure()(cfg)),
        ));
        // A signing input the size of a real token's, signed by the very key the server uses.
        // One token request through the whole actix service, as the token endpoint receives it.
        let issue = || async {
            let req = TestRequest::post()
                .uri("/ms-auth-server/oauth2/token")
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(BODY)
                .to_request();
            let res = call_service(&service, req).await;
            assert!(res.status().is_success());
            read_body(res).await
        };
        let sample = system.block_on(issue());
        let json: serde_json::Value = serde_json::from_slice(&sample).unwrap();
        let sample = json["access_token"].as_str().unwrap().to_owned();
        let signing_input = sample.rsplit_once('.').unwrap().0.as_bytes().to_vec();
        let keys = state.server.issuer.keys.current();
        let key = keys.active();

        let mut group = c.benchmark_group(format!("token_issuance_{name}"));
        group.bench_function("bare_signature", |b| {
            b.iter(|| key.sign_raw(std::hint::black_box(&signing_input)).unwrap())
        });
        group.bench_function("client_credentials_end_to_end", |b| {
            b.iter(|| system.block_on(issue()))
        });
        group.finish();

        // The machine is a noisy VM: two 5-second windows one after the other can see different
        // load. So also measure in pairs: short bursts of each, alternating, and take the
        // median of the per-round ratios.
        let (mut bare, mut e2e, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..60 {
            let burst = |which: bool| {
                let started = std::time::Instant::now();
                for _ in 0..40 {
                    if which {
                        std::hint::black_box(key.sign_raw(&signing_input).unwrap());
                    } else {
                        std::hint::black_box(system.block_on(issue()));
                    }
                }
                started.elapsed().as_secs_f64() * 1e6 / 40.0
            };
            let (b, e) = if round % 2 == 0 {
                let b = burst(true);
                (b, burst(false))
            } else {
                let e = burst(false);
                (burst(true), e)
            };
            bare.push(b);
            e2e.push(e);
            ratios.push(e / b);
        }
        println!(
            "paired {name}: bare signature {:.1} µs, issuance end to end {:.1} µs, median ratio {:.3} (60 alternating rounds)",
            median(&mut bare),
            median(&mut e2e),
            median(&mut ratios)
        );
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

criterion_group!(benches, issuance);
criterion_main!(benches);
