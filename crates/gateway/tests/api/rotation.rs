//! Key rotation through the whole system, real binaries: two ms-auth-server replicas on
//! PostgreSQL (scripts/test.sh's, `TEST_POSTGRES_URL`) and a private redis-server, behind the
//! gateway, with country-service validating tokens. While steady load asks the gateway for
//! tokens and protected pages, an operator rotates the signing key three times with
//! `ms-auth-server keys rotate`. No request may fail, and country-service — started before the
//! first rotation, never restarted, never refetching on an unknown `kid` — accepts every new
//! token, having learnt each key from the JWKS `max-age` before it signed.

use std::{
    path::Path,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::procs::{Proc, RedisProc, free_port, playground_config, wait_ok};

/// A fresh database on the test command's PostgreSQL, by its `psql`.
fn fresh_database() -> String {
    let admin = std::env::var("TEST_POSTGRES_URL").expect(
        "TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL, or point it at a server",
    );
    let name = format!("rot{}", uuid::Uuid::new_v4().simple());
    let psql = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join("bin/psql"))
                .filter(|p| p.is_file())
                .max()
        })
        .expect("psql is missing: scripts/test.sh installs PostgreSQL");
    let out = Command::new(psql)
        .args(["-q", "-d", &admin, "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

#[actix_web::test]
async fn rotating_keys_under_load_through_the_gateway_fails_no_request() {
    let redis = RedisProc::start();
    let database = fresh_database();
    let (a, b, country, gw) = (free_port(), free_port(), free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("rotation-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports = |extra: &[(&'static str, String)]| {
        let mut r = vec![
            ("9000", a.to_string()),
            ("8082", country.to_string()),
            ("8085", gw.to_string()),
        ];
        r.extend(extra.iter().cloned());
        r
    };
    let auth_config = playground_config(&dir, "ms-auth-server.toml", &ports(&[]));
    // Learns keys only from background refreshes paced by the JWKS max-age.
    let country_config = playground_config(
        &dir,
        "country-service.toml",
        &ports(&[(
            "[auth]\n",
            "[auth]\nrefresh_interval_secs = 3600\nmin_refetch_interval_secs = 3600\n".to_owned(),
        )]),
    );
    let gateway_config = dir.join("gateway.toml");
    std::fs::write(
        &gateway_config,
        format!(
            "[server]\nport = {gw}\n\n[[routes]]\nprefix = \"/ms-auth-server/\"\nupstreams = [\"http://127.0.0.1:{a}\", \"http://127.0.0.1:{b}\"]\n\n[[routes]]\nprefix = \"/country-service/\"\nupstreams = [\"http://127.0.0.1:{country}\"]\n"
        ),
    )
    .unwrap();
    let redis_url = redis.url();
    let auth_env = |port: &str| {
        vec![
            ("MS_AUTH_SERVER__STORE__URL", database.clone()),
            ("MS_AUTH_SERVER__REDIS__URL", redis_url.clone()),
            ("MS_AUTH_SERVER__CLUSTER__REPLICATED", "true".to_owned()),
            ("MS_AUTH_SERVER__KEYS__JWKS_MAX_AGE_SECS", "1".to_owned()),
            ("MS_AUTH_SERVER__KEYS__POLL_SECS", "1".to_owned()),
            ("MS_AUTH_SERVER__SERVER__PORT", port.to_owned()),
        ]
    };
    let start = |name: &'static str, config: &Path, env: Vec<(&'static str, String)>| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Proc::start(name, config, &env, &dir)
    };
    let http = reqwest::Client::new();
    let mut replica_a = start("ms-auth-server", &auth_config, auth_env(&a.to_string()));
    wait_ok(&http, &replica_a.management_url("/health/ready")).await;
    let mut replica_b = start("ms-auth-server", &auth_config, auth_env(&b.to_string()));
    let mut country_svc = start("country-service", &country_config, vec![]);
    let mut gateway = start("gateway", &gateway_config, vec![]);
    wait_ok(&http, &replica_b.management_url("/health/ready")).await;
    wait_ok(&http, &country_svc.management_url("/health/ready")).await;
    wait_ok(&http, &gateway.management_url("/health")).await;

    let base = format!("http://127.0.0.1:{gw}");
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let kids = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (stop, served, failed, kids, base) = (
                stop.clone(),
                served.clone(),
                failed.clone(),
                kids.clone(),
                base.clone(),
            );
            actix_web::rt::spawn(async move {
                let http = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let token = http
                        .post(format!("{base}/ms-auth-server/oauth2/token"))
                        .basic_auth("service-client-jwt", Some("service-client-jwt-secret"))
                        .form(&[
                            ("grant_type", "client_credentials"),
                            ("scope", "country.read"),
                        ])
                        .send()
                        .await
                        .ok()
                        .filter(|r| r.status() == 200);
                    let token = match token {
                        Some(r) => r
                            .json::<Value>()
                            .await
                            .ok()
                            .and_then(|v| v["access_token"].as_str().map(str::to_owned)),
                        None => None,
                    };
                    let Some(token) = token else {
                        failed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    if let Ok(h) = jsonwebtoken_kid(&token) {
                        kids.lock().unwrap().insert(h);
                    }
                    let page = http
                        .get(format!("{base}/country-service/countries/DE"))
                        .bearer_auth(&token)
                        .send()
                        .await;
                    match page {
                        Ok(r) if r.status() == 200 => {
                            served.fetch_add(1, Ordering::Relaxed);
                        }
                        other => {
                            eprintln!("protected request failed: {:?}", other.map(|r| r.status()));
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();

    let bin = Path::new(env!("CARGO_BIN_EXE_gateway")).with_file_name("ms-auth-server");
    for _ in 0..3 {
        let mut rotate = Command::new(&bin);
        rotate
            .args(["-c", auth_config.to_str().unwrap(), "keys", "rotate"])
            .env("RUST_LOG", "warn");
        for (k, v) in auth_env(&a.to_string()) {
            rotate.env(k, v);
        }
        let out = rotate.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let kid = stdout.split_whitespace().nth(2).unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut signing = 0;
            for port in [a, b] {
                let jwks: Value = http
                    .get(format!(
                        "http://127.0.0.1:{port}/ms-auth-server/oauth2/jwks"
                    ))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                signing += usize::from(jwks["keys"][0]["kid"] == kid.as_str());
            }
            if signing == 2 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "rotation to {kid} did not complete"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let (served, failed) = (
        served.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    let kids = kids.lock().unwrap().clone();
    assert!(served > 50, "too little load to mean anything: {served}");
    assert_eq!(failed, 0, "{failed} of {} requests failed", served + failed);
    assert_eq!(
        kids.len(),
        4,
        "the first key and three rotations signed: {kids:?}"
    );
    for p in [
        &mut gateway,
        &mut country_svc,
        &mut replica_b,
        &mut replica_a,
    ] {
        p.stop().await;
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The `kid` in a compact JWS's protected header.
fn jsonwebtoken_kid(token: &str) -> Result<String, ()> {
    use base64::Engine;
    let header = token.split('.').next().ok_or(())?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| ())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| ())?;
    v["kid"].as_str().map(str::to_owned).ok_or(())
}
