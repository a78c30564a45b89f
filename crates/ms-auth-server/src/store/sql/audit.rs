//! [`AuditLog`] on SQL: the `audit_log` table, append-only.
use sqlx::Row;

use super::{SqlStore, corrupt, unavailable};
use crate::{
    clock::UnixTime,
    store::{AuditEvent, AuditLog, StoreError, audit::retention_cutoff},
};

#[async_trait::async_trait]
impl AuditLog for SqlStore {
    async fn append(&self, e: &AuditEvent) -> Result<(), StoreError> {
        self.run("audit", "append", async {
            sqlx::query(
                "INSERT INTO audit_log (id, at, event, client_id, subject, detail, actor) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(e.at)
            .bind(&e.event)
            .bind(e.client_id.clone())
            .bind(e.subject.clone())
            .bind(&e.detail)
            .bind(&e.actor)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn recent(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        self.run("audit", "recent", async {
            let rows = sqlx::query(
                "SELECT at, event, client_id, subject, detail, actor FROM audit_log \
                 ORDER BY at DESC, id DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEvent {
                        at: r.try_get("at").map_err(corrupt)?,
                        event: r.try_get("event").map_err(corrupt)?,
                        client_id: r.try_get("client_id").map_err(corrupt)?,
                        subject: r.try_get("subject").map_err(corrupt)?,
                        detail: r.try_get("detail").map_err(corrupt)?,
                        actor: r.try_get("actor").map_err(corrupt)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        let Some(cutoff) = retention_cutoff(self.audit_retention, now) else {
            return Ok(0);
        };
        self.run("audit", "prune", async {
            let done = sqlx::query("DELETE FROM audit_log WHERE at < $1")
                .bind(cutoff)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            Ok(done.rows_affected())
        })
        .await
    }
}
