//! Real PostgreSQL servers the outage tests stop and start at will: a private cluster in a
//! temporary folder on a free loopback port (made and run by the `postgres` user when the
//! tests run as root, since initdb refuses root). The PostgreSQL scripts/test.sh installs.

use std::{path::PathBuf, process::Command, time::Duration};

pub struct PgServer {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

/// A free loopback port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PgServer {
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path().join("bin"))
                    .filter(|p| p.join("initdb").is_file())
                    .max()
            })
            .expect("PostgreSQL is not installed (/usr/lib/postgresql/*/bin): scripts/test.sh installs it");
        let dir = std::env::temp_dir().join(format!("pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let as_postgres = is_root();
        if as_postgres {
            assert!(
                Command::new("chown")
                    .args(["postgres:postgres", dir.to_str().unwrap()])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let server = Self {
            dir,
            bin,
            port: free_port(),
            as_postgres,
        };
        let data = server.dir.join("data");
        server.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
            ],
        );
        server.resume();
        server
    }

    /// `tool` of the PostgreSQL binaries, run as the `postgres` user when we are root.
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self.command(tool).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        let mut all = vec!["-D", data.to_str().unwrap()];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all);
    }

    /// Starts (again) on the same port, and waits until it accepts connections.
    pub fn resume(&self) {
        let log = self.dir.join("server.log");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        self.pg_ctl(&["-l", log.to_str().unwrap(), "-w", "-o", &opts, "start"]);
    }

    /// Stops at once, as a crash would (`-m immediate`).
    pub fn kill(&self) {
        self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
        std::thread::sleep(Duration::from_millis(50));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private `redis-server` on a free loopback port, nothing saved to disk; killed and
/// started again on the same port at will.
pub struct RedisServer {
    pub port: u16,
    child: std::sync::Mutex<Option<std::process::Child>>,
}

impl RedisServer {
    pub fn start() -> Self {
        let server = Self {
            port: free_port(),
            child: std::sync::Mutex::new(None),
        };
        server.resume();
        server
    }

    /// Starts (again), and waits until it answers.
    pub fn resume(&self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is not installed: scripts/test.sh installs it");
        *self.child.lock().unwrap() = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// SIGKILL: gone at once, as a crash.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
