//! In-memory stores: the embedded default until the SQL store lands, and the store of tests.

use std::{collections::HashMap, sync::Arc};

use super::{ClientStore, StoreError};
use crate::oauth::client::Client;

/// Clients held in a map that does not change after start-up.
#[derive(Debug, Default)]
pub struct MemoryClientStore {
    clients: HashMap<String, Arc<Client>>,
}

impl MemoryClientStore {
    pub fn new(clients: impl IntoIterator<Item = Client>) -> Self {
        let clients = clients
            .into_iter()
            .map(|c| (c.id.as_str().to_owned(), Arc::new(c)))
            .collect();
        Self { clients }
    }
}

#[async_trait::async_trait]
impl ClientStore for MemoryClientStore {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        Ok(self.clients.get(client_id).cloned())
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        let mut all: Vec<_> = self.clients.values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(all)
    }
}
