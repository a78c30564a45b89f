//! The SQL store of record: SQLite (embedded) or PostgreSQL, through sqlx's `Any` driver so
//! both run the same statements; the schema is versioned and migrated at start-up.
use crate::clock::UnixTime;

use std::{sync::Arc, time::Duration};

use sqlx::{AnyPool, Row};

use super::{
    ClientStore, KeyState, KeyStore, Revoked, StoreError, StoredKey,
    sealing::{SealVersion, Sealer, key_row_aad},
    settings::{OpenError, StoreSettings},
};
use crate::keys::SigningAlgorithm;
use crate::oauth::client::Client;

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
];

pub struct SqlStore {
    pub(super) pool: AnyPool,
    sealer: Sealer,
}

pub(super) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
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

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
        let pool = service_kit::sql::open(
            &settings.url,
            settings.max_connections,
            Duration::from_millis(settings.connect_timeout_ms.max(1)),
            STEPS,
        )
        .await?;
        let store = Self { pool, sealer };
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

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait::async_trait]
impl super::Probe for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// A client from its row: the `secret_hash` column holds its credential (see
/// [`Client::from_row`]).
fn client_from_row(row: &sqlx::any::AnyRow) -> Result<Client, StoreError> {
    let id: String = row.try_get("client_id").map_err(corrupt)?;
    let credential: String = row.try_get("secret_hash").map_err(corrupt)?;
    let metadata: String = row.try_get("metadata").map_err(corrupt)?;
    Client::from_row(id.as_str(), &credential, &metadata)
        .map_err(|e| corrupt(format!("client {id}: {e}")))
}

#[async_trait::async_trait]
impl ClientStore for SqlStore {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, secret_hash, metadata FROM clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|r| client_from_row(&r).map(Arc::new)).transpose()
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        let rows =
            sqlx::query("SELECT client_id, secret_hash, metadata FROM clients ORDER BY client_id")
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        rows.iter()
            .map(|r| client_from_row(r).map(Arc::new))
            .collect()
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        let row = client.to_row().map_err(corrupt)?;
        sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, metadata, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, \
             metadata = excluded.metadata, updated_at = excluded.updated_at",
        )
        .bind(client.id.as_str())
        .bind(row.credential)
        .bind(row.metadata)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }
}

/// A key row as read, before its seal is opened.
struct KeyRow {
    /// Its columns; `private_key_pem` is empty until opened.
    key: StoredKey,
    sealed: String,
    version: i64,
}

fn key_row(row: &sqlx::any::AnyRow) -> Result<KeyRow, StoreError> {
    let kid: String = row.try_get("kid").map_err(corrupt)?;
    let algorithm: String = row.try_get("algorithm").map_err(corrupt)?;
    let state: String = row.try_get("state").map_err(corrupt)?;
    let Some(algorithm) = SigningAlgorithm::parse(&algorithm) else {
        return Err(corrupt(format!("key {kid}: algorithm {algorithm:?}")));
    };
    let Some(state) = KeyState::parse(&state) else {
        return Err(corrupt(format!("key {kid}: state {state:?}")));
    };
    Ok(KeyRow {
        sealed: row.try_get("sealed_private_key").map_err(corrupt)?,
        version: row.try_get("seal_version").map_err(corrupt)?,
        key: StoredKey {
            private_key_pem: String::new(),
            created_at: row.try_get("created_at").map_err(corrupt)?,
            activates_at: row.try_get("activates_at").map_err(corrupt)?,
            publish_until: row.try_get("publish_until").map_err(corrupt)?,
            kid,
            algorithm,
            state,
        },
    })
}

/// A key as read and opened, with the sealed form it was read in (what a conditional
/// rewrite compares against).
struct Sealed {
    key: StoredKey,
    sealed: String,
    version: SealVersion,
}

impl SqlStore {
    /// Opens `row`'s seal as `version` binds it: fails as `Corrupt` when any bound column
    /// differs from what was sealed.
    fn open_row(&self, row: KeyRow, version: SealVersion) -> Result<Sealed, StoreError> {
        let kid = row.key.kid.clone();
        let pem = self
            .sealer
            .open(&row.sealed, &key_row_aad(version, &row.key))
            .map_err(|e| corrupt(format!("key {kid}: {e}")))?;
        Ok(Sealed {
            key: StoredKey {
                private_key_pem: String::from_utf8(pem).map_err(corrupt)?,
                ..row.key
            },
            sealed: row.sealed,
            version,
        })
    }

