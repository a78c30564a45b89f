//! In-memory stores: for tests, and `store.url = "memory"`. Nothing survives a restart.

mod audit;
mod clients;
mod grants;
mod keys;

use crate::store::StoreError;

pub use clients::MemoryClientStore;
pub use grants::MemoryGrantStore;
pub use keys::MemoryKeyStore;

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Unavailable("an in-memory store's lock is poisoned".to_owned())
}
