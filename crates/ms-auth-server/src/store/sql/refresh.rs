//! [`RefreshTokenStore`] on SQL: races are settled by conditional `UPDATE … RETURNING` inside
//! transactions, never by reading first and writing after. The successor of a rotation is
//! written in the same transaction that spends its predecessor.
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::{SqlStore, corrupt, unavailable};
use crate::{
    clock::UnixTime,
    store::{
        FamilyRevoked, IssuedAccess, RefreshGrant, RefreshTokenStore, Rotation, StoreError,
        refresh::Successor,
    },
};

const COLUMNS: &str = "family_id, client_id, subject, scope, issued_at, expires_at, \
     family_expires_at, user_id, session_id, details";

/// Current, unrevoked, and neither it nor its family expired at `$2`.
const LIVE: &str =
    "rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2 AND family_expires_at > $2";

/// What a refresh row keeps beside its columns (`details`, JSON): every field defaults, so a
/// field added later never makes a stored row unreadable.
#[derive(Default, Serialize, Deserialize)]
struct Details {
    #[serde(default)]
    acr: Option<String>,
    #[serde(default)]
    amr: Vec<String>,
    /// Rows written before it was kept: their issue time stands in.
    #[serde(default)]
    auth_time: Option<UnixTime>,
}

fn from_row(r: &AnyRow) -> Result<RefreshGrant, StoreError> {
    let family_id: String = r.try_get("family_id").map_err(corrupt)?;
    let details: String = r.try_get("details").map_err(corrupt)?;
    let d: Details = serde_json::from_str(&details)
        .map_err(|e| corrupt(format!("refresh family {family_id}: details: {e}")))?;
    Ok(RefreshGrant {
        client_id: r.try_get("client_id").map_err(corrupt)?,
        subject: r.try_get("subject").map_err(corrupt)?,
        scope: r.try_get("scope").map_err(corrupt)?,
        user_id: r.try_get("user_id").map_err(corrupt)?,
        session_id: r.try_get("session_id").map_err(corrupt)?,
        acr: d.acr,
        amr: d.amr,
        auth_time: match d.auth_time {
            Some(t) => t,
            None => r.try_get("issued_at").map_err(corrupt)?,
        },
        issued_at: r.try_get("issued_at").map_err(corrupt)?,
        expires_at: r.try_get("expires_at").map_err(corrupt)?,
        family_expires_at: r.try_get("family_expires_at").map_err(corrupt)?,
        family_id,
    })
}

/// The statement inserting a refresh token, its parameters from `$first` on (as [`bind_row`]
/// binds them).
fn insert_statement(first: usize) -> String {
    let params = (first..first + 11)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("INSERT INTO refresh_tokens (token_hash, {COLUMNS}) VALUES ({params})")
}

/// Binds a refresh token's row, in [`insert_statement`]'s order.
fn bind_row<'q>(
    query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    token_hash: &'q str,
    g: &'q RefreshGrant,
) -> Result<sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>, StoreError> {
    let details = serde_json::to_string(&Details {
        acr: g.acr.clone(),
        amr: g.amr.clone(),
        auth_time: Some(g.auth_time),
    })
    .map_err(corrupt)?;
    Ok(query
        .bind(token_hash)
        .bind(&g.family_id)
        .bind(&g.client_id)
        .bind(&g.subject)
        .bind(&g.scope)
        .bind(g.issued_at)
        .bind(g.expires_at)
        .bind(g.family_expires_at)
        .bind(g.user_id.clone())
        .bind(g.session_id.clone())
        .bind(details))
}

async fn insert<'e, E>(exec: E, token_hash: &str, g: &RefreshGrant) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let statement = insert_statement(1);
    bind_row(sqlx::query(&statement), token_hash, g)?
        .execute(exec)
        .await
        .map_err(unavailable)?;
    Ok(())
}

const RECORD_ACCESS: &str = "INSERT INTO family_access_tokens (family_id, jti, expires_at) \
     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

async fn record_access<'e, E>(
    exec: E,
    family_id: &str,
    access: &IssuedAccess,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    sqlx::query(RECORD_ACCESS)
        .bind(family_id)
        .bind(&access.jti)
        .bind(access.expires_at)
        .execute(exec)
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Revokes every token of `family_id` within `tx` and names the access tokens issued from it
/// that are still live at `now`.
async fn revoke_family(
    tx: &mut Transaction<'_, Any>,
    family_id: &str,
    now: UnixTime,
) -> Result<FamilyRevoked, StoreError> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family_id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    Ok(FamilyRevoked {
        revoked: done.rows_affected(),
        access: live_access(&mut **tx, family_id, now).await?,
    })
}

