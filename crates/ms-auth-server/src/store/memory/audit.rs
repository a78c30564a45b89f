//! [`AuditLog`] in memory.
use super::{MemoryGrantStore, poisoned, timed};
use crate::store::{AuditEvent, AuditLog, StoreError};

#[async_trait::async_trait]
impl AuditLog for MemoryGrantStore {
    async fn append(&self, event: &AuditEvent) -> Result<(), StoreError> {
        timed("audit", "append", || {
            self.state
                .lock()
                .map_err(poisoned)?
                .audit
                .push(event.clone());
            Ok(())
        })
        .await
    }

    async fn recent(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        timed("audit", "recent", || {
            let s = self.state.lock().map_err(poisoned)?;
            Ok(s.audit.iter().rev().take(limit as usize).cloned().collect())
        })
        .await
    }
}
