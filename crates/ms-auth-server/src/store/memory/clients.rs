//! [`ClientStore`] in memory.
use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{Arc, RwLock},
};

use super::{poisoned, timed};
use crate::{
    oauth::client::Client,
    store::{ClientStore, StoreError},
};

#[derive(Debug, Default)]
pub struct MemoryClientStore {
    clients: RwLock<HashMap<String, Arc<Client>>>,
}

impl MemoryClientStore {
    pub fn new(clients: impl IntoIterator<Item = Client>) -> Self {
        let clients = clients
            .into_iter()
            .map(|c| (c.id.as_str().to_owned(), Arc::new(c)))
            .collect();
        Self {
            clients: RwLock::new(clients),
        }
    }
}

#[async_trait::async_trait]
impl ClientStore for MemoryClientStore {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        timed("clients", "get", || {
            Ok(self
                .clients
                .read()
                .map_err(poisoned)?
                .get(client_id)
                .cloned())
        })
        .await
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        timed("clients", "all", || {
            let mut all: Vec<_> = self
                .clients
                .read()
                .map_err(poisoned)?
                .values()
                .cloned()
                .collect();
            all.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(all)
        })
        .await
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        timed("clients", "upsert", || {
            self.clients
                .write()
                .map_err(poisoned)?
                .insert(client.id.as_str().to_owned(), Arc::new(client.clone()));
            Ok(())
        })
        .await
    }

    async fn create(&self, client: &Client) -> Result<bool, StoreError> {
        timed("clients", "create", || {
            let mut clients = self.clients.write().map_err(poisoned)?;
            Ok(match clients.entry(client.id.as_str().to_owned()) {
                Entry::Occupied(_) => false,
                Entry::Vacant(slot) => {
                    slot.insert(Arc::new(client.clone()));
                    true
                }
            })
        })
        .await
    }

    async fn replace_registration(
        &self,
        client: &Client,
        token_hash: &str,
    ) -> Result<bool, StoreError> {
        timed("clients", "replace_registration", || {
            let mut clients = self.clients.write().map_err(poisoned)?;
            let Some(current) = clients.get_mut(client.id.as_str()) else {
                return Ok(false);
            };
            if current.registration_token_hash() != Some(token_hash) {
                return Ok(false);
            }
            *current = Arc::new(client.clone());
            Ok(true)
        })
        .await
    }

    async fn count_registered(&self) -> Result<u64, StoreError> {
        timed("clients", "count_registered", || {
            let clients = self.clients.read().map_err(poisoned)?;
            Ok(clients
                .values()
                .filter(|c| c.origin == crate::oauth::client::ClientOrigin::Registration)
                .count() as u64)
        })
        .await
    }

    async fn delete(&self, client_id: &str, token_hash: &str) -> Result<bool, StoreError> {
        timed("clients", "delete", || {
            let mut clients = self.clients.write().map_err(poisoned)?;
            let current = clients
                .get(client_id)
                .is_some_and(|c| c.registration_token_hash() == Some(token_hash));
            Ok(current && clients.remove(client_id).is_some())
        })
        .await
    }
}
