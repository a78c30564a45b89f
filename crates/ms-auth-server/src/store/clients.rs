//! Registered clients, looked up by `client_id` (RFC 6749 §2), and the writes registration
//! needs settled in the store (RFC 7591, RFC 7592): create without overwriting, replace while
//! the registration access token is still current, delete.
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

    /// Creates the client unless its id is taken: whether it was stored. An existing client
    /// is never overwritten.
    async fn create(&self, client: &Client) -> Result<bool, StoreError>;

    /// Replaces the registration of `client.id` with `client` if its registration access
    /// token's hash is still `token_hash`: whether it was replaced. Of two updates presenting
    /// one token, one wins; an update never brings a deleted client back.
    async fn replace_registration(
        &self,
        client: &Client,
        token_hash: &str,
    ) -> Result<bool, StoreError>;

    /// How many clients dynamic registration created (RFC 7591).
    async fn count_registered(&self) -> Result<u64, StoreError>;

    /// Removes the registered client `client_id` if its registration access token's hash is
    /// still `token_hash`: whether it did. A delete with a token an update just rotated loses,
    /// as a second update with it would.
    async fn delete(&self, client_id: &str, token_hash: &str) -> Result<bool, StoreError>;
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

    async fn create(&self, client: &Client) -> Result<bool, StoreError> {
        (**self).create(client).await
    }

    async fn replace_registration(
        &self,
        client: &Client,
        token_hash: &str,
    ) -> Result<bool, StoreError> {
        (**self).replace_registration(client, token_hash).await
    }

    async fn delete(&self, client_id: &str, token_hash: &str) -> Result<bool, StoreError> {
        (**self).delete(client_id, token_hash).await
    }

    async fn count_registered(&self) -> Result<u64, StoreError> {
        (**self).count_registered().await
    }
}
