//! Customer storage behind a small trait; in memory for now (the storage issue adds SQL).

use std::{
    collections::{BTreeMap, HashMap},
    sync::RwLock,
};

use service_kit::metrics::time_store;
use uuid::Uuid;

use crate::customer::{Customer, CustomerInput};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait::async_trait]
pub trait CustomerStore: Send + Sync {
    /// A page in creation order, and the total count.
    async fn list(&self, limit: usize, offset: usize)
    -> Result<(Vec<Customer>, usize), StoreError>;
    async fn get(&self, id: Uuid) -> Result<Option<Customer>, StoreError>;
    async fn create(&self, input: CustomerInput) -> Result<Customer, StoreError>;
    /// Replaces a customer; `None` when there is none with `id`.
    async fn update(&self, id: Uuid, input: CustomerInput) -> Result<Option<Customer>, StoreError>;
    /// False when there was none with `id`.
    async fn delete(&self, id: Uuid) -> Result<bool, StoreError>;
}

/// A customer store whose every operation is timed and counted (`store="customers"` in
/// `/metrics`).
pub struct MeasuredCustomerStore<S>(pub S);

#[async_trait::async_trait]
impl<S: CustomerStore> CustomerStore for MeasuredCustomerStore<S> {
    async fn list(
        &self,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Customer>, usize), StoreError> {
        time_store("customers", "list", self.0.list(limit, offset)).await
    }

    async fn get(&self, id: Uuid) -> Result<Option<Customer>, StoreError> {
        time_store("customers", "get", self.0.get(id)).await
    }

    async fn create(&self, input: CustomerInput) -> Result<Customer, StoreError> {
        time_store("customers", "create", self.0.create(input)).await
    }

    async fn update(&self, id: Uuid, input: CustomerInput) -> Result<Option<Customer>, StoreError> {
        time_store("customers", "update", self.0.update(id, input)).await
    }

    async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        time_store("customers", "delete", self.0.delete(id)).await
    }
}

#[derive(Default)]
struct Inner {
    next: u64,
    by_seq: BTreeMap<u64, Customer>,
    seq_of: HashMap<Uuid, u64>,
}

#[derive(Default)]
pub struct MemoryCustomerStore {
    inner: RwLock<Inner>,
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Unavailable("the in-memory store's lock is poisoned".to_owned())
}

#[async_trait::async_trait]
impl CustomerStore for MemoryCustomerStore {
    async fn list(
        &self,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Customer>, usize), StoreError> {
        let inner = self.inner.read().map_err(poisoned)?;
        let page = inner
            .by_seq
            .values()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        Ok((page, inner.by_seq.len()))
    }

    async fn get(&self, id: Uuid) -> Result<Option<Customer>, StoreError> {
        let inner = self.inner.read().map_err(poisoned)?;
        Ok(inner
            .seq_of
            .get(&id)
            .and_then(|s| inner.by_seq.get(s))
            .cloned())
    }

    async fn create(&self, input: CustomerInput) -> Result<Customer, StoreError> {
        let mut inner = self.inner.write().map_err(poisoned)?;
        let customer = Customer {
            id: Uuid::new_v4(),
            name: input.name,
            email: input.email,
            country: input.country,
        };
        let seq = inner.next;
        inner.next += 1;
        inner.seq_of.insert(customer.id, seq);
        inner.by_seq.insert(seq, customer.clone());
        Ok(customer)
    }

    async fn update(&self, id: Uuid, input: CustomerInput) -> Result<Option<Customer>, StoreError> {
        let mut inner = self.inner.write().map_err(poisoned)?;
        let Some(&seq) = inner.seq_of.get(&id) else {
            return Ok(None);
        };
        let customer = Customer {
            id,
            name: input.name,
            email: input.email,
            country: input.country,
        };
        inner.by_seq.insert(seq, customer.clone());
        Ok(Some(customer))
    }

    async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let mut inner = self.inner.write().map_err(poisoned)?;
        let Some(seq) = inner.seq_of.remove(&id) else {
            return Ok(false);
        };
        inner.by_seq.remove(&seq);
        Ok(true)
    }
}
