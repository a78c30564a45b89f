//! Storage behind the protocol core: small traits shaped by what the protocol needs.
//!
//! Only the in-memory store exists so far; the SQL store of record and Redis slot in behind
//! the same traits.

mod memory;

use std::sync::Arc;

pub use memory::MemoryClientStore;

use crate::oauth::client::Client;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached; callers answer `temporarily_unavailable`.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Registered clients, looked up by `client_id`.
#[async_trait::async_trait]
pub trait ClientStore: Send + Sync {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError>;

    /// Every registered client, for metadata such as `scopes_supported`.
    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError>;
}

/// A client store whose every operation is timed and counted (`store="clients"` in
/// `/metrics`).
pub struct MeasuredClientStore<S>(pub S);

#[async_trait::async_trait]
impl<S: ClientStore> ClientStore for MeasuredClientStore<S> {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        service_kit::metrics::time_store("clients", "get", self.0.client(client_id)).await
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        service_kit::metrics::time_store("clients", "all", self.0.all()).await
    }
}
