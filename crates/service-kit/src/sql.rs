//! SQL plumbing the services' stores share: one sqlx `Any` pool over SQLite or PostgreSQL
//! (`store.url`), versioned migrations embedded in the binary, URLs shown without passwords.

use std::{borrow::Cow, time::Duration};

use sqlx::{
    AnyPool, Connection,
    any::AnyPoolOptions,
    migrate::{Migration, MigrationType, Migrator},
};

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(
        "`store.url` {0:?} is not supported: use sqlite://PATH, postgres://USER@HOST:PORT/DB or memory"
    )]
    Url(String),
    #[error("`store.url` {url}: cannot connect: {reason}")]
    Connect { url: String, reason: String },
    #[error("`store.url` {url}: migrations failed: {reason}")]
    Migrate { url: String, reason: String },
}

/// One schema version: number, description, SQL both dialects read alike.
pub type Step = (i64, &'static str, &'static str);

/// The URL with any password masked, for logs and errors.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_owned(),
        // Not a URL the parser understands: it may still hold a password.
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

/// `sqlite://PATH` gains `?mode=rwc` (create) and its folder; `postgres://` passes as is.
fn connect_url(url: &str) -> Result<String, SqlError> {
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return Err(SqlError::Url(url.to_owned()));
        }
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| SqlError::Connect {
                url: url.to_owned(),
                reason: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        return Ok(if rest.contains('?') {
            url.to_owned()
        } else {
            format!("{url}?mode=rwc")
        });
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_owned());
    }
    Err(SqlError::Url(url.to_owned()))
}

/// How long a pooled connection may sit unused before it is pinged before its next use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// A pool on `url` with `steps` applied (replicas starting together take turns under the
/// migrator's lock). Waiting for a connection is bounded by `acquire_timeout`.
pub async fn open(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    steps: &'static [Step],
) -> Result<AnyPool, SqlError> {
    let target = connect_url(url)?;
    sqlx::any::install_default_drivers();
    let shown = redacted_url(url);
    // SQLite has one writer at a time: several connections only take turns at its file lock,
    // and a connection refused it sleeps in SQLite's busy handler (milliseconds at a time)
    // before it tries again. One connection serves them in order instead, with no sleeping;
    // waiting for it is bounded by `acquire_timeout` like any other.
    let sqlite = target.starts_with("sqlite:");
    let pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 1 } else { max_connections.max(1) })
        .acquire_timeout(acquire_timeout)
        // sqlx pings a connection when it is released, and by default again when it is taken:
        // a round trip to the server (or a wake of SQLite's worker thread) beside every
        // operation's own. A connection that has just been used is known to be alive; only one
        // idle for a while (a server restarted, a connection dropped by a firewall) is pinged
        // before use.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_connect(|conn, _| {
            Box::pin(async move {
                if conn.backend_name() == "SQLite" {
                    // Writers wait for each other instead of failing at once. Write-ahead
                    // logging lets readers go on beside the one writer, and with it
                    // `synchronous = NORMAL` syncs at checkpoints rather than at every commit:
                    // a commit survives a crash of the process (not a power cut before the
                    // next checkpoint), the SQLite documentation's advice for WAL. In the
                    // default rollback journal every grant's few writes were serialised and
                    // synced one by one: code exchanges ran at 0.02–0.06 of client_credentials.
                    for pragma in [
                        "PRAGMA busy_timeout = 5000",
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                }
                Ok(())
            })
        })
        .connect(&target)
        .await
        .map_err(|e| SqlError::Connect {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
    let migrator = Migrator {
        migrations: Cow::Owned(
            steps
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    migrator.run(&pool).await.map_err(|e| SqlError::Migrate {
        url: shown,
        reason: e.to_string(),
    })?;
    Ok(pool)
}
