//! [`ConsentStore`] on SQL: one row per user and client. A grant's union is a compare-and-set
//! on the scope read (or an insert that yields to a concurrent one), retried when another
//! replica granted first, so consents to different scopes given at once are all kept.
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, corrupt, unavailable};
use crate::{
    clock::UnixTime,
    store::{Consent, ConsentStore, StoreError, consents::scope_union},
};

/// How many times a grant is retried against concurrent ones before the store gives up.
const CAS_ATTEMPTS: usize = 32;

fn from_row(r: &AnyRow) -> Result<Consent, StoreError> {
    Ok(Consent {
        user_id: r.try_get("user_id").map_err(corrupt)?,
        client_id: r.try_get("client_id").map_err(corrupt)?,
        scope: r.try_get("scope").map_err(corrupt)?,
        granted_at: r.try_get("granted_at").map_err(corrupt)?,
    })
}

#[async_trait::async_trait]
impl ConsentStore for SqlStore {
    async fn grant_consent(
        &self,
        user_id: &str,
        client_id: &str,
        scope: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.run("consents", "grant", async {
            for _ in 0..CAS_ATTEMPTS {
                let row =
                    sqlx::query("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2")
                        .bind(user_id)
                        .bind(client_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(unavailable)?;
                let done = match row {
                    None => sqlx::query(
                        "INSERT INTO consents (user_id, client_id, scope, granted_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(user_id)
                    .bind(client_id)
                    .bind(scope_union("", scope))
                    .bind(now),
                    Some(row) => {
                        let before: String = row.try_get("scope").map_err(corrupt)?;
                        // Written only over the scope just read.
                        sqlx::query(
                            "UPDATE consents SET scope = $4, granted_at = $5 \
                             WHERE user_id = $1 AND client_id = $2 AND scope = $3",
                        )
                        .bind(user_id)
                        .bind(client_id)
                        .bind(before.clone())
                        .bind(scope_union(&before, scope))
                        .bind(now)
                    }
                }
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
                if done.rows_affected() > 0 {
                    return Ok(());
                }
            }
            Err(StoreError::Unavailable(format!(
                "consent changed {CAS_ATTEMPTS} times while granting"
            )))
        })
        .await
    }

    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<Consent>, StoreError> {
        self.run("consents", "get", async {
            let row = sqlx::query(
                "SELECT user_id, client_id, scope, granted_at FROM consents \
                 WHERE user_id = $1 AND client_id = $2",
            )
            .bind(user_id)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
            row.map(|r| from_row(&r)).transpose()
        })
        .await
    }

    async fn consents_of(&self, user_id: &str) -> Result<Vec<Consent>, StoreError> {
        self.run("consents", "of_user", async {
            let rows = sqlx::query(
                "SELECT user_id, client_id, scope, granted_at FROM consents \
                 WHERE user_id = $1 ORDER BY client_id",
            )
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
            rows.iter().map(from_row).collect()
        })
        .await
    }

    async fn revoke_consent(&self, user_id: &str, client_id: &str) -> Result<bool, StoreError> {
        self.run("consents", "revoke", async {
            let done = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
                .bind(user_id)
                .bind(client_id)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }
}
