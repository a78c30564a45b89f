//! The binary: bad configuration stops start-up with one clear line naming the key.

use std::process::Command;

use crate::helpers::{
    PLAYGROUND_ID_SECRET, TestApp, kid_of, playground_config, playground_settings,
};

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"));
    cmd.args(args)
        .env_remove("MS_AUTH_SERVER_CONFIG")
        .env_remove("RUST_BACKTRACE")
        .env("MS_AUTH_SERVER__STORE__URL", "memory");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

fn playground() -> String {
    playground_config().display().to_string()
}

#[test]
fn configuration_errors_name_the_key() {
    let pg = playground();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            &["--config", "/nonexistent/ms.toml", "check-config"],
            &[],
            "/nonexistent/ms.toml",
        ),
        (&["check-config"], &[], "`clients`"),
        (
            &["-c", &pg, "check-config"],
            &[("MS_AUTH_SERVER__ISSUER", "not a url")],
            "`issuer`",
        ),
        (
            &["-c", &pg, "check-config"],
            &[("MS_AUTH_SERVER__ISSUER", "http://x/a?b=c")],
            "`issuer`",
        ),
        (
            &["-c", &pg, "check-config"],
            &[("MS_AUTH_SERVER__SERVER__PORT", "ninety")],
            "server.port",
        ),
        (
            &["-c", &pg, "check-config"],
            &[("MS_AUTH_SERVER__SERVER__PROT", "1")],
            "prot",
        ),
        (
            &["-c", &pg, "check-config"],
            &[("MS_AUTH_SERVER__CLUSTER__REPLICATED", "true")],
            "`redis.url`",
        ),
        (
            &["-c", &pg, "check-config"],
            &[
                ("MS_AUTH_SERVER__STORE__URL", "sqlite://x.db"),
                ("MS_AUTH_SERVER__STORE__ENCRYPTION_KEY", "c2hvcnQ="),
            ],
            "`store.encryption_key`",
        ),
        (
            &["-c", &pg, "check-config"],
            &[
                ("MS_AUTH_SERVER__CLUSTER__REPLICATED", "true"),
                ("MS_AUTH_SERVER__REDIS__URL", "redis://127.0.0.1:6379"),
                ("MS_AUTH_SERVER__STORE__URL", "sqlite://x.db"),
            ],
            "`store.url`",
        ),
        (
            &["-c", &pg, "check-config"],
            &[("MS_AUTH_SERVER__KEYS__ALGORITHM", "HS256")],
            "keys.algorithm",
        ),
        (
            &["-c", &pg, "serve"],
            &[("MS_AUTH_SERVER__KEYS__PRIVATE_KEY_FILE", "/nonexistent.pem")],
            "keys.private_key_file",
        ),
    ];
    for (args, env, needle) in cases {
        let (code, stderr) = run(args, env);
        assert_ne!(code, 0, "{args:?} {env:?}");
        assert!(
            stderr.contains(needle),
            "{args:?} {env:?}: expected {needle:?} in {stderr:?}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "one clear line: {stderr}");
    }
}

