//! [`LogoutOutbox`] on SQL: a claim is one conditional `UPDATE … RETURNING` that moves the
//! claimed rows' `due_at` to the lease's end. The outer `due_at <= $1` is checked again on
//! the row a concurrent claim may have just moved (PostgreSQL re-evaluates it after the row
//! lock; SQLite runs writers one at a time), so two replicas never claim one notice at once.
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, corrupt, unavailable};
use crate::{
    clock::UnixTime,
    store::{LogoutNotice, LogoutOutbox, StoreError},
};

fn from_row(r: &AnyRow) -> Result<LogoutNotice, StoreError> {
    let attempts: i32 = r.try_get("attempts").map_err(corrupt)?;
    Ok(LogoutNotice {
        sid: r.try_get("sid").map_err(corrupt)?,
        client_id: r.try_get("client_id").map_err(corrupt)?,
        subject: r.try_get("subject").map_err(corrupt)?,
        created_at: r.try_get("created_at").map_err(corrupt)?,
        attempts: u32::try_from(attempts).unwrap_or(0),
    })
}

#[async_trait::async_trait]
impl LogoutOutbox for SqlStore {
    async fn claim_notices(
        &self,
        now: UnixTime,
        lease_until: UnixTime,
        limit: u32,
    ) -> Result<Vec<LogoutNotice>, StoreError> {
        self.run("outbox", "claim", async {
            let rows = sqlx::query(
                "UPDATE logout_notices SET due_at = $2, attempts = attempts + 1 \
                 WHERE due_at <= $1 AND (sid, client_id) IN \
                 (SELECT sid, client_id FROM logout_notices WHERE due_at <= $1 \
                  ORDER BY due_at, created_at LIMIT $3) \
                 RETURNING sid, client_id, subject, created_at, attempts",
            )
            .bind(now)
            .bind(lease_until)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
            rows.iter().map(from_row).collect()
        })
        .await
    }

    async fn settle_notice(&self, sid: &str, client_id: &str) -> Result<(), StoreError> {
        self.run("outbox", "settle", async {
            sqlx::query("DELETE FROM logout_notices WHERE sid = $1 AND client_id = $2")
                .bind(sid)
                .bind(client_id)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn retry_notice(
        &self,
        sid: &str,
        client_id: &str,
        attempts: u32,
        due_at: UnixTime,
    ) -> Result<(), StoreError> {
        self.run("outbox", "retry", async {
            sqlx::query(
                "UPDATE logout_notices SET due_at = $4 \
                 WHERE sid = $1 AND client_id = $2 AND attempts = $3",
            )
            .bind(sid)
            .bind(client_id)
            .bind(i64::from(attempts))
            .bind(due_at)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn pending_notices(&self) -> Result<u64, StoreError> {
        self.run("outbox", "pending", async {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM logout_notices")
                .fetch_one(&self.pool)
                .await
                .map_err(unavailable)?;
            let n: i64 = row.try_get("n").map_err(corrupt)?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }
}
