//! The SQL store of record: SQLite (embedded) or PostgreSQL, through sqlx's `Any` driver so
//! both run the same statements; the schema is versioned and migrated at start-up.

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use super::{
    ClientStore, KeyState, KeyStore, StoreError, StoredKey,
    sealing::Sealer,
    settings::{OpenError, StoreSettings},
};
use crate::oauth::{
    client::{AuthMethod, Client, ClientId, ClientOrigin, GrantType},
    keys::SigningAlgorithm,
    scope::ScopeSet,
    secret::SecretHash,
};

/// The schema's versions, in order; each runs once.
const STEPS: &[service_kit::sql::Step] = &[
    (
        1,
        "clients and signing keys",
        include_str!("migrations/0001_clients_and_keys.sql"),
    ),
    (
        2,
        "grants and audit",
        include_str!("migrations/0002_grants_and_audit.sql"),
    ),
    (
        3,
        "key lifecycle",
        include_str!("migrations/0003_key_lifecycle.sql"),
    ),
];

pub struct SqlStore {
    pub(super) pool: AnyPool,
    sealer: Sealer,
}

pub(super) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl SqlStore {
    /// Connects to `settings.url` and brings the schema up to date.
    pub async fn open(settings: &StoreSettings) -> Result<Self, OpenError> {
        let key = settings
            .encryption_key
            .as_ref()
            .ok_or(OpenError::MissingEncryptionKey)?;
        let sealer = Sealer::from_base64(&key.0)?;
        let pool = service_kit::sql::open(
            &settings.url,
            settings.max_connections,
            Duration::from_millis(settings.connect_timeout_ms.max(1)),
            STEPS,
        )
        .await?;
        Ok(Self { pool, sealer })
    }

    /// The raw row of a signing key, for tests that check what is at rest.
    pub async fn raw_key_row(&self, kid: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT sealed_private_key FROM signing_keys WHERE kid = $1")
            .bind(kid)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(|r| r.try_get::<String, _>(0).map_err(corrupt))
            .transpose()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait::async_trait]
impl super::Probe for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
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

#[async_trait::async_trait]
impl ClientStore for SqlStore {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, secret_hash, metadata FROM clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|r| client_from_row(&r).map(Arc::new)).transpose()
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        let rows =
            sqlx::query("SELECT client_id, secret_hash, metadata FROM clients ORDER BY client_id")
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        rows.iter()
            .map(|r| client_from_row(r).map(Arc::new))
            .collect()
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
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

impl SqlStore {
    fn key_from_row(&self, row: &sqlx::any::AnyRow) -> Result<StoredKey, StoreError> {
        let kid: String = row.try_get("kid").map_err(corrupt)?;
        let algorithm: String = row.try_get("algorithm").map_err(corrupt)?;
        let state: String = row.try_get("state").map_err(corrupt)?;
        let sealed: String = row.try_get("sealed_private_key").map_err(corrupt)?;
        let Some(algorithm) = SigningAlgorithm::parse(&algorithm) else {
            return Err(corrupt(format!("key {kid}: algorithm {algorithm:?}")));
        };
        let Some(state) = KeyState::parse(&state) else {
            return Err(corrupt(format!("key {kid}: state {state:?}")));
        };
        let pem = self
            .sealer
            .open(&sealed, &kid)
            .map_err(|e| corrupt(format!("key {kid}: {e}")))?;
        Ok(StoredKey {
            private_key_pem: String::from_utf8(pem).map_err(corrupt)?,
            created_at: row.try_get("created_at").map_err(corrupt)?,
            activates_at: row.try_get("activates_at").map_err(corrupt)?,
            publish_until: row.try_get("publish_until").map_err(corrupt)?,
            kid,
            algorithm,
            state,
        })
    }
}

const KEY_COLUMNS: &str =
    "kid, algorithm, state, sealed_private_key, created_at, activates_at, publish_until";

impl SqlStore {
    /// Inserts `key` in `state` unless a partial unique index (one active, one next) refuses
    /// it, then returns the key in that state: of replicas racing, one key wins.
    async fn insert_unique(
        &self,
        key: &StoredKey,
        state: KeyState,
    ) -> Result<StoredKey, StoreError> {
        let sealed = self
            .sealer
            .seal(key.private_key_pem.as_bytes(), &key.kid)
            .map_err(corrupt)?;
        sqlx::query(&format!(
            "INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(&key.kid)
        .bind(key.algorithm.as_str())
        .bind(state.as_str())
        .bind(sealed)
        .bind(key.created_at)
        .bind(key.activates_at)
        .bind(key.publish_until)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        let row = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE state = $1"
        ))
        .bind(state.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        self.key_from_row(&row)
    }
}

#[async_trait::async_trait]
impl KeyStore for SqlStore {
    async fn activate_if_none(&self, candidate: StoredKey) -> Result<StoredKey, StoreError> {
        self.insert_unique(&candidate, KeyState::Active).await
    }

    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(|r| self.key_from_row(r)).collect()
    }

    async fn add_next(&self, candidate: StoredKey) -> Result<StoredKey, StoreError> {
        self.insert_unique(&candidate, KeyState::Next).await
    }

    async fn promote_due(&self, now: i64, retire_for: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        // Retire first: the index admits one active key at a time. Both updates are
        // conditional on a due next key, so a second replica finds nothing left to do.
        sqlx::query(
            "UPDATE signing_keys SET state = 'retired', publish_until = $2 \
             WHERE state = 'active' AND EXISTS \
             (SELECT 1 FROM signing_keys WHERE state = 'next' AND activates_at <= $1)",
        )
        .bind(now)
        .bind(now + retire_for)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        let promoted = sqlx::query(
            "UPDATE signing_keys SET state = 'active' WHERE state = 'next' AND activates_at <= $1",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?
        .rows_affected();
        tx.commit().await.map_err(unavailable)?;
        Ok(promoted > 0)
    }

    async fn remove_expired(&self, now: i64) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM signing_keys WHERE state = 'retired' AND publish_until <= $1")
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}
