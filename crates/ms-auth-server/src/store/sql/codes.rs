//! [`CodeStore`] on SQL: a code is consumed by one conditional `UPDATE … RETURNING`; a replay
//! revokes the family in the same transaction.
use serde::{Deserialize, Serialize};
use sqlx::{Row, any::AnyRow};

use super::{
    SqlStore, corrupt,
    refresh::{family_is_live, revoke_if_spent},
    unavailable,
};
use crate::{
    clock::UnixTime,
    store::{CodeGrant, CodeStore, CodeUse, StoreError},
};

const COLUMNS: &str = "family_id, client_id, subject, scope, redirect_uri, code_challenge, \
     nonce, auth_time, expires_at, user_id, session_id, details";

/// What a code row keeps beside its columns (`details`, JSON): every field defaults, so a
/// field added later never makes a stored row unreadable.
#[derive(Default, Serialize, Deserialize)]
struct Details {
    #[serde(default)]
    code_challenge_method: Option<String>,
    #[serde(default)]
    acr: Option<String>,
    #[serde(default)]
    amr: Vec<String>,
    /// Rows written before it was recorded are held to the stricter rule.
    #[serde(default = "named")]
    redirect_uri_given: bool,
    #[serde(default)]
    session_expires_at: Option<UnixTime>,
}

fn named() -> bool {
    true
}

fn from_row(r: &AnyRow) -> Result<CodeGrant, StoreError> {
    let family_id: String = r.try_get("family_id").map_err(corrupt)?;
    let details: String = r.try_get("details").map_err(corrupt)?;
    let d: Details = serde_json::from_str(&details)
        .map_err(|e| corrupt(format!("code of family {family_id}: details: {e}")))?;
    Ok(CodeGrant {
        client_id: r.try_get("client_id").map_err(corrupt)?,
        subject: r.try_get("subject").map_err(corrupt)?,
        scope: r.try_get("scope").map_err(corrupt)?,
        redirect_uri: r.try_get("redirect_uri").map_err(corrupt)?,
        redirect_uri_given: d.redirect_uri_given,
        session_expires_at: d.session_expires_at,
        code_challenge: r.try_get("code_challenge").map_err(corrupt)?,
        code_challenge_method: d.code_challenge_method,
        nonce: r.try_get("nonce").map_err(corrupt)?,
        user_id: r.try_get("user_id").map_err(corrupt)?,
        session_id: r.try_get("session_id").map_err(corrupt)?,
        acr: d.acr,
        amr: d.amr,
        auth_time: r.try_get("auth_time").map_err(corrupt)?,
        expires_at: r.try_get("expires_at").map_err(corrupt)?,
        family_id,
    })
}

#[async_trait::async_trait]
impl CodeStore for SqlStore {
    async fn put_code(&self, code_hash: &str, g: &CodeGrant) -> Result<(), StoreError> {
        self.run("codes", "put", async {
            let details = serde_json::to_string(&Details {
                code_challenge_method: g.code_challenge_method.clone(),
                acr: g.acr.clone(),
                amr: g.amr.clone(),
                redirect_uri_given: g.redirect_uri_given,
                session_expires_at: g.session_expires_at,
            })
            .map_err(corrupt)?;
            sqlx::query(&format!(
                "INSERT INTO authorization_codes (code_hash, {COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
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
            .bind(g.user_id.clone())
            .bind(g.session_id.clone())
            .bind(details)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn consume_code(&self, code_hash: &str, now: UnixTime) -> Result<CodeUse, StoreError> {
        self.run("codes", "consume", async {
            // The first use is one conditional statement, atomic by itself; only a code that
            // was not fresh takes a transaction, to revoke what a replay must.
            let fresh = sqlx::query(&format!(
                "UPDATE authorization_codes SET consumed_at = $2 \
                 WHERE code_hash = $1 AND consumed_at IS NULL AND expires_at > $2 \
                 RETURNING {COLUMNS}"
            ))
            .bind(code_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
            if let Some(row) = fresh {
                return Ok(CodeUse::Fresh(from_row(&row)?));
            }
            let mut tx = self.begin().await?;
            let spent = "SELECT family_id FROM authorization_codes \
                         WHERE code_hash = $1 AND consumed_at IS NOT NULL";
            let outcome = match revoke_if_spent(&mut tx, spent, code_hash, now).await? {
                Some((family_id, access)) => CodeUse::Replayed { family_id, access },
                None => CodeUse::Invalid,
            };
            tx.commit().await.map_err(unavailable)?;
            Ok(outcome)
        })
        .await
    }

    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        self.run("codes", "prune", async {
            let done = sqlx::query(&format!(
                "DELETE FROM authorization_codes WHERE expires_at <= $1 \
                 AND (consumed_at IS NULL OR NOT {})",
                family_is_live("authorization_codes.family_id")
            ))
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(done.rows_affected())
        })
        .await
    }
}
