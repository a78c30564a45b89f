//! The SQL store of record: SQLite (embedded) or PostgreSQL, through sqlx's `Any` driver so
//! both run the same statements; the schema is versioned and migrated at start-up. One
//! [`SqlStore`] implements every store trait, one file each; each operation goes through
//! `SqlStore::run` once, which bounds and times it.
use crate::clock::UnixTime;

mod audit;
mod clients;
mod codes;
mod consents;
mod keys;
mod outbox;
mod refresh;
pub mod sealing;
mod sessions;
mod users;

use std::{future::Future, time::Duration};

use sqlx::{AnyPool, Row};

use super::{
    StoreError,
    settings::{OpenError, StoreSettings},
};
use sealing::Sealer;

/// The schema's versions, in order; each runs once.
const STEPS: &[service_kit::sql::Step] = &[
    (
        1,
        "clients and signing keys",
        include_str!("migrations/0001_clients_and_keys.sql"),
    ),
    (
        2,
        "grants and audit",
        include_str!("migrations/0002_grants_and_audit.sql"),
    ),
    (
        3,
        "key lifecycle",
        include_str!("migrations/0003_key_lifecycle.sql"),
    ),
    (
        4,
        "key row seals",
        include_str!("migrations/0004_key_row_seals.sql"),
    ),
    (
        5,
        "audit actor",
        include_str!("migrations/0005_audit_actor.sql"),
    ),
    (
        6,
        "grant details, rotation grace and access tokens per family",
        include_str!("migrations/0006_grant_details.sql"),
    ),
    (7, "users", include_str!("migrations/0007_users.sql")),
    (
        8,
        "browser sessions and consents",
        include_str!("migrations/0008_sessions_and_consents.sql"),
    ),
    (
        9,
        "back-channel logout notices",
        include_str!("migrations/0009_logout_notices.sql"),
    ),
    (
        10,
        "registration access tokens",
        include_str!("migrations/0010_client_registration.sql"),
    ),
];

pub struct SqlStore {
    pool: AnyPool,
    /// SQLite (one connection, statements run in order) rather than PostgreSQL: the few
    /// operations written differently for each ask.
    sqlite: bool,
    sealer: Sealer,
    /// How long one operation may take before the store counts as unavailable
    /// (`store.connect_timeout_ms`).
    limit: Duration,
    /// How long audit entries are kept (`store.audit_retention_days`); `None`: forever.
    audit_retention: Option<Duration>,
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

// Instants are stored as `BIGINT` seconds: `UnixTime` binds and reads as the `i64` it wraps.
impl<DB: sqlx::Database> sqlx::Type<DB> for UnixTime
where
    i64: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for UnixTime
where
    i64: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <i64 as sqlx::Encode<'q, DB>>::encode_by_ref(&self.secs(), buf)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for UnixTime
where
    i64: sqlx::Decode<'r, DB>,
{
    fn decode(
        value: <DB as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        <i64 as sqlx::Decode<'r, DB>>::decode(value).map(UnixTime::from_secs)
    }
}

impl SqlStore {
    /// Connects to `settings.url`, brings the schema up to date and re-seals key rows still
    /// sealed the old way.
    pub async fn open(settings: &StoreSettings) -> Result<Self, OpenError> {
        let key = settings
            .encryption_key
            .as_ref()
            .ok_or(OpenError::MissingEncryptionKey)?;
        let sealer = Sealer::from_base64(&key.0)?;
        let limit = Duration::from_millis(settings.connect_timeout_ms.max(1));
        let pool =
            service_kit::sql::open(&settings.url, settings.max_connections, limit, STEPS).await?;
        let store = Self {
            pool,
            sealer,
            sqlite: settings.url.starts_with("sqlite:"),
            limit,
            audit_retention: settings.audit_retention(),
        };
        let upgraded = store.upgrade_seals().await.map_err(OpenError::Keys)?;
        if upgraded > 0 {
            tracing::info!(
                rows = upgraded,
                "signing-key rows re-sealed to bind their whole row"
            );
        }
        Ok(store)
    }

    /// The raw row of a signing key, for tests that check what is at rest.
    pub async fn raw_key_row(&self, kid: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT sealed_private_key FROM signing_keys WHERE kid = $1")
            .bind(kid)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(|r| r.try_get::<String, _>(0).map_err(corrupt))
            .transpose()
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred one that read first and then writes fails with "database is locked" when
    /// another connection wrote in between (write-ahead logging cannot move its snapshot),
    /// where waiting for the lock at the start is served by the busy timeout.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let begun = if self.sqlite {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        } else {
            self.pool.begin().await
        };
        begun.map_err(unavailable)
    }

    /// Runs one operation of `store` (the trait: `clients`, `keys`, …), bounded and timed.
    async fn run<T>(
        &self,
        store: &'static str,
        op: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        super::bounded_and_timed(store, op, self.limit, call).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait::async_trait]
impl crate::store::Probe for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