    /// A row of the current seal version, opened; older ones are upgraded when the store
    /// opens, and one still found later is refused rather than trusted.
    fn sealed_from_row(&self, row: &sqlx::any::AnyRow) -> Result<Sealed, StoreError> {
        let row = key_row(row)?;
        match SealVersion::from_column(row.version) {
            Some(SealVersion::Row) => self.open_row(row, SealVersion::Row),
            Some(SealVersion::KidOnly) => Err(corrupt(format!(
                "key {}: sealed to its kid alone (seal_version 1, by an older ms-auth-server): \
                 `ms-auth-server migrate` or a restart re-seals it",
                row.key.kid
            ))),
            None => Err(corrupt(format!(
                "key {}: seal_version {}",
                row.key.kid, row.version
            ))),
        }
    }

    fn key_from_row(&self, row: &sqlx::any::AnyRow) -> Result<StoredKey, StoreError> {
        self.sealed_from_row(row).map(|s| s.key)
    }

    /// The keys `filter` (an SQL condition on `$1`) selects, opened.
    async fn sealed_keys(&self, filter: &str, arg: &str) -> Result<Vec<Sealed>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE {filter}"
        ))
        .bind(arg)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(|r| self.sealed_from_row(r)).collect()
    }

    /// Rewrites the row `from` to `to` (same kid), sealed anew for its new columns, in the
    /// same UPDATE — unless the row changed since `from` was read: true when it was rewritten.
    /// This condition is what settles races between replicas.
    async fn reseal<'e, E>(
        &self,
        exec: E,
        from: &Sealed,
        to: &StoredKey,
    ) -> Result<bool, StoreError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let sealed = self
            .sealer
            .seal(
                to.private_key_pem.as_bytes(),
                &key_row_aad(SealVersion::Row, to),
            )
            .map_err(corrupt)?;
        let done = sqlx::query(
            "UPDATE signing_keys SET state = $1, activates_at = $2, publish_until = $3, \
             sealed_private_key = $4, seal_version = $5 \
             WHERE kid = $6 AND sealed_private_key = $7 AND seal_version = $8 AND state = $9 \
             AND COALESCE(activates_at, -1) = $10 AND COALESCE(publish_until, -1) = $11",
        )
        .bind(to.state.as_str())
        .bind(to.activates_at)
        .bind(to.publish_until)
        .bind(sealed)
        .bind(SealVersion::Row.column())
        .bind(&from.key.kid)
        .bind(&from.sealed)
        .bind(from.version.column())
        .bind(from.key.state.as_str())
        .bind(from.key.activates_at.map_or(-1, UnixTime::secs))
        .bind(from.key.publish_until.map_or(-1, UnixTime::secs))
        .execute(exec)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    /// Inserts `key` unless a unique index (one active, one next) or its kid refuses it:
    /// true when inserted.
    async fn insert<'e, E>(&self, exec: E, key: &StoredKey) -> Result<bool, StoreError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let sealed = self
            .sealer
            .seal(
                key.private_key_pem.as_bytes(),
                &key_row_aad(SealVersion::Row, key),
            )
            .map_err(corrupt)?;
        let done = sqlx::query(&format!(
            "INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(&key.kid)
        .bind(key.algorithm.as_str())
        .bind(key.state.as_str())
        .bind(sealed)
        .bind(key.created_at)
        .bind(key.activates_at)
        .bind(key.publish_until)
        .bind(SealVersion::Row.column())
        .execute(exec)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    /// Inserts `key` in `state` unless a partial unique index (one active, one next) refuses
    /// it, then returns the key in that state: of replicas racing, one key wins.
    async fn insert_unique(
        &self,
        key: &StoredKey,
        state: KeyState,
    ) -> Result<StoredKey, StoreError> {
        self.insert(
            &self.pool,
            &StoredKey {
                state,
                ..key.clone()
            },
        )
        .await?;
        let row = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE state = $1"
        ))
        .bind(state.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        self.key_from_row(&row)
    }

    /// Re-seals the rows sealed to their kid alone (seal_version 1: written before migration
    /// 4) so that their seal binds the whole row as it stands; how many. A row that does not
    /// open fails the whole upgrade (a wrong `store.encryption_key`).
    async fn upgrade_seals(&self) -> Result<u64, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE seal_version = $1"
        ))
        .bind(SealVersion::KidOnly.column())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut upgraded = 0;
        for row in &rows {
            let old = self.open_row(key_row(row)?, SealVersion::KidOnly)?;
            // Of replicas starting together, one rewrites each row; the others find it done.
            if self.reseal(&self.pool, &old, &old.key).await? {
                upgraded += 1;
            }
        }
        Ok(upgraded)
    }
}