/// The access tokens issued from `family_id` still live at `now`.
async fn live_access<'e>(
    exec: impl sqlx::Executor<'e, Database = Any>,
    family_id: &str,
    now: UnixTime,
) -> Result<Vec<IssuedAccess>, StoreError> {
    let rows = sqlx::query(
        "SELECT jti, expires_at FROM family_access_tokens \
         WHERE family_id = $1 AND expires_at > $2 ORDER BY jti",
    )
    .bind(family_id)
    .bind(now)
    .fetch_all(exec)
    .await
    .map_err(unavailable)?;
    rows.iter()
        .map(|r| {
            Ok(IssuedAccess {
                jti: r.try_get("jti").map_err(corrupt)?,
                expires_at: r.try_get("expires_at").map_err(corrupt)?,
            })
        })
        .collect()
}

/// When `spent` (a query by hash) finds the credential already used, revokes its family
/// within `tx` and names it, with the live access tokens issued from it: a second use means a
/// copy is in other hands.
pub(super) async fn revoke_if_spent(
    tx: &mut Transaction<'_, Any>,
    spent: &str,
    hash: &str,
    now: UnixTime,
) -> Result<Option<(String, Vec<IssuedAccess>)>, StoreError> {
    let Some(row) = sqlx::query(spent)
        .bind(hash)
        .fetch_optional(&mut **tx)
        .await
        .map_err(unavailable)?
    else {
        return Ok(None);
    };
    let family_id: String = row.try_get(0).map_err(corrupt)?;
    let access = revoke_family(tx, &family_id, now).await?.access;
    Ok(Some((family_id, access)))
}

/// An SQL condition: the family named by `column` has something live at `$1` — a refresh
/// token, or an access token issued from it.
pub(super) fn family_is_live(column: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM refresh_tokens l WHERE l.family_id = {column} \
         AND l.rotated_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > $1 \
         AND l.family_expires_at > $1) \
         OR EXISTS (SELECT 1 FROM family_access_tokens a WHERE a.family_id = {column} \
         AND a.expires_at > $1))"
    )
}

