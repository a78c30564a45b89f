//! The test harness every crate's tests share (the `testing` cargo feature, never on in a
//! deployed build): the playground's own configuration on free ports, servers started
//! in-process on it, waits for a listener to answer, and the browsers that drive the pages: a
//! cookie-jar HTTP client reading forms (`browser`, `html`) and a real headless Chromium
//! (`chromium`).
//!
//! This crate's integration tests (through a dev-dependency on itself with the feature) and
//! `test-support` (the resource services' tests) both start their servers here, so the
//! playground is loaded and a server started one way. Living in this crate rather than in a
//! test crate is what lets ms-auth-server's own tests use it: a dev-dependency on
//! `test-support` would compile ms-auth-server a second time.

// A harness that cannot start its server (or a browser) has nothing better to do than stop
// the test with the cause: these `expect`s and `unwrap`s are its error reporting.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod browser;
pub mod chromium;
pub mod html;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use crate::{App, Settings, clock::Clock};

/// The playground's machine client, as `deploy/playground/ms-auth-server.toml` registers it.
pub const PLAYGROUND_CLIENT: &str = "service-client-jwt";
/// The playground client's secret (a plain secret: the playground is not a deployment).
pub const PLAYGROUND_SECRET: &str = "service-client-jwt-secret";

/// The workspace root, where `deploy/`, `docs/` and `scripts/` are.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A free loopback port (bound and released: the caller binds it right after), for a server
/// whose URL must be known before it starts (an issuer naming its own port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free loopback port")
        .local_addr()
        .expect("its address")
        .port()
}

/// The playground's configuration file.
pub fn playground_config() -> PathBuf {
    workspace_root().join("deploy/playground/ms-auth-server.toml")
}

/// The playground's own configuration, on a free port (and so a free management port) with
/// the in-memory store: one such server per test, many in one process.
pub fn playground_settings() -> Settings {
    let mut settings =
        Settings::load(Some(&playground_config())).expect("the playground config loads");
    settings.server.port = 0;
    settings.store.url = "memory".to_owned();
    settings
}

/// A running ms-auth-server: its two listeners, and a handle to stop it.
pub struct Spawned {
    /// `http://127.0.0.1:PORT`, the public listener without the context path.
    pub origin: String,
    /// The origin and `server.context_path`: where the endpoints are.
    pub base: String,
    /// The management listener, `http://127.0.0.1:PORT` (`/health…`, `/metrics`).
    pub management: String,
    handle: actix_web::dev::ServerHandle,
}

impl Spawned {
    /// Stops the server, letting requests in flight finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }

    /// A handle that stops the server from elsewhere.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.handle.clone()
    }
}

/// Builds an app on `settings` (their port; the playground's is 0, a free one) reading the
/// system clock, and serves it on the current tokio runtime.
pub async fn spawn(settings: Settings) -> Spawned {
    spawn_with(settings, Clock::system()).await
}

/// [`spawn`] reading time from `clock`: a [`crate::clock::ManualClock`]'s moves the server's
/// "now" for expiry tests that would otherwise sleep.
pub async fn spawn_with(settings: Settings, clock: Clock) -> Spawned {
    // `serve` validates at load; a test's settings are changed after it, so they are checked
    // again here, as a real start would check them.
    if let Err(e) = settings.validate() {
        panic!("the test's settings are invalid: {e}");
    }
    let context_path = settings.server.context_path.clone();
    let app = App::build_with(settings, clock)
        .await
        .expect("the app builds");
    let origin = format!("http://127.0.0.1:{}", app.port());
    let spawned = Spawned {
        base: format!("{origin}{context_path}"),
        origin,
        management: format!("http://127.0.0.1:{}", app.management_port()),
        handle: app.handle(),
    };
    tokio::spawn(app.run());
    spawned
}

/// Polls `url` until it answers `status` (up to 10 s). Readiness answers are reused for
/// about a second, so a change shows within that.
pub async fn wait_for_status(url: &str, status: u16) {
    wait_for(url, status, Duration::from_secs(10)).await;
}

/// Polls `url` every 50 ms until it answers `status`; panics with the last answer once
/// `within` has passed.
pub async fn wait_for(url: &str, status: u16, within: Duration) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + within;
    loop {
        let got = http.get(url).send().await.map(|r| r.status().as_u16());
        if got.as_ref().is_ok_and(|s| *s == status) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{url} answered {got:?}, not {status}, within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
