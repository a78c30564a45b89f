//! [`KeyStore`] on SQL: each private key sealed to its whole row, and every state change a
//! conditional rewrite of the row as it was read, so replicas racing settle in the database.
use std::time::Duration;

use sqlx::Row;

use super::{
    SqlStore, corrupt,
    sealing::{SealVersion, key_row_aad},
    unavailable,
};
use crate::{
    clock::UnixTime,
    keys::SigningAlgorithm,
    store::{KeyState, KeyStore, Revoked, StoreError, StoredKey},
};

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
    pub(super) async fn upgrade_seals(&self) -> Result<u64, StoreError> {
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
        self.run("keys", "activate_if_none", async {
            self.insert_unique(&candidate, KeyState::Active).await
        })
        .await
    }

    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.run("keys", "list", async {
            let rows = sqlx::query(&format!(
                "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid"
            ))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
            rows.iter().map(|r| self.key_from_row(r)).collect()
        })
        .await
    }

    async fn add_next(&self, candidate: StoredKey) -> Result<StoredKey, StoreError> {
        self.run("keys", "add_next", async {
            self.insert_unique(&candidate, KeyState::Next).await
        })
        .await
    }

    async fn promote_due(&self, now: UnixTime, retire_for: Duration) -> Result<bool, StoreError> {
        self.run("keys", "promote_due", async {
            let keys = self
                .sealed_keys("state = 'active' OR state = $1", KeyState::Next.as_str())
                .await?;
            let Some(next) = keys.iter().find(|k| {
                k.key.state == KeyState::Next && k.key.activates_at.is_some_and(|t| t <= now)
            }) else {
                return Ok(false);
            };
            let mut tx = self.begin().await?;
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
        })
        .await
    }

    async fn remove_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        self.run("keys", "remove_expired", async {
            let done = sqlx::query(
                "DELETE FROM signing_keys WHERE state = 'retired' AND publish_until <= $1",
            )
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(done.rows_affected())
        })
        .await
    }

    async fn revoke(
        &self,
        kid: &str,
        now: UnixTime,
        fallback: StoredKey,
    ) -> Result<Option<Revoked>, StoreError> {
        self.run("keys", "revoke", async {
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
                let mut tx = self.begin().await?;
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
        })
        .await
    }
}
