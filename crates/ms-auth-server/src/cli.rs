//! The `ms-auth-server` command line: serve (default), check the config, hash a secret or a
//! password, generate a key, manage signing keys and user accounts in the store.

use std::{
    io::{BufRead, IsTerminal, Read, Write},
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
};

use clap::{Parser, Subcommand};

use crate::{
    app::App,
    identity::{Password, PasswordSettings, Passwords, StandardClaims, User},
    keys::{SigningAlgorithm, SigningKey},
    oauth::secret::{ClientSecret, SecretHash},
    ops::{Actor, Ops, users::NewUser},
    settings::{CONFIG_FILE_ENV, Settings},
    store::{SqlStore, Stores},
};

#[derive(Debug, Parser)]
#[command(
    name = "ms-auth-server",
    version,
    about = "OAuth 2.0 authorization server issuing JWT access tokens"
)]
pub struct Cli {
    /// TOML config file (environment variables MS_AUTH_SERVER__SECTION__KEY override it).
    #[arg(long, short, env = CONFIG_FILE_ENV, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Load and validate the configuration, then exit.
    CheckConfig,
    /// Bring the store of record's schema up to date (`store.url`), then exit. `serve` does
    /// it at start-up too.
    Migrate,
    /// Signing keys in the store: `keys list`, `keys rotate`, `keys revoke KID`.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// User accounts in the store: `user create NAME`, `user set-password NAME`, `user disable
    /// NAME`, `user list`. Passwords are read from standard input, never from the arguments.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Read a password from standard input (one line) and print its argon2id hash for a
    /// `[[users]]` table's `password_hash`, with the `[passwords]` parameters of `--config`
    /// (argon2id's defaults without one).
    HashPassword,
    /// Read a client secret from standard input and print its stored form for `client_secret_hash`
    /// (secrets under 128 bits of entropy are refused: use `generate-secret`).
    HashSecret,
    /// Print a new secret of 256 random bits and its stored form (`client_secret_hash`,
    /// `admin.token_hash`); the secret itself is shown this once.
    GenerateSecret,
    /// Print a new private signing key as PKCS#8 PEM, for `keys.private_key_file`.
    GenerateKey {
        #[arg(long, value_enum, default_value = "rs256")]
        algorithm: Algorithm,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Print every stored key: kid, algorithm, state and its times.
    List,
    /// Publish a new key of `keys.algorithm` as next; it signs once every cache has it
    /// (`keys.jwks_max_age_secs` + `keys.poll_secs` from now), and the running replicas switch
    /// by themselves. Does nothing if a rotation is already under way.
    Rotate,
    /// Withdraw a key at once (it may have leaked): it leaves the JWKS, and if it was the
    /// active key the next key — or a new one of `keys.algorithm` — signs from now on, with no
    /// publish delay, so tokens it signed stop verifying. Revoking it again changes nothing.
    Revoke {
        /// The `kid` of the key, as `keys list` shows it.
        kid: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account; its password is read from standard input (one line).
    Create {
        username: String,
        /// A role (repeat for more).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// The `name` claim.
        #[arg(long)]
        name: Option<String>,
        /// The `email` claim.
        #[arg(long)]
        email: Option<String>,
        /// The address has been verified (`email_verified`).
        #[arg(long)]
        email_verified: bool,
    },
    /// Set an account's password, read from standard input (one line).
    SetPassword { username: String },
    /// Disable an account: it can no longer sign in.
    Disable { username: String },
    /// Print every account: username, id, roles, status, origin.
    List,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Algorithm {
    Rs256,
    Es256,
    Eddsa,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config),
        Command::Migrate => migrate(cli.config),
        Command::Keys { action } => keys(cli.config, action),
        Command::User { action } => user(cli.config, action),
        Command::HashPassword => hash_password(cli.config),
        Command::CheckConfig => match Settings::load(cli.config.as_deref()) {
            Ok(s) => {
                println!(
                    "configuration is valid: {} client(s), {} user(s), issuer {}",
                    s.clients.len(),
                    s.users.len(),
                    s.issuer
                );
                ExitCode::SUCCESS
            }
            Err(e) => config_error(&e),
        },
        Command::HashSecret => hash_secret(),
        Command::GenerateSecret => generate_secret(),
        Command::GenerateKey { algorithm } => {
            let alg = match algorithm {
                Algorithm::Rs256 => SigningAlgorithm::RS256,
                Algorithm::Es256 => SigningAlgorithm::ES256,
                Algorithm::Eddsa => SigningAlgorithm::EdDSA,
            };
            match SigningKey::generate(alg).and_then(|k| k.to_pkcs8_pem()) {
                Ok(pem) => {
                    print!("{pem}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&format!("key generation failed: {e}")),
            }
        }
    }
}

fn serve(config: Option<PathBuf>) -> ExitCode {
    service_kit::run::serve(
        "ms-auth-server",
        Settings::load(config.as_deref()),
        |s| (&s.log, &s.telemetry),
        |settings| async {
            let app = App::build(settings).await.map_err(|e| e.to_string())?;
            app.run().await.map_err(|e| format!("server error: {e}"))
        },
    )
}

fn migrate(config: Option<PathBuf>) -> ExitCode {
    let settings = match Settings::load(config.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&format!("configuration error: {e}")),
    };
    if settings.store.is_memory() {
        return fail("`store.url` is memory: there is nothing to migrate");
    }
    let opened = actix_web::rt::System::new().block_on(async {
        let store = SqlStore::open(&settings.store).await?;
        store.close().await;
        Ok::<_, crate::store::settings::OpenError>(())
    });
    match opened {
        Ok(()) => {
            println!("store {} is up to date", settings.store.redacted_url());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn keys(config: Option<PathBuf>, action: KeysAction) -> ExitCode {
    let settings = match Settings::load(config.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&format!("configuration error: {e}")),
    };
    if settings.store.is_memory() {
        return fail("`store.url` is memory: keys live in a SQL store (sqlite:// or postgres://)");
    }
    if matches!(action, KeysAction::Revoke { .. }) && settings.keys.private_key_file.is_some() {
        return fail(
            "the signing key comes from `keys.private_key_file`, not the store: replace the file and restart",
        );
    }
    let done = actix_web::rt::System::new().block_on(async {
        let stores = Stores::open(&settings.store, &settings.redis)
            .await
            .map_err(|e| e.to_string())?;
        let ops = Ops::new(
            stores,
            settings.keys.lifecycle(),
            settings.keys.private_key_file.is_some(),
        );
        let now = crate::clock::Clock::system().now();
        match &action {
            KeysAction::List => {}
            KeysAction::Rotate => {
                let next = ops
                    .rotate_key(&Actor::Cli, now)
                    .await
                    .map_err(|e| e.to_string())?;
                println!(
                    "next key {} ({}) signs from {} (Unix time)",
                    next.kid,
                    next.algorithm,
                    next.activates_at.unwrap_or_default()
                );
            }
            KeysAction::Revoke { kid } => {
                let done = ops
                    .revoke_key(&Actor::Cli, kid, now)
                    .await
                    .map_err(|e| e.to_string())?;
                match (&done.activated, done.already) {
                    (_, true) => println!("key {kid} was revoked already"),
                    (Some(a), false) => println!(
                        "revoked key {kid}; key {} ({}) signs from now on",
                        a.kid, a.algorithm
                    ),
                    (None, false) => println!("revoked key {kid}"),
                }
            }
        }
        for k in ops
            .list_keys(&Actor::Cli)
            .await
            .map_err(|e| e.to_string())?
        {
            println!(
                "{}  {:<5}  {:<7}  created {}{}{}",
                k.kid,
                k.algorithm.as_str(),
                k.state.as_str(),
                k.created_at,
                k.activates_at
                    .map(|t| format!("  activates {t}"))
                    .unwrap_or_default(),
                k.publish_until
                    .map(|t| format!("  published until {t}"))
                    .unwrap_or_default()
            );
        }
        Ok::<_, String>(())
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn user(config: Option<PathBuf>, action: UserAction) -> ExitCode {
    let settings = match Settings::load(config.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&format!("configuration error: {e}")),
    };
    if settings.store.is_memory() {
        return fail(
            "`store.url` is memory: accounts live in a SQL store (sqlite:// or postgres://)",
        );
    }
    // Read before the store is opened: nothing is done without it.
    let password = match &action {
        UserAction::Create { .. } | UserAction::SetPassword { .. } => match read_password() {
            Ok(p) => Some(p),
            Err(e) => return fail(&e),
        },
        UserAction::Disable { .. } | UserAction::List => None,
    };
    let done = actix_web::rt::System::new().block_on(async {
        let stores = Stores::open(&settings.store, &settings.redis)
            .await
            .map_err(|e| e.to_string())?;
        let ops = Ops::new(
            stores,
            settings.keys.lifecycle(),
            settings.keys.private_key_file.is_some(),
        )
        .with_passwords(Arc::new(Passwords::new(&settings.passwords)));
        let now = crate::clock::Clock::system().now();
        let actor = Actor::Cli;
        match (action, password) {
            (
                UserAction::Create {
                    username,
                    roles,
                    name,
                    email,
                    email_verified,
                },
                Some(password),
            ) => {
                let new = NewUser {
                    username,
                    password,
                    roles,
                    claims: StandardClaims {
                        name,
                        email,
                        email_verified: email_verified.then_some(true),
                        ..StandardClaims::default()
                    },
                };
                let user = ops
                    .create_user(&actor, new, now)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("created user {} (id {})", user.username, user.id);
            }
            (UserAction::SetPassword { username }, Some(password)) => {
                ops.set_password(&actor, &username, &password, now)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("password of {username} changed");
            }
            (UserAction::Disable { username }, _) => {
                let disabled = ops
                    .disable_user(&actor, &username, now)
                    .await
                    .map_err(|e| e.to_string())?;
                if disabled {
                    println!("disabled user {username}");
                } else {
                    println!("user {username} was disabled already");
                }
            }
            (UserAction::List, _) => {
                let users = ops.list_users(&actor).await.map_err(|e| e.to_string())?;
                print!("{}", user_table(&users));
            }
            (UserAction::Create { .. } | UserAction::SetPassword { .. }, None) => {
                return Err("no password was read".to_owned());
            }
        }
        Ok::<_, String>(())
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// One line of standard input, without its line ending; an empty one is refused.
fn read_password() -> Result<Password, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // No echo control without a terminal library: say so rather than pretend.
        eprint!("password (shown as typed): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&line);
    if password.is_empty() {
        return Err("empty password: pipe the password to standard input (one line)".to_owned());
    }
    Ok(Password::new(password))
}

/// `users` as aligned columns under a header.
fn user_table(users: &[User]) -> String {
    let rows: Vec<[String; 5]> = users
        .iter()
        .map(|u| {
            [
                u.username.clone(),
                u.id.clone(),
                if u.roles.is_empty() {
                    "-".to_owned()
                } else {
                    u.roles.join(",")
                },
                u.status.as_str().to_owned(),
                u.origin.as_str().to_owned(),
            ]
        })
        .collect();
    let header = ["USERNAME", "ID", "ROLES", "STATUS", "ORIGIN"].map(str::to_owned);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn hash_password(config: Option<PathBuf>) -> ExitCode {
    let params = match &config {
        Some(path) => match Settings::load(Some(path)) {
            Ok(s) => s.passwords,
            Err(e) => return config_error(&e),
        },
        None => PasswordSettings::default(),
    };
    let password = match read_password() {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let hashed = actix_web::rt::System::new()
        .block_on(async { Passwords::new(&params).hash(password.expose()).await });
    match hashed {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn hash_secret() -> ExitCode {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return fail(&format!("cannot read the secret from standard input: {e}"));
    }
    let secret = input
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&input);
    if secret.is_empty() {
        return fail("empty secret: pipe the secret to standard input");
    }
    let secret = ClientSecret::new(secret);
    if !secret.is_strong() {
        return fail(
            "the secret is too weak to guess-proof (under 128 bits of entropy): make one with `ms-auth-server generate-secret`",
        );
    }
    match SecretHash::generate(&secret) {
        Ok(hash) => {
            println!("{}", hash.to_phc());
            ExitCode::SUCCESS
        }
        Err(_) => fail("could not hash the secret"),
    }
}

fn generate_secret() -> ExitCode {
    let Ok(secret) = ClientSecret::generate() else {
        return fail("no randomness available");
    };
    match SecretHash::generate(&secret) {
        Ok(hash) => {
            println!("secret: {}", secret.expose());
            println!("hash:   {}", hash.to_phc());
            ExitCode::SUCCESS
        }
        Err(_) => fail("could not hash the secret"),
    }
}

fn config_error(e: &crate::settings::SettingsError) -> ExitCode {
    eprintln!("ms-auth-server: configuration error: {e}");
    ExitCode::from(2)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("ms-auth-server: {message}");
    ExitCode::FAILURE
}