#[test]
fn a_key_file_of_an_unknown_type_is_refused() {
    let dir = std::env::temp_dir().join(format!("msas-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("cert.pem");
    std::fs::write(
        &cert,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let (code, stderr) = run(
        &["-c", &playground(), "serve"],
        &[
            (
                "MS_AUTH_SERVER__KEYS__PRIVATE_KEY_FILE",
                cert.to_str().unwrap(),
            ),
            ("RUST_LOG", "off"),
        ],
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("keys.private_key_file") && stderr.contains("CERTIFICATE"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_playground_config_is_valid_and_env_overrides_apply() {
    let (code, stderr) = run(&["-c", &playground(), "check-config"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
        .args(["-c", &playground(), "check-config"])
        .env("MS_AUTH_SERVER__ISSUER", "https://auth.example.com")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("issuer https://auth.example.com"));
}

#[test]
fn hash_secret_prints_a_verifiable_hash_and_generate_key_a_pem() {
    use std::io::Write;
    let hash_secret = |input: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
            .arg("hash-secret")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    const STRONG: &str = "Tr0ub4dor&3-correct-horse-battery-staple";
    let out = hash_secret(format!("{STRONG}\n").as_bytes());
    let stored = String::from_utf8(out.stdout).unwrap();
    let hash = ms_auth_server::oauth::secret::SecretHash::parse(stored.trim()).unwrap();
    assert!(hash.verify(STRONG.as_bytes()));
    assert!(!hash.verify(format!("{STRONG}\n").as_bytes()));
    // F6: a guessable secret gets no hash.
    let out = hash_secret(b"my-secret\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("generate-secret"));

    // A generated secret: 256 bits, shown with its hash, which verifies it.
    let out = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
        .arg("generate-secret")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (secret, hash) = (field("secret:"), field("hash:"));
    assert_eq!(secret.len(), 43, "32 bytes, base64url");
    let hash = ms_auth_server::oauth::secret::SecretHash::parse(&hash).unwrap();
    assert!(hash.verify(secret.as_bytes()));

    let out = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
        .args(["generate-key", "--algorithm", "es256"])
        .output()
        .unwrap();
    let pem = String::from_utf8(out.stdout).unwrap();
    ms_auth_server::keys::SigningKey::from_pem(
        pem.as_bytes(),
        ms_auth_server::keys::SigningAlgorithm::ES256,
        None,
    )
    .unwrap();
}

#[test]
fn start_up_warns_about_plain_secrets_and_generated_keys_without_logging_the_secret() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
        .args(["-c", &playground()])
        .env("MS_AUTH_SERVER__SERVER__PORT", "0")
        .env("MS_AUTH_SERVER__STORE__URL", "memory")
        .env("RUST_LOG", "debug")
        .env_remove("MS_AUTH_SERVER_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("ms-auth-server listening") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        log.contains("client secret is given in plain text"),
        "{log}"
    );
    assert!(
        log.contains("service-client-jwt"),
        "the warning names the client: {log}"
    );
    assert!(log.contains("generated at each start"), "{log}");
    assert!(
        !log.contains("service-client-jwt-secret"),
        "the secret was logged: {log}"
    );
    assert!(
        log.contains("user password is given in plain text") && log.contains("alice"),
        "{log}"
    );
    assert!(
        !log.contains("alice-password") && !log.contains("$argon2"),
        "a password or its hash was logged: {log}"
    );
    assert!(!log.contains("PRIVATE KEY"), "{log}");
}

#[test]
fn a_port_in_use_is_one_line_naming_the_keys() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, stderr) = run(
        &["-c", &playground(), "serve"],
        &[
            ("MS_AUTH_SERVER__SERVER__PORT", port.as_str()),
            ("RUST_LOG", "off"),
        ],
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("cannot listen on") && stderr.contains("`server.port`"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn migrate_brings_a_store_up_to_date_and_refuses_memory() {
    let dir = std::env::temp_dir().join(format!("migrate-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/auth.db", dir.display());
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
            .args(["-c", &playground(), "migrate"])
            .env("MS_AUTH_SERVER__STORE__URL", &url)
            .env_remove("MS_AUTH_SERVER_CONFIG")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("is up to date"), "{stdout}");
    }
    assert!(dir.join("auth.db").is_file());
    let (code, stderr) = run(&["-c", &playground(), "migrate"], &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("memory"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn keys_rotate_publishes_one_next_key_and_keys_list_shows_it() {
    let dir = std::env::temp_dir().join(format!("keys-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/auth.db", dir.display());
    let keys = |action: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
            .args(["-c", &playground(), "keys", action])
            .env("MS_AUTH_SERVER__STORE__URL", &url)
            .env("MS_AUTH_SERVER__KEYS__ALGORITHM", "EdDSA")
            .env_remove("MS_AUTH_SERVER_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(keys("list"), "", "a new store holds no key");
    let first = keys("rotate");
    assert!(
        first.contains("next key") && first.contains("EdDSA"),
        "{first}"
    );
    let second = keys("rotate");
    let kid = |s: &str| s.split_whitespace().nth(2).unwrap().to_owned();
    assert_eq!(kid(&first), kid(&second), "one rotation at a time");
    let list = keys("list");
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(
        list.contains("next") && list.contains("activates"),
        "{list}"
    );
    assert!(!list.contains("PRIVATE"), "{list}");
    let (code, stderr) = run(&["-c", &playground(), "keys", "list"], &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("memory"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_revoke_withdraws_a_key_from_a_sqlite_store() {
    let dir = std::env::temp_dir().join(format!("revoke-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/auth.db", dir.display());
    // A server on the store (the playground's encryption key, as the CLI's config has it),
    // learning of changes by polling each second: the CLI's notice cannot reach it.
    let mut settings = playground_settings();
    settings.store.url = url.clone();
    settings.keys.poll_secs = 1;
    let app = TestApp::spawn(settings).await;
    let leaked = kid_of(&app.access_token(PLAYGROUND_ID_SECRET).await);
    let keys = |args: Vec<String>, env: Vec<(&'static str, String)>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let out = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
                .args(["-c", &playground(), "keys"])
                .args(args)
                .env("MS_AUTH_SERVER__STORE__URL", &url)
                .envs(env)
                .env_remove("MS_AUTH_SERVER_CONFIG")
                .env_remove("RUST_BACKTRACE")
                .output()
                .unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8(out.stderr).unwrap(),
            )
        })
    };
    let revoke = |kid: &str| keys(vec!["revoke".to_owned(), kid.to_owned()], Vec::new());

    let (code, out, err) = revoke(&leaked).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("revoked key {leaked}; key "))
            && first.contains("signs from now on"),
        "{out}"
    );
    let active = first.split_whitespace().nth(4).unwrap().to_owned();
    let line_of = |kid: &str| {
        out.lines()
            .find(|l| l.starts_with(kid))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line_of(&leaked).contains("revoked"), "{out}");
    assert!(line_of(&active).contains("active"), "{out}");
    assert!(!out.contains("PRIVATE"), "{out}");

    // The running server drops the key at its next poll and signs with the new one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let kids = app.published_kids().await;
        if kids == [active.as_str()] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still published: {kids:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        kid_of(&app.access_token(PLAYGROUND_ID_SECRET).await),
        active
    );

    let (code, out, err) = revoke(&leaked).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("key {leaked} was revoked already")),
        "{out}"
    );
    let (code, _, err) = revoke("no-such-kid").await.unwrap();
    assert_ne!(code, 0);
    assert_eq!(
        err.trim(),
        "ms-auth-server: no signing key has kid \"no-such-kid\""
    );
    let (code, _, err) = keys(
        vec!["revoke".to_owned(), active.clone()],
        vec![(
            "MS_AUTH_SERVER__KEYS__PRIVATE_KEY_FILE",
            "/nonexistent.pem".to_owned(),
        )],
    )
    .await
    .unwrap();
    assert_ne!(code, 0);
    assert!(err.contains("keys.private_key_file"), "{err}");
    app.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// `ms-auth-server -c <playground> user ARGS…` on the SQLite store at `url`, with `stdin` piped
/// in: exit code, stdout, stderr.
fn user_cli(url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
        .args(["-c", &playground(), "user"])
        .args(args)
        .env("MS_AUTH_SERVER__STORE__URL", url)
        .env_remove("MS_AUTH_SERVER_CONFIG")
        .env_remove("RUST_BACKTRACE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A command that reads nothing may have exited already.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_commands_create_list_set_the_password_and_disable() {
    use ms_auth_server::identity::{PasswordSettings, Passwords, UserOrigin, UserStatus};
    let dir = std::env::temp_dir().join(format!("users-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/auth.db", dir.display());
    let cli = |args: &'static [&'static str], stdin: &'static str| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || user_cli(&url, args, stdin))
    };

    let (code, out, err) = cli(&["list"], "").await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, "USERNAME  ID  ROLES  STATUS  ORIGIN\n",
        "a new store holds no account"
    );

    let (code, out, err) = cli(
        &[
            "create",
            "carol",
            "--role",
            "user",
            "--role",
            "auditor",
            "--name",
            "Carol Example",
            "--email",
            "carol@example.com",
            "--email-verified",
        ],
        "carol-password\n",
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let id = out
        .strip_prefix("created user carol (id ")
        .and_then(|s| s.trim_end().strip_suffix(')'))
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();

    let (code, out, err) = cli(&["list"], "").await.unwrap();
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["USERNAME", "ID", "ROLES", "STATUS", "ORIGIN"]);
    assert_eq!(
        lines[1],
        [
            "carol",
            id.as_str(),
            "user,auditor",
            "active",
            "administration"
        ]
    );
    assert_eq!(lines.len(), 2, "{out}");
    assert!(!out.contains("argon2"), "no hash is shown: {out}");

    // One account per username: a second is refused, with a line that says why.
    let (code, _, err) = cli(&["create", "carol"], "other-password\n").await.unwrap();
    assert_ne!(code, 0);
    assert_eq!(
        err.trim(),
        "ms-auth-server: the username \"carol\" is taken"
    );
    // No password, a short one: refused before anything is written.
    let (code, _, err) = cli(&["create", "dave"], "\n").await.unwrap();
    assert_ne!(code, 0);
    assert!(err.contains("empty password"), "{err}");
    let (code, _, err) = cli(&["create", "dave"], "").await.unwrap();
    assert_ne!(code, 0);
    assert!(err.contains("empty password"), "{err}");
    let (code, _, err) = cli(&["create", "dave"], "short\n").await.unwrap();
    assert_ne!(code, 0);
    assert!(err.contains("at least 8 characters"), "{err}");

    let (code, out, err) = cli(&["set-password", "carol"], "carol-new-password\r\n")
        .await
        .unwrap();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "password of carol changed");
    let (code, _, err) = cli(&["set-password", "nobody"], "nobody-password\n")
        .await
        .unwrap();
    assert_ne!(code, 0);
    assert_eq!(
        err.trim(),
        "ms-auth-server: no user has the username \"nobody\""
    );

    // What the CLI wrote, read as a server reads it.
    let mut settings = playground_settings();
    settings.store.url = url.clone();
    let stores = ms_auth_server::store::Stores::open(&settings.store, &settings.redis)
        .await
        .unwrap();
    let carol = stores.users.user(&id).await.unwrap().unwrap();
    assert_eq!(carol.username, "carol");
    assert_eq!(carol.roles, ["user", "auditor"]);
    assert_eq!(carol.origin, UserOrigin::Administration);
    assert_eq!(carol.claims.name.as_deref(), Some("Carol Example"));
    assert_eq!(carol.claims.email.as_deref(), Some("carol@example.com"));
    assert_eq!(carol.claims.email_verified, Some(true));
    let passwords = Passwords::new(&PasswordSettings::default());
    let hash = carol.password_hash.as_deref();
    assert!(
        passwords
            .verify(hash, "carol-new-password")
            .await
            .unwrap()
            .ok
    );
    assert!(!passwords.verify(hash, "carol-password").await.unwrap().ok);
    assert!(
        !passwords
            .verify(hash, "carol-new-password\r")
            .await
            .unwrap()
            .ok
    );

    let (code, out, err) = cli(&["disable", "carol"], "").await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "disabled user carol");
    let (code, out, _) = cli(&["disable", "carol"], "").await.unwrap();
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "user carol was disabled already");
    let (_, out, _) = cli(&["list"], "").await.unwrap();
    assert!(out.lines().nth(1).unwrap().contains(" disabled "), "{out}");
    assert_eq!(
        stores.users.user(&id).await.unwrap().unwrap().status,
        UserStatus::Disabled
    );

    let (code, err) = run(&["-c", &playground(), "user", "list"], &[]);
    assert_ne!(code, 0);
    assert!(err.contains("memory"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_password_prints_a_hash_for_the_config() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ms-auth-server"))
        .args(["-c", &playground(), "hash-password"])
        .env("MS_AUTH_SERVER__PASSWORDS__MEMORY_KIB", "2048")
        .env("MS_AUTH_SERVER__PASSWORDS__ITERATIONS", "1")
        .env_remove("MS_AUTH_SERVER_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = String::from_utf8(out.stdout).unwrap();
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$v=19$m=2048,t=1,p=1$"), "{hash}");
    ms_auth_server::identity::password::check_stored(hash).unwrap();
    let passwords = ms_auth_server::identity::Passwords::new(&Default::default());
    let v = passwords
        .verify(Some(hash), "a long enough password")
        .await
        .unwrap();
    assert!(
        v.ok && v.needs_rehash,
        "made with the config's parameters, not the defaults"
    );
}
