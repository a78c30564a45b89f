//! [`ClientStore`] on SQL: one row per client, its registration as JSON in `metadata`, its
//! registration access token's hash beside it.
use std::sync::Arc;

use sqlx::Row;

use super::{SqlStore, corrupt, unavailable};
use crate::{
    clock::Clock,
    oauth::client::{Client, ClientRow},
    store::{ClientStore, StoreError},
};

const COLUMNS: &str = "client_id, secret_hash, metadata, registration_token_hash";

/// A client from its row: the `secret_hash` column holds its credential (see
/// [`Client::from_row`]).
fn client_from_row(row: &sqlx::any::AnyRow) -> Result<Client, StoreError> {
    let id: String = row.try_get("client_id").map_err(corrupt)?;
    let stored = ClientRow {
        credential: row.try_get("secret_hash").map_err(corrupt)?,
        metadata: row.try_get("metadata").map_err(corrupt)?,
        registration_token_hash: row.try_get("registration_token_hash").map_err(corrupt)?,
    };
    Client::from_row(id.as_str(), &stored).map_err(|e| corrupt(format!("client {id}: {e}")))
}

/// The client rows; [`ClientStore`] below bounds and times each call.
impl SqlStore {
    async fn client_row(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM clients WHERE client_id = $1"
        ))
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|r| client_from_row(&r).map(Arc::new)).transpose()
    }

    async fn all_rows(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM clients ORDER BY client_id"))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(|r| client_from_row(r).map(Arc::new))
            .collect()
    }

    async fn upsert_row(&self, client: &Client) -> Result<(), StoreError> {
        self.insert_row(
            client,
            "DO UPDATE SET secret_hash = excluded.secret_hash, metadata = excluded.metadata, \
             registration_token_hash = excluded.registration_token_hash, \
             updated_at = excluded.updated_at",
        )
        .await
        .map(|_| ())
    }

    async fn create_row(&self, client: &Client) -> Result<bool, StoreError> {
        self.insert_row(client, "DO NOTHING")
            .await
            .map(|rows| rows == 1)
    }

    /// Inserts `client`'s row, `on_conflict` deciding what an existing one becomes: the rows
    /// written.
    async fn insert_row(&self, client: &Client, on_conflict: &str) -> Result<u64, StoreError> {
        let row = client.to_row().map_err(corrupt)?;
        let sql = format!(
            "INSERT INTO clients (client_id, secret_hash, metadata, registration_token_hash, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (client_id) {on_conflict}"
        );
        let done = sqlx::query(&sql)
            .bind(client.id.as_str())
            .bind(row.credential)
            .bind(row.metadata)
            .bind(row.registration_token_hash)
            // Row bookkeeping, not protocol time.
            .bind(Clock::system().now())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn replace_registration_row(
        &self,
        client: &Client,
        token_hash: &str,
    ) -> Result<bool, StoreError> {
        let row = client.to_row().map_err(corrupt)?;
        // One statement: the swap of the token is the condition of the write.
        let done = sqlx::query(
            "UPDATE clients SET secret_hash = $2, metadata = $3, registration_token_hash = $4, \
             updated_at = $5 WHERE client_id = $1 AND registration_token_hash = $6",
        )
        .bind(client.id.as_str())
        .bind(row.credential)
        .bind(row.metadata)
        .bind(row.registration_token_hash)
        .bind(Clock::system().now())
        .bind(token_hash)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    /// Registered clients are the rows with a registration access token (migration 0010).
    async fn count_registered_rows(&self) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM clients WHERE registration_token_hash IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        let n: i64 = row.try_get("n").map_err(corrupt)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn delete_row(&self, client_id: &str, token_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM clients WHERE client_id = $1 AND registration_token_hash = $2",
        )
        .bind(client_id)
        .bind(token_hash)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
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

    async fn create(&self, client: &Client) -> Result<bool, StoreError> {
        self.run("clients", "create", self.create_row(client)).await
    }

    async fn replace_registration(
        &self,
        client: &Client,
        token_hash: &str,
    ) -> Result<bool, StoreError> {
        self.run(
            "clients",
            "replace_registration",
            self.replace_registration_row(client, token_hash),
        )
        .await
    }

    async fn count_registered(&self) -> Result<u64, StoreError> {
        self.run("clients", "count_registered", self.count_registered_rows())
            .await
    }

    async fn delete(&self, client_id: &str, token_hash: &str) -> Result<bool, StoreError> {
        self.run("clients", "delete", self.delete_row(client_id, token_hash))
            .await
    }
}
