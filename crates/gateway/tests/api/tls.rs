//! TLS at the gateway (`[server.tls]`): a certificate made here with the `openssl` CLI, a
//! client trusting only it, the scheme passed on as https, and certificates replaced in place.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use gateway::settings::TlsSettings;

use crate::helpers::*;

/// A self-signed P-256 certificate for 127.0.0.1 (an end-entity one: `CA:FALSE`, as webpki
/// wants), written to `dir/{name}.crt` and `.key`; its PEM is returned.
fn self_signed(dir: &Path, name: &str) -> Vec<u8> {
    let config = dir.join(format!("{name}.cnf"));
    std::fs::write(
        &config,
        format!(
            "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n[dn]\nCN = {name}\n\
             [ext]\nsubjectAltName = IP:127.0.0.1\nbasicConstraints = critical,CA:FALSE\n\
             keyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n"
        ),
    )
    .unwrap();
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-config"])
        .arg(&config)
        .arg("-keyout")
        .arg(dir.join(format!("{name}.key")))
        .arg("-out")
        .arg(dir.join(format!("{name}.crt")))
        .output()
        .expect("the openssl CLI");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.join(format!("{name}.crt"))).unwrap()
}

/// Puts certificate `name` in service at `dir/tls.crt` and `dir/tls.key`, each file replaced
/// at once (a rename), as certificate managers do.
fn install(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    for (from, to) in [
        (format!("{name}.key"), &key),
        (format!("{name}.crt"), &cert),
    ] {
        let staged = dir.join(format!("{from}.staged"));
        std::fs::copy(dir.join(&from), &staged).unwrap();
        std::fs::rename(&staged, to).unwrap();
    }
    (cert, key)
}

/// A client that trusts only `pem`, with no pooled connections (each request is a handshake).
fn client_trusting(pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem).unwrap()])
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gw-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn tls_gateway(up: &Upstream, dir: &Path, reload_interval_secs: u64) -> TestGateway {
    let (cert_file, key_file) = install(dir, "first");
    gateway(vec![up.base.clone()], |s| {
        s.server.tls = Some(TlsSettings {
            cert_file,
            key_file,
            reload_interval_secs,
        })
    })
    .await
}

#[tokio::test]
async fn https_is_proxied_and_the_upstream_hears_of_it() {
    let dir = temp_dir();
    let first = self_signed(&dir, "first");
    let up = Upstream::start().await;
    let gw = tls_gateway(&up, &dir, 5).await;
    let https = format!("https://127.0.0.1:{}/svc/echo", gw.port);
    let res = client_trusting(&first).get(&https).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let h = &body["headers"];
    assert_eq!(h["x-forwarded-proto"], "https");
    assert!(
        h["forwarded"].as_str().unwrap().ends_with(";proto=https"),
        "{}",
        h["forwarded"]
    );
    // Plain http on the TLS port gets no answer from the proxy.
    let plain = gw
        .http
        .get(format!("http://127.0.0.1:{}/svc/echo", gw.port))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    assert_eq!(up.hits(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Waits until a client trusting `pem` gets through, `tries` times 100 ms at most.
async fn served(port: u16, pem: &[u8], tries: usize) -> bool {
    let client = client_trusting(pem);
    for _ in 0..tries {
        let res = client
            .get(format!("https://127.0.0.1:{port}/svc/echo"))
            .send()
            .await;
        if res.is_ok_and(|r| r.status() == 200) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn replaced_files_switch_the_served_certificate() {
    let dir = temp_dir();
    let first = self_signed(&dir, "first");
    let second = self_signed(&dir, "second");
    let up = Upstream::start().await;
    let gw = tls_gateway(&up, &dir, 1).await;
    assert!(served(gw.port, &first, 1).await);
    assert!(
        !served(gw.port, &second, 1).await,
        "second is not in service yet"
    );
    // A half-done replacement (the new certificate, the old key) is not taken.
    std::fs::copy(dir.join("second.crt"), dir.join("tls.crt")).unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        served(gw.port, &first, 1).await,
        "the certificate in service stays"
    );
    install(&dir, "second");
    assert!(
        served(gw.port, &second, 30).await,
        "not switched within 3 s"
    );
    assert!(!served(gw.port, &first, 1).await);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn sighup_reloads_the_certificate_at_once() {
    let dir = temp_dir();
    let first = self_signed(&dir, "first");
    let second = self_signed(&dir, "second");
    let up = Upstream::start().await;
    // Polling too rare to matter here.
    let gw = tls_gateway(&up, &dir, 3_600).await;
    assert!(served(gw.port, &first, 1).await);
    install(&dir, "second");
    let status = Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        served(gw.port, &second, 20).await,
        "not switched within 2 s of SIGHUP"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_certificate_that_does_not_load_stops_the_start() {
    let dir = temp_dir();
    std::fs::write(dir.join("tls.crt"), "not a certificate").unwrap();
    std::fs::write(dir.join("tls.key"), "not a key").unwrap();
    let mut settings = gateway::Settings::default();
    settings.server.port = 0;
    settings.management.port = Some(0);
    settings.server.tls = Some(TlsSettings {
        cert_file: dir.join("tls.crt"),
        key_file: dir.join("tls.key"),
        reload_interval_secs: 5,
    });
    let error = gateway::App::build(settings).await.err().expect("refused");
    assert!(
        error.to_string().contains("server.tls.cert_file"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
