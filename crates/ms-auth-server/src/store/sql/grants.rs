//! [`GrantStore`] on the SQL store: races are settled by conditional
//! `UPDATE … RETURNING` inside transactions, never by reading first and writing after.
use crate::clock::UnixTime;

use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::{SqlStore, corrupt, unavailable};
use crate::store::{
    StoreError,
    grants::{CodeGrant, CodeUse, GrantStore, RefreshGrant, Rotation},
};

const CODE_COLUMNS: &str = "family_id, client_id, subject, scope, redirect_uri, code_challenge, nonce, auth_time, expires_at";
const REFRESH_COLUMNS: &str = "family_id, client_id, subject, scope, issued_at, expires_at";

fn code_from_row(r: &AnyRow) -> Result<CodeGrant, StoreError> {
    Ok(CodeGrant {
        family_id: r.try_get("family_id").map_err(corrupt)?,
        client_id: r.try_get("client_id").map_err(corrupt)?,
        subject: r.try_get("subject").map_err(corrupt)?,
        scope: r.try_get("scope").map_err(corrupt)?,
        redirect_uri: r.try_get("redirect_uri").map_err(corrupt)?,
        code_challenge: r.try_get("code_challenge").map_err(corrupt)?,
        nonce: r.try_get("nonce").map_err(corrupt)?,
        auth_time: r.try_get("auth_time").map_err(corrupt)?,
        expires_at: r.try_get("expires_at").map_err(corrupt)?,
    })
}

fn refresh_from_row(r: &AnyRow) -> Result<RefreshGrant, StoreError> {
    Ok(RefreshGrant {
        family_id: r.try_get("family_id").map_err(corrupt)?,
        client_id: r.try_get("client_id").map_err(corrupt)?,
        subject: r.try_get("subject").map_err(corrupt)?,
        scope: r.try_get("scope").map_err(corrupt)?,
        issued_at: r.try_get("issued_at").map_err(corrupt)?,
        expires_at: r.try_get("expires_at").map_err(corrupt)?,
    })
}

/// When `spent` (a query by hash) finds the credential already used, revokes its family
/// within `tx` and names it: a second use means a copy is in other hands.
async fn revoke_if_spent(
    tx: &mut Transaction<'_, Any>,
    spent: &str,
    hash: &str,
    now: UnixTime,
) -> Result<Option<String>, StoreError> {
    let Some(row) = sqlx::query(spent)
        .bind(hash)
        .fetch_optional(&mut **tx)
        .await
        .map_err(unavailable)?
    else {
        return Ok(None);
    };
    let family_id: String = row.try_get(0).map_err(corrupt)?;
    sqlx::query(REVOKE_FAMILY)
        .bind(&family_id)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?;
    Ok(Some(family_id))
}

const REVOKE_FAMILY: &str =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL";

#[async_trait::async_trait]
impl GrantStore for SqlStore {
    async fn put_code(&self, code_hash: &str, g: &CodeGrant) -> Result<(), StoreError> {
        self.run("grants", "put_code", async {
            sqlx::query(&format!(
                "INSERT INTO authorization_codes (code_hash, {CODE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(code_hash)
            .bind(&g.family_id)
            .bind(&g.client_id)
            .bind(&g.subject)
            .bind(&g.scope)
            .bind(&g.redirect_uri)
            .bind(g.code_challenge.clone())
            .bind(g.nonce.clone())
            .bind(g.auth_time)
            .bind(g.expires_at)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn consume_code(&self, code_hash: &str, now: UnixTime) -> Result<CodeUse, StoreError> {
        self.run("grants", "consume_code", async {
            let mut tx = self.pool.begin().await.map_err(unavailable)?;
            let fresh = sqlx::query(&format!(
                "UPDATE authorization_codes SET consumed_at = $2 \
                 WHERE code_hash = $1 AND consumed_at IS NULL AND expires_at > $2 \
                 RETURNING {CODE_COLUMNS}"
            ))
            .bind(code_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
            let outcome = match fresh {
                Some(row) => CodeUse::Fresh(code_from_row(&row)?),
                None => {
                    let spent = "SELECT family_id FROM authorization_codes \
                                 WHERE code_hash = $1 AND consumed_at IS NOT NULL";
                    match revoke_if_spent(&mut tx, spent, code_hash, now).await? {
                        Some(family_id) => CodeUse::Replayed { family_id },
                        None => CodeUse::Invalid,
                    }
                }
            };
            tx.commit().await.map_err(unavailable)?;
            Ok(outcome)
        })
        .await
    }

    async fn put_refresh(&self, token_hash: &str, g: &RefreshGrant) -> Result<(), StoreError> {
        self.run("grants", "put_refresh", async {
            sqlx::query(&format!(
                "INSERT INTO refresh_tokens (token_hash, {REFRESH_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ))
            .bind(token_hash)
            .bind(&g.family_id)
            .bind(&g.client_id)
            .bind(&g.subject)
            .bind(&g.scope)
            .bind(g.issued_at)
            .bind(g.expires_at)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        self.run("grants", "rotate_refresh", async {
            let mut tx = self.pool.begin().await.map_err(unavailable)?;
            let spent = sqlx::query(&format!(
                "UPDATE refresh_tokens SET rotated_at = $2 \
                 WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2 \
                 RETURNING {REFRESH_COLUMNS}"
            ))
            .bind(old_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
            let outcome = match spent {
                Some(row) => {
                    let grant = RefreshGrant {
                        issued_at: now,
                        expires_at: new_expires_at,
                        ..refresh_from_row(&row)?
                    };
                    sqlx::query(&format!(
                        "INSERT INTO refresh_tokens (token_hash, {REFRESH_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    ))
                    .bind(new_hash)
                    .bind(&grant.family_id)
                    .bind(&grant.client_id)
                    .bind(&grant.subject)
                    .bind(&grant.scope)
                    .bind(grant.issued_at)
                    .bind(grant.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                    Rotation::Rotated(grant)
                }
                None => {
                    let spent = "SELECT family_id FROM refresh_tokens \
                                 WHERE token_hash = $1 AND rotated_at IS NOT NULL";
                    match revoke_if_spent(&mut tx, spent, old_hash, now).await? {
                        Some(family_id) => Rotation::Reused { family_id },
                        None => Rotation::Invalid,
                    }
                }
            };
            tx.commit().await.map_err(unavailable)?;
            Ok(outcome)
        })
        .await
    }

    async fn revoke_family(&self, family_id: &str, now: UnixTime) -> Result<u64, StoreError> {
        self.run("grants", "revoke_family", async {
            let done = sqlx::query(REVOKE_FAMILY)
                .bind(family_id)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            Ok(done.rows_affected())
        })
        .await
    }

    async fn refresh(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, StoreError> {
        self.run("grants", "refresh", async {
            let row = sqlx::query(&format!(
                "SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1 \
                 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2"
            ))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
            row.map(|r| refresh_from_row(&r)).transpose()
        })
        .await
    }
}
