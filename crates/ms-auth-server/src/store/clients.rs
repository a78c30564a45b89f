//! Registered clients, looked up by `client_id` (RFC 6749 §2).
use std::sync::Arc;

use super::StoreError;
use crate::oauth::client::Client;

/// Registered clients, looked up by `client_id`.
#[async_trait::async_trait]
pub trait ClientStore: Send + Sync {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError>;

    /// Every registered client, for metadata such as `scopes_supported`.
    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError>;

    /// Creates the client or replaces its registration (the config's clients at start-up).
    async fn upsert(&self, client: &Client) -> Result<(), StoreError>;
}

#[async_trait::async_trait]
impl<S: ClientStore + ?Sized> ClientStore for Arc<S> {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        (**self).client(client_id).await
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        (**self).all().await
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        (**self).upsert(client).await
    }
}
