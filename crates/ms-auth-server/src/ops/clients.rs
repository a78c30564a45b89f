//! Client registrations: seeding from the config at start-up.

use std::sync::Arc;

use super::{Actor, Ops};
use crate::{
    audit::Event,
    clock::UnixTime,
    oauth::client::{Client, ClientOrigin, ClientStatus},
    store::StoreError,
};

/// Why the config's clients could not be seeded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(
        "`clients`: {client_id} is a client registered by {origin:?}, not by the config: the config cannot manage it (give the config's client another id)"
    )]
    NotTheConfigs {
        client_id: String,
        origin: ClientOrigin,
    },
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl Ops {
    /// The config is authoritative for the clients it manages: its clients are written to
    /// the store, and a client it managed before but lists no longer is disabled — audited,
    /// and announced so every replica refuses its secret at once. Clients registered any
    /// other way are never touched, and the config may not take one of their ids over.
    pub async fn seed_config_clients(
        &self,
        clients: &[Client],
        now: UnixTime,
    ) -> Result<(), SeedError> {
        let store = &self.stores.clients;
        for client in clients {
            if let Some(existing) = store.client(client.id.as_str()).await?
                && existing.origin != ClientOrigin::Config
            {
                return Err(SeedError::NotTheConfigs {
                    client_id: client.id.to_string(),
                    origin: existing.origin,
                });
            }
            store.upsert(client).await?;
        }
        for stored in store.all().await? {
            let listed = clients.iter().any(|c| c.id == stored.id);
            if stored.origin != ClientOrigin::Config || !stored.enabled() || listed {
                continue;
            }
            let mut disabled = Arc::unwrap_or_clone(stored);
            disabled.status = ClientStatus::Disabled;
            store.upsert(&disabled).await?;
            tracing::warn!(client_id = %disabled.id, "client removed from the config: disabled");
            let event = Event::ClientDisabled {
                client_id: disabled.id.to_string(),
                reason: "removed from the config".to_owned(),
            };
            self.stores
                .audit
                .append(&event.entry(&Actor::System, now))
                .await?;
        }
        Ok(())
    }
}