const KEY_COLUMNS: &str = "kid, algorithm, state, sealed_private_key, created_at, activates_at, \
     publish_until, seal_version";

/// How often a revocation re-reads the keys when another replica changed them meanwhile.
const REVOKE_ATTEMPTS: usize = 5;

#[async_trait::async_trait]
impl KeyStore for SqlStore {
    async fn activate_if_none(&self, candidate: StoredKey) -> Result<StoredKey, StoreError> {
        self.insert_unique(&candidate, KeyState::Active).await
    }

    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(|r| self.key_from_row(r)).collect()
    }

    async fn add_next(&self, candidate: StoredKey) -> Result<StoredKey, StoreError> {
        self.insert_unique(&candidate, KeyState::Next).await
    }

    async fn promote_due(&self, now: UnixTime, retire_for: Duration) -> Result<bool, StoreError> {
        let keys = self
            .sealed_keys("state = 'active' OR state = $1", KeyState::Next.as_str())
            .await?;
        let Some(next) = keys.iter().find(|k| {
            k.key.state == KeyState::Next && k.key.activates_at.is_some_and(|t| t <= now)
        }) else {
            return Ok(false);
        };
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        // Retire first: the index admits one active key at a time. Each rewrite holds only if
        // its row is as read, so a second replica finds nothing left to do (and rolls back).
        if let Some(active) = keys.iter().find(|k| k.key.state == KeyState::Active) {
            let retired = StoredKey {
                state: KeyState::Retired,
                publish_until: Some(now.plus(retire_for)),
                ..active.key.clone()
            };
            if !self.reseal(&mut *tx, active, &retired).await? {
                return Ok(false);
            }
        }
        let activated = StoredKey {
            state: KeyState::Active,
            ..next.key.clone()
        };
        if !self.reseal(&mut *tx, next, &activated).await? {
            return Ok(false);
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(true)
    }

    async fn remove_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM signing_keys WHERE state = 'retired' AND publish_until <= $1")
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn revoke(
        &self,
        kid: &str,
        now: UnixTime,
        fallback: StoredKey,
    ) -> Result<Option<Revoked>, StoreError> {
        for _ in 0..REVOKE_ATTEMPTS {
            // Only the key and the next one are read: another unreadable row must not stand in
            // the way of an emergency revocation.
            let keys = self.sealed_keys("kid = $1 OR state = 'next'", kid).await?;
            let Some(target) = keys.iter().find(|k| k.key.kid == kid) else {
                return Ok(None);
            };
            if target.key.state == KeyState::Revoked {
                return Ok(Some(Revoked {
                    key: target.key.clone(),
                    activated: None,
                    already: true,
                }));
            }
            let revoked = StoredKey {
                state: KeyState::Revoked,
                private_key_pem: String::new(),
                publish_until: Some(now),
                ..target.key.clone()
            };
            let mut tx = self.pool.begin().await.map_err(unavailable)?;
            // Revoke first: the index admits one active key at a time. Any rewrite that finds
            // its row changed meanwhile (another replica's revocation or promotion) rolls the
            // whole step back, and it starts again from what is stored then.
            if !self.reseal(&mut *tx, target, &revoked).await? {
                continue;
            }
            let mut activated = None;
            if target.key.state == KeyState::Active {
                let next = keys.iter().find(|k| k.key.state == KeyState::Next);
                let fresh = match next {
                    Some(next) => StoredKey {
                        state: KeyState::Active,
                        activates_at: Some(now),
                        ..next.key.clone()
                    },
                    None => StoredKey {
                        state: KeyState::Active,
                        activates_at: Some(now),
                        publish_until: None,
                        ..fallback.clone()
                    },
                };
                let done = match next {
                    Some(next) => self.reseal(&mut *tx, next, &fresh).await?,
                    None => self.insert(&mut *tx, &fresh).await?,
                };
                if !done {
                    continue;
                }
                activated = Some(fresh);
            }
            tx.commit().await.map_err(unavailable)?;
            return Ok(Some(Revoked {
                key: revoked,
                activated,
                already: false,
            }));
        }
        Err(StoreError::Unavailable(
            "the signing keys kept changing during the revocation: retry".to_owned(),
        ))
    }
}
