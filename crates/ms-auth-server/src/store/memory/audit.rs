//! [`AuditLog`] in memory.
use std::sync::Mutex;

use super::{poisoned, timed};
use crate::store::{AuditEvent, AuditLog, StoreError};

#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    entries: Mutex<Vec<AuditEvent>>,
}

#[async_trait::async_trait]
impl AuditLog for MemoryAuditLog {
    async fn append(&self, event: &AuditEvent) -> Result<(), StoreError> {
        timed("audit", "append", || {
            self.entries.lock().map_err(poisoned)?.push(event.clone());
            Ok(())
        })
        .await
    }

    async fn recent(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        timed("audit", "recent", || {
            let entries = self.entries.lock().map_err(poisoned)?;
            Ok(entries.iter().rev().take(limit as usize).cloned().collect())
        })
        .await
    }
}