/// Within `tx`, revokes every family `found` names (a query of `family_id`s, its own
/// parameters from `$2` on, `now` being `$1`) and names the live access tokens of them all.
async fn revoke_families_in(
    tx: &mut Transaction<'_, Any>,
    found: &str,
    binds: &[&str],
    now: UnixTime,
) -> Result<FamilyRevoked, StoreError> {
    let revoke = format!(
        "UPDATE refresh_tokens SET revoked_at = $1 \
         WHERE revoked_at IS NULL AND family_id IN ({found})"
    );
    let mut query = sqlx::query(&revoke).bind(now);
    for b in binds {
        query = query.bind(*b);
    }
    let revoked = query
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?
        .rows_affected();
    let live = format!(
        "SELECT jti, expires_at FROM family_access_tokens \
         WHERE expires_at > $1 AND family_id IN ({found}) ORDER BY jti"
    );
    let mut query = sqlx::query(&live).bind(now);
    for b in binds {
        query = query.bind(*b);
    }
    let rows = query.fetch_all(&mut **tx).await.map_err(unavailable)?;
    let access = rows
        .iter()
        .map(|r| {
            Ok(IssuedAccess {
                jti: r.try_get("jti").map_err(corrupt)?,
                expires_at: r.try_get("expires_at").map_err(corrupt)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(FamilyRevoked { revoked, access })
}

/// The families whose refresh tokens or code match `condition` (on `user_id`, `client_id`,
/// `session_id`), as an SQL query of `family_id`s.
fn families_where(condition: &str) -> String {
    format!(
        "SELECT family_id FROM refresh_tokens WHERE {condition} \
         UNION SELECT family_id FROM authorization_codes WHERE {condition}"
    )
}

impl SqlStore {
    /// [`revoke_families_in`], in a transaction of its own.
    async fn revoke_families(
        &self,
        found: &str,
        binds: &[&str],
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError> {
        let mut tx = self.begin().await?;
        let done = revoke_families_in(&mut tx, found, binds, now).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done)
    }

    /// The spend of `old_hash` at `now` if it is current: its grant, with the successor
    /// stored in its place.
    async fn rotate_current(
        tx: &mut Transaction<'_, Any>,
        old_hash: &str,
        successor: Successor<'_>,
        grace_until: UnixTime,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, StoreError> {
        let spent = sqlx::query(&format!(
            "UPDATE refresh_tokens SET rotated_at = $2, successor_hash = $3, \
             successor_sealed = $4, grace_until = $5 \
             WHERE token_hash = $1 AND {LIVE} RETURNING {COLUMNS}"
        ))
        .bind(old_hash)
        .bind(now)
        .bind(successor.hash)
        .bind(successor.sealed)
        .bind(grace_until)
        .fetch_optional(&mut **tx)
        .await
        .map_err(unavailable)?;
        let Some(row) = spent else {
            return Ok(None);
        };
        let old = from_row(&row)?;
        let grant = RefreshGrant {
            issued_at: now,
            expires_at: successor.expires_at.min(old.family_expires_at),
            ..old
        };
        insert(&mut **tx, successor.hash, &grant).await?;
        if let Some(access) = successor.access {
            record_access(&mut **tx, &grant.family_id, access).await?;
        }
        Ok(Some(grant))
    }

    /// [`Self::rotate_current`] in one PostgreSQL statement (data-modifying `WITH`s, atomic
    /// as one): the spend, the successor copied from the spent row, and its access token.
    /// `None` when `old_hash` is not current: the transaction tells retried, reused and
    /// invalid apart.
    async fn rotate_in_one(
        &self,
        old_hash: &str,
        successor: Successor<'_>,
        grace_until: UnixTime,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, StoreError> {
        let copied = "family_id, client_id, subject, scope, $2, LEAST($6, family_expires_at), \
                      family_expires_at, user_id, session_id, details";
        let (jti, access_expires_at) = match successor.access {
            Some(a) => (Some(a.jti.as_str()), Some(a.expires_at)),
            None => (None, None),
        };
        let spent = sqlx::query(&format!(
            "WITH spent AS (UPDATE refresh_tokens SET rotated_at = $2, successor_hash = $3, \
             successor_sealed = $4, grace_until = $5 \
             WHERE token_hash = $1 AND {LIVE} RETURNING {COLUMNS}), \
             successor AS (INSERT INTO refresh_tokens (token_hash, {COLUMNS}) \
             SELECT $3, {copied} FROM spent RETURNING family_id), \
             recorded AS (INSERT INTO family_access_tokens (family_id, jti, expires_at) \
             SELECT family_id, $7, $8 FROM successor WHERE $7 IS NOT NULL \
             ON CONFLICT DO NOTHING) \
             SELECT {COLUMNS} FROM spent"
        ))
        .bind(old_hash)
        .bind(now)
        .bind(successor.hash)
        .bind(successor.sealed)
        .bind(grace_until)
        .bind(successor.expires_at)
        .bind(jti)
        .bind(access_expires_at)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        let Some(row) = spent else {
            return Ok(None);
        };
        let old = from_row(&row)?;
        Ok(Some(RefreshGrant {
            issued_at: now,
            expires_at: successor.expires_at.min(old.family_expires_at),
            ..old
        }))
    }

    /// The one retry of `old_hash`, rotated already, before its grace window ends and while
    /// its successor is unused: the successor's grant and sealed value.
    async fn retry(
        tx: &mut Transaction<'_, Any>,
        old_hash: &str,
        now: UnixTime,
    ) -> Result<Option<(RefreshGrant, String)>, StoreError> {
        let retried = sqlx::query(&format!(
            "UPDATE refresh_tokens SET retried_at = $2 \
             WHERE token_hash = $1 AND rotated_at IS NOT NULL AND revoked_at IS NULL \
             AND retried_at IS NULL AND grace_until > $2 AND successor_sealed IS NOT NULL \
             AND successor_hash IN (SELECT token_hash FROM refresh_tokens WHERE {LIVE}) \
             RETURNING successor_hash, successor_sealed"
        ))
        .bind(old_hash)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await
        .map_err(unavailable)?;
        let Some(row) = retried else {
            return Ok(None);
        };
        let successor: String = row.try_get("successor_hash").map_err(corrupt)?;
        let sealed: String = row.try_get("successor_sealed").map_err(corrupt)?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refresh_tokens WHERE token_hash = $1"
        ))
        .bind(&successor)
        .fetch_one(&mut **tx)
        .await
        .map_err(unavailable)?;
        Ok(Some((from_row(&row)?, sealed)))
    }
}

#[async_trait::async_trait]
impl RefreshTokenStore for SqlStore {
    async fn put_refresh(&self, token_hash: &str, g: &RefreshGrant) -> Result<(), StoreError> {
        self.run("refresh", "put", insert(&self.pool, token_hash, g))
            .await
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        successor: Successor<'_>,
        grace_until: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        self.run("refresh", "rotate", async {
            // PostgreSQL rotates a current token in one statement; SQLite, and every token
            // that is not current, take the transaction.
            if !self.sqlite
                && let Some(grant) = self
                    .rotate_in_one(old_hash, successor, grace_until, now)
                    .await?
            {
                return Ok(Rotation::Rotated(grant));
            }
            let mut tx = self.begin().await?;
            let outcome = if let Some(grant) =
                Self::rotate_current(&mut tx, old_hash, successor, grace_until, now).await?
            {
                Rotation::Rotated(grant)
            } else if let Some((grant, successor_sealed)) =
                Self::retry(&mut tx, old_hash, now).await?
            {
                Rotation::Retried {
                    grant,
                    successor_sealed,
                }
            } else {
                let spent = "SELECT family_id FROM refresh_tokens \
                             WHERE token_hash = $1 AND rotated_at IS NOT NULL";
                match revoke_if_spent(&mut tx, spent, old_hash, now).await? {
                    Some((family_id, access)) => Rotation::Reused { family_id, access },
                    None => Rotation::Invalid,
                }
            };
            tx.commit().await.map_err(unavailable)?;
            Ok(outcome)
        })
        .await
    }

    async fn refresh(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, StoreError> {
        self.run("refresh", "get", async {
            let row = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM refresh_tokens WHERE token_hash = $1 AND {LIVE}"
            ))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
            row.map(|r| from_row(&r)).transpose()
        })
        .await
    }

    async fn family_access(
        &self,
        family_id: &str,
        now: UnixTime,
    ) -> Result<Vec<IssuedAccess>, StoreError> {
        self.run(
            "refresh",
            "family_access",
            live_access(&self.pool, family_id, now),
        )
        .await
    }

    async fn revoke_family(
        &self,
        family_id: &str,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError> {
        self.run("refresh", "revoke_family", async {
            let mut tx = self.begin().await?;
            let done = revoke_family(&mut tx, family_id, now).await?;
            tx.commit().await.map_err(unavailable)?;
            Ok(done)
        })
        .await
    }

    async fn revoke_user_families(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError> {
        self.run("refresh", "revoke_user_families", async {
            match client_id {
                Some(client_id) => {
                    let found = families_where("user_id = $2 AND client_id = $3");
                    self.revoke_families(&found, &[user_id, client_id], now)
                        .await
                }
                None => {
                    let found = families_where("user_id = $2");
                    self.revoke_families(&found, &[user_id], now).await
                }
            }
        })
        .await
    }

    async fn revoke_client_families(
        &self,
        client_id: &str,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError> {
        self.run("refresh", "revoke_client_families", async {
            let found = families_where("client_id = $2");
            self.revoke_families(&found, &[client_id], now).await
        })
        .await
    }

    async fn revoke_session_families(
        &self,
        session_id: &str,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError> {
        self.run("refresh", "revoke_session_families", async {
            // A code's session is where it was issued; an offline family (OIDC Core §11)
            // outlives it, and its refresh tokens are stored without one.
            let found = "SELECT family_id FROM refresh_tokens WHERE session_id = $2 \
                 UNION SELECT family_id FROM authorization_codes WHERE session_id = $2 \
                 AND (' ' || scope || ' ') NOT LIKE '% offline\\_access %' ESCAPE '\\'";
            self.revoke_families(found, &[session_id], now).await
        })
        .await
    }

    async fn start_family(
        &self,
        family_id: &str,
        first: Option<(&str, &RefreshGrant)>,
        access: &IssuedAccess,
    ) -> Result<(), StoreError> {
        let Some((token_hash, grant)) = first else {
            return self.record_access(family_id, access).await;
        };
        self.run("refresh", "start_family", async {
            // One command, not a transaction of several: each command waits for the
            // connection (SQLite has one) and for the task to be polled again. On SQLite, two
            // statements in one command, each committed; on PostgreSQL one statement, the
            // access record in a data-modifying `WITH`. Should the second fail, the exchange
            // answers an error and the tokens are never handed out.
            let statement = if self.sqlite {
                format!("{RECORD_ACCESS}; {}", insert_statement(4))
            } else {
                format!("WITH recorded AS ({RECORD_ACCESS}) {}", insert_statement(4))
            };
            let query = sqlx::query(&statement)
                .bind(family_id)
                .bind(&access.jti)
                .bind(access.expires_at);
            bind_row(query, token_hash, grant)?
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn record_access(
        &self,
        family_id: &str,
        access: &IssuedAccess,
    ) -> Result<(), StoreError> {
        self.run(
            "refresh",
            "record_access",
            record_access(&self.pool, family_id, access),
        )
        .await
    }

    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        self.run("refresh", "prune", async {
            let mut gone = 0;
            for statement in [
                "DELETE FROM family_access_tokens WHERE expires_at <= $1".to_owned(),
                format!(
                    "DELETE FROM refresh_tokens WHERE NOT {}",
                    family_is_live("refresh_tokens.family_id")
                ),
                "UPDATE refresh_tokens SET successor_sealed = NULL \
                 WHERE successor_sealed IS NOT NULL AND grace_until <= $1"
                    .to_owned(),
            ] {
                let done = sqlx::query(&statement)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                if statement.starts_with("DELETE") {
                    gone += done.rows_affected();
                }
            }
            Ok(gone)
        })
        .await
    }
}
