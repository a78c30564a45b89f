//! [`AuditLog`] in memory.
use std::{sync::Mutex, time::Duration};

use super::{poisoned, timed};
use crate::{
    clock::UnixTime,
    store::{AuditEvent, AuditLog, StoreError, StoreSettings, audit::retention_cutoff},
};

#[derive(Debug)]
pub struct MemoryAuditLog {
    entries: Mutex<Vec<AuditEvent>>,
    /// `None`: entries are kept forever.
    retention: Option<Duration>,
}

impl MemoryAuditLog {
    pub fn new(retention: Option<Duration>) -> Self {
        Self {
            entries: Mutex::default(),
            retention,
        }
    }
}

impl Default for MemoryAuditLog {
    fn default() -> Self {
        Self::new(StoreSettings::default().audit_retention())
    }
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

    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        timed("audit", "prune", || {
            let Some(cutoff) = retention_cutoff(self.retention, now) else {
                return Ok(0);
            };
            let mut entries = self.entries.lock().map_err(poisoned)?;
            let before = entries.len();
            entries.retain(|e| e.at >= cutoff);
            Ok((before - entries.len()) as u64)
        })
        .await
    }
}
