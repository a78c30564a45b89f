//! In-memory stores: for tests, and `store.url = "memory"`. Nothing survives a restart.

mod audit;
mod clients;
mod codes;
mod consents;
mod grants;
mod keys;
mod refresh;
mod sessions;
mod users;

use crate::store::StoreError;

pub use audit::MemoryAuditLog;
pub use clients::MemoryClientStore;
pub use consents::MemoryConsentStore;
pub use grants::MemoryGrants;
pub use keys::MemoryKeyStore;
pub use sessions::MemorySessionStore;
pub use users::MemoryUserStore;

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Unavailable("an in-memory store's lock is poisoned".to_owned())
}

/// Runs one operation of `store`, timed like every other backend's so `/metrics` reads the
/// same on any store; memory answers at once, so nothing bounds it.
async fn timed<T>(
    store: &'static str,
    op: &'static str,
    call: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    service_kit::metrics::time_store(store, op, async { call() }).await
}
