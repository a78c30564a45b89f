//! Real service binaries for the multi-process tests: started with the playground configs on
//! free ports, stopped by SIGTERM, killed if a test fails first.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A child process killed if the test fails before stopping it.
pub struct Proc {
    pub name: &'static str,
    child: Child,
    pub log: PathBuf,
    /// The management listener's port (health, metrics): a free one, unless `env` set it.
    pub management: u16,
}

impl Proc {
    /// The workspace binary `name` with `--config config`, logging at trace level to a file
    /// in `dir`, with `env` set and every inherited `OTEL_*` variable removed.
    pub fn start(name: &'static str, config: &Path, env: &[(&str, &str)], dir: &Path) -> Self {
        let bin = Path::new(env!("CARGO_BIN_EXE_gateway")).with_file_name(name);
        assert!(
            bin.is_file(),
            "{} is missing: build the workspace's binaries first (`cargo build --workspace`; scripts/test.sh does)",
            bin.display()
        );
        let log = dir.join(format!("{name}-{}.log", uuid::Uuid::new_v4()));
        let mut cmd = Command::new(bin);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("OTEL_")) {
            cmd.env_remove(k);
        }
        let variable = format!(
            "{}__MANAGEMENT__PORT",
            name.to_ascii_uppercase().replace('-', "_")
        );
        let management = match env.iter().find(|(k, _)| *k == variable) {
            Some((_, port)) => port.parse().unwrap(),
            None => free_port(),
        };
        cmd.env(&variable, management.to_string());
        cmd.envs(env.iter().copied());
        let child = cmd
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "trace")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Self {
            name,
            child,
            log,
            management,
        }
    }

    /// `http://127.0.0.1:{management}{path}`.
    pub fn management_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.management)
    }

    /// SIGTERM, then the exit status within 15 s.
    pub async fn stop(&mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let started = Instant::now();
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                assert!(exit.success(), "{} exited with {exit:?}", self.name);
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{} did not exit",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn wait_ok(http: &reqwest::Client, url: &str) {
    for _ in 0..300 {
        if let Ok(res) = http.get(url).send().await
            && res.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not answer 200");
}

/// The playground's config for `file`, with each `(from, to)` replaced.
pub fn playground_config(dir: &Path, file: &str, replace: &[(&str, String)]) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/playground")
        .join(file);
    let mut text = std::fs::read_to_string(source).unwrap();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// A private `redis-server` on a free loopback port, killed when dropped.
pub struct RedisProc {
    port: u16,
    child: Child,
}

impl RedisProc {
    pub fn start() -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is not installed: scripts/test.sh installs it");
        // Owned at once, so a failed start below still kills and reaps it.
        let server = Self { port, child };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {port}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
