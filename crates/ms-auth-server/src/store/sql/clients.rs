//! [`ClientStore`] on SQL: one row per client, its registration as JSON in `metadata`.
use std::sync::Arc;

use sqlx::Row;

use super::{SqlStore, corrupt, unavailable};
use crate::{
    clock::Clock,
    oauth::client::Client,
    store::{ClientStore, StoreError},
};

/// A client from its row: the `secret_hash` column holds its credential (see
/// [`Client::from_row`]).
fn client_from_row(row: &sqlx::any::AnyRow) -> Result<Client, StoreError> {
    let id: String = row.try_get("client_id").map_err(corrupt)?;
    let credential: String = row.try_get("secret_hash").map_err(corrupt)?;
    let metadata: String = row.try_get("metadata").map_err(corrupt)?;
    Client::from_row(id.as_str(), &credential, &metadata)
        .map_err(|e| corrupt(format!("client {id}: {e}")))
}

/// The client rows; [`ClientStore`] below bounds and times each call.
impl SqlStore {
    async fn client_row(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, secret_hash, metadata FROM clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|r| client_from_row(&r).map(Arc::new)).transpose()
    }

    async fn all_rows(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        let rows =
            sqlx::query("SELECT client_id, secret_hash, metadata FROM clients ORDER BY client_id")
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        rows.iter()
            .map(|r| client_from_row(r).map(Arc::new))
            .collect()
    }

    async fn upsert_row(&self, client: &Client) -> Result<(), StoreError> {
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
        // Row bookkeeping, not protocol time.
        .bind(Clock::system().now())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ClientStore for SqlStore {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        self.run("clients", "get", self.client_row(client_id)).await
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        self.run("clients", "all", self.all_rows()).await
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        self.run("clients", "upsert", self.upsert_row(client)).await
    }
}
