//! The store of record: one suite, run against every backend (memory, SQLite, PostgreSQL),
//! one file per store trait, and the multi-replica tests in `cluster`. PostgreSQL is the real
//! server `scripts/test.sh` starts (`TEST_POSTGRES_URL`); each test gets a database of its own.

use ms_auth_server::{
    App, Settings,
    clock::UnixTime,
    store::{StoreSettings, Stores, settings::EncryptionKey},
};
use sqlx::Connection;

use crate::helpers::{PLAYGROUND_CLIENT, PLAYGROUND_SECRET, basic, playground_settings};

/// One test per backend from one async fn taking the backend.
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use crate::store::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() { super::$name(Backend::Memory).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name(Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name(Backend::Postgres).await }
        }
    )*};
}

// Other suites (the client cache's) run per backend too.
pub(crate) use per_backend;

/// One test per SQL backend (what is sealed at rest) from one async fn taking the backend.
macro_rules! per_sql_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use crate::store::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name(Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name(Backend::Postgres).await }
        }
    )*};
}

mod audit;
mod clients;
mod cluster;
mod codes;
mod consents;
mod families;
mod keys;
mod outbox;
mod pruning;
mod refresh;
mod refresh_grace;
mod session_cache;
mod sessions;
mod users;

pub use clients::client;

pub const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sqlite,
    Postgres,
}

/// A fresh, empty store location of `backend`, removed when dropped.
pub struct Location {
    pub settings: StoreSettings,
    dir: Option<std::path::PathBuf>,
}

impl Drop for Location {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub async fn location(backend: Backend) -> Location {
    let name = format!("t{}", uuid::Uuid::new_v4().simple());
    let (url, dir) = match backend {
        Backend::Memory => ("memory".to_owned(), None),
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("store-{name}"));
            (format!("sqlite://{}/auth.db", dir.display()), Some(dir))
        }
        Backend::Postgres => {
            let admin = std::env::var("TEST_POSTGRES_URL").expect(
                "TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL, or point it at a server",
            );
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0;
            (format!("{base}/{name}"), None)
        }
    };
    Location {
        settings: StoreSettings {
            url,
            encryption_key: Some(EncryptionKey(ENCRYPTION_KEY.to_owned())),
            ..StoreSettings::default()
        },
        dir,
    }
}

/// The stores on `settings`, hot state in process.
pub async fn open(
    settings: &StoreSettings,
) -> Result<Stores, ms_auth_server::store::settings::OpenError> {
    Stores::open(settings, &ms_auth_server::store::RedisSettings::default()).await
}

/// `n` stores on `at`'s database (one for memory), as replicas would have.
pub async fn replicas(at: &Location, backend: Backend, n: usize) -> Vec<Stores> {
    let mut all = vec![open(&at.settings).await.unwrap()];
    if backend != Backend::Memory {
        for _ in 1..n {
            all.push(open(&at.settings).await.unwrap());
        }
    }
    all
}

/// An instant, in Unix seconds.
pub fn t(secs: i64) -> UnixTime {
    UnixTime::from_secs(secs)
}

/// Runs `sql` on `at`'s database directly, as someone with write access to it would.
pub async fn raw(at: &Location, sql: &str) -> u64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&at.settings.url)
        .await
        .unwrap();
    let done = sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    done.rows_affected()
}

/// The one number `sql` selects from `at`'s database (a `COUNT(*)`).
pub async fn count(at: &Location, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&at.settings.url)
        .await
        .unwrap();
    let n = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    n
}

/// A running ms-auth-server on `store`, stoppable.
pub struct Replica {
    pub base: String,
    /// The management listener: `/health…`, `/metrics`.
    pub management: String,
    handle: actix_web::dev::ServerHandle,
}

impl Replica {
    pub async fn start(store: &StoreSettings) -> Self {
        let mut settings: Settings = playground_settings();
        settings.store = store.clone();
        Self::start_with(settings).await
    }

    pub async fn start_with(settings: Settings) -> Self {
        let app = App::build(settings).await.expect("app builds");
        let base = format!("http://127.0.0.1:{}/ms-auth-server", app.port());
        let management = format!("http://127.0.0.1:{}", app.management_port());
        let handle = app.handle();
        tokio::spawn(app.run());
        Self {
            base,
            management,
            handle,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }

    pub async fn jwks(&self) -> serde_json::Value {
        reqwest::get(format!("{}/oauth2/jwks", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn token(&self, id_secret: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/oauth2/token", self.base))
            .header("Authorization", basic(id_secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap()
    }
}

/// The `kid` in a compact JWS's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

pub async fn access_token(replica: &Replica) -> String {
    let res = replica
        .token(&format!("{PLAYGROUND_CLIENT}:{PLAYGROUND_SECRET}"))
        .await;
    assert_eq!(res.status(), 200);
    res.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}
