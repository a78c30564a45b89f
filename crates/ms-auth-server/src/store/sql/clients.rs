//! [`ClientStore`] on SQL: one row per client, its registration as JSON in `metadata`.
use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{SqlStore, corrupt, unavailable};
use crate::oauth::{
    client::{AuthMethod, Client, ClientId, ClientOrigin, GrantType},
    scope::ScopeSet,
    secret::SecretHash,
};
use crate::store::{ClientStore, StoreError};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A client's registration as stored in `clients.metadata`. Fields added later have
/// defaults, so rows written before them read as they were meant.
#[derive(Serialize, Deserialize)]
struct ClientMetadata {
    grant_types: Vec<GrantType>,
    token_endpoint_auth_methods: Vec<AuthMethod>,
    scope: ScopeSet,
    /// Before default scopes existed, a request without `scope` got every registered scope.
    #[serde(default)]
    default_scope: Option<ScopeSet>,
    audience: Vec<String>,
    access_token_ttl_secs: u64,
    #[serde(default)]
    resource_server: Option<String>,
    #[serde(default)]
    origin: ClientOrigin,
    #[serde(default = "enabled")]
    enabled: bool,
}

fn enabled() -> bool {
    true
}

fn client_from_row(row: &sqlx::any::AnyRow) -> Result<Client, StoreError> {
    let id: String = row.try_get("client_id").map_err(corrupt)?;
    let hash: String = row.try_get("secret_hash").map_err(corrupt)?;
    let metadata: String = row.try_get("metadata").map_err(corrupt)?;
    let m: ClientMetadata =
        serde_json::from_str(&metadata).map_err(|e| corrupt(format!("client {id}: {e}")))?;
    Ok(Client {
        secret: SecretHash::parse(&hash).map_err(|e| corrupt(format!("client {id}: {e}")))?,
        id: ClientId::new(id),
        grant_types: m.grant_types,
        auth_methods: m.token_endpoint_auth_methods,
        default_scopes: m.default_scope,
        scopes: m.scope,
        audience: m.audience,
        access_token_ttl: Duration::from_secs(m.access_token_ttl_secs),
        resource_server: m.resource_server,
        origin: m.origin,
        enabled: m.enabled,
    })
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
        let metadata = serde_json::to_string(&ClientMetadata {
            grant_types: client.grant_types.clone(),
            token_endpoint_auth_methods: client.auth_methods.clone(),
            scope: client.scopes.clone(),
            default_scope: client.default_scopes.clone(),
            audience: client.audience.clone(),
            access_token_ttl_secs: client.access_token_ttl.as_secs(),
            resource_server: client.resource_server.clone(),
            origin: client.origin,
            enabled: client.enabled,
        })
        .map_err(corrupt)?;
        sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, metadata, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, \
             metadata = excluded.metadata, updated_at = excluded.updated_at",
        )
        .bind(client.id.as_str())
        .bind(client.secret.to_phc())
        .bind(metadata)
        .bind(now())
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
