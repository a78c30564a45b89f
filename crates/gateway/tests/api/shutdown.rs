//! SIGTERM: stop accepting, finish what is in flight, exit cleanly.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::*;

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_then_exits() {
    let up = Upstream::start().await;
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (port, management_port) = (free(), free());
    let dir = std::env::temp_dir().join(format!("gw-shutdown-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nport = {port}\n\n[management]\nport = {management_port}\n\n[[routes]]\nprefix = \"/svc/\"\nupstreams = [\"{}\"]\n",
            up.base
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let management = format!("http://127.0.0.1:{management_port}");
    let http = reqwest::Client::new();
    let mut up_yet = false;
    for _ in 0..100 {
        if http
            .get(format!("{management}/health"))
            .send()
            .await
            .is_ok()
        {
            up_yet = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up_yet, "the gateway did not start");

    // A response that takes a second, under way when SIGTERM arrives.
    let mut res = http.get(format!("{base}/svc/drip")).send().await.unwrap();
    let first = res.chunk().await.unwrap().unwrap();
    assert_eq!(&first[..], b"drip ");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = Vec::new();
    while let Some(chunk) = res.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"drip ", "the in-flight response was cut");

    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the gateway did not exit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
    for url in [format!("{base}/svc/echo"), format!("{management}/health")] {
        assert!(
            http.get(&url).send().await.is_err(),
            "{url} still accepting after exit"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}
