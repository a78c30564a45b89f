//! A real browser for the pages' tests: Debian's headless Chromium, driven over WebDriver
//! through a `chromedriver` this helper starts on a free loopback port.
//!
//! Nothing is downloaded: both come from `apt-get install chromium chromium-driver`
//! (`scripts/test.sh` installs them), and a machine without them fails the test, never skips
//! it. The flags are the ones that work headless as root here (ECOSYSTEM.md), with a fresh
//! profile per browser so no cookie, cache entry or stored password leaks between tests.
//! Screenshots (of the whole page) go to `target/screenshots/`.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use thirtyfour::{
    BrowserLogEntry, By, ChromeCapabilities, ChromiumLikeCapabilities, LoggingPrefsLogLevel,
    RequestData, SessionId, WebDriver, WebElement, common::command::FormatRequestData,
};

/// What to install when a binary is missing.
const INSTALL: &str = "apt-get install chromium chromium-driver";

/// How long chromedriver gets to answer `/status` after it starts.
const DRIVER_START: Duration = Duration::from_secs(30);

/// The window the screenshots are taken in.
const WINDOW: (u32, u32) = (1024, 820);

/// A headless Chromium session and the chromedriver behind it; both end on drop.
pub struct Chromium {
    driver: Option<WebDriver>,
    chromedriver: Child,
    port: u16,
    profile: PathBuf,
}

impl Chromium {
    /// Starts chromedriver and opens a headless session. Panics, naming the packages, when
    /// `chromium` or `chromedriver` is not on the `PATH`.
    pub async fn start() -> Self {
        let chromium = on_path("chromium");
        let chromedriver_bin = on_path("chromedriver");
        let port = super::free_port();
        let chromedriver = Command::new(&chromedriver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver_bin.display()));
        let profile = fresh_profile_dir();
        // From here on, drop cleans up whatever was started.
        let mut this = Self {
            driver: None,
            chromedriver,
            port,
            profile,
        };
        let server = format!("http://127.0.0.1:{port}");
        this.wait_for_driver(&server).await;

        let mut caps = ChromeCapabilities::new();
        caps.set_binary(&chromium.to_string_lossy()).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", this.profile.display()))
            .unwrap();
        // The console, so a test can see what the Content-Security-Policy refused.
        caps.set_browser_log_level(LoggingPrefsLogLevel::All)
            .unwrap();
        let driver = WebDriver::new(&server, caps).await.unwrap_or_else(|e| {
            panic!("opening a headless session of {}: {e}", chromium.display())
        });
        driver
            .set_window_rect(0, 0, WINDOW.0, WINDOW.1)
            .await
            .unwrap();
        this.driver = Some(driver);
        this
    }

    async fn wait_for_driver(&mut self, server: &str) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + DRIVER_START;
        loop {
            if let Some(status) = self.chromedriver.try_wait().unwrap() {
                panic!("chromedriver exited at start-up ({status}); is `{INSTALL}` complete?");
            }
            let ready = match http.get(format!("{server}/status")).send().await {
                Ok(res) => res
                    .json::<Value>()
                    .await
                    .ok()
                    .map(|v| v["value"]["ready"] == true),
                Err(_) => None,
            };
            if ready == Some(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {server} within {DRIVER_START:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The WebDriver session, for what the helpers below do not cover.
    pub fn driver(&self) -> &WebDriver {
        self.driver
            .as_ref()
            .expect("the session is open until drop")
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.driver()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// The element `css` selects; panics naming the selector when there is none.
    pub async fn find(&self, css: &str) -> WebElement {
        match self.driver().find(By::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element {css:?} on {}: {e}", self.current_url().await),
        }
    }

    /// Clears the field `css` selects and types `text` into it, as a person would.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks the element `css` selects (a submit button navigates: the call returns once the
    /// next page has loaded).
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    pub async fn current_url(&self) -> String {
        self.driver().current_url().await.unwrap().to_string()
    }

    /// The current DOM, serialised.
    pub async fn page_source(&self) -> String {
        self.driver().source().await.unwrap()
    }

    /// The page's source once it holds `text`: a click that submits a form returns before the
    /// next page has loaded (a sign-in hashes a password first). Panics after 10 s, showing
    /// the page.
    pub async fn wait_for_text(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let source = self.page_source().await;
            if source.contains(text) {
                return source;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} not on {}:\n{source}",
                self.current_url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page, and returns what
    /// it returns.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.driver()
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
            .json()
            .clone()
    }

    /// Emulates the `prefers-color-scheme` media feature (`"light"` or `"dark"`) for the pages
    /// loaded from now on, through the DevTools protocol.
    pub async fn prefer_color_scheme(&self, scheme: &str) {
        let features = json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]});
        self.cdp("Emulation.setEmulatedMedia", features).await;
    }

    /// Turns JavaScript off for this tab, as a person who disabled it would have it.
    pub async fn disable_javascript(&self) {
        self.cdp(
            "Emulation.setScriptExecutionDisabled",
            json!({"value": true}),
        )
        .await;
    }

    /// A DevTools protocol command, through chromedriver's `goog/cdp/execute`: its result.
    pub async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        self.driver()
            .handle()
            .cmd(Cdp(cmd, params))
            .await
            .and_then(|res| res.value_json())
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// The console messages since the last call (CSP refusals are reported there, at level
    /// `SEVERE`).
    pub async fn console(&self) -> Vec<BrowserLogEntry> {
        self.driver().browser_log().await.unwrap()
    }

    /// Saves a PNG of the whole page, below the fold too, as `target/screenshots/<name>` and
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
                }),
            )
            .await;
        let png = STANDARD
            .decode(
                shot["data"]
                    .as_str()
                    .expect("captureScreenshot returns data"),
            )
            .unwrap();
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session and chromedriver (drop does the same, blocking).
    pub async fn quit(mut self) {
        if let Some(driver) = self.driver.take() {
            driver.quit().await.unwrap();
        }
    }
}

impl Drop for Chromium {
    /// After a failed test: the session first, so Chromium exits while chromedriver is there
    /// to end it, then chromedriver. Not through thirtyfour's own drop, whose client's pooled
    /// connections belong to the test's runtime, blocked here: its request would hang until
    /// the timeout.
    fn drop(&mut self) {
        if let Some(driver) = self.driver.take() {
            let session = driver.handle().session_id().to_string();
            let _ = driver.leak();
            delete_session(self.port, &session);
        }
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `DELETE /session/{id}` (W3C WebDriver §8.2) over a plain blocking socket.
fn delete_session(port: u16, session: &str) {
    let Ok(mut socket) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    // The answer comes once the browser has exited; chromedriver may keep the socket open.
    if socket.write_all(request.as_bytes()).is_ok() {
        let _ = socket.read(&mut [0; 512]);
    }
}

/// A DevTools protocol command through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl FormatRequestData for Cdp {
    fn format_request(&self, session_id: &SessionId) -> RequestData {
        RequestData::new(
            reqwest::Method::POST,
            format!("/session/{session_id}/goog/cdp/execute"),
        )
        .add_body(json!({"cmd": self.0, "params": self.1}))
    }
}

/// `target/screenshots/` of the workspace (the README points there), or of
/// `CARGO_TARGET_DIR`.
pub fn screenshots_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::workspace_root().join("target"))
        .join("screenshots")
}

/// The first `name` on the `PATH`, or a panic that says what to install.
fn on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not on the PATH: the browser tests need Debian's Chromium: `{INSTALL}`"
            )
        })
}

fn fresh_profile_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ms-auth-server-chromium-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
