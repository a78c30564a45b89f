//! The audit log as stored: append-only entries, read newest first. What an entry may say is
//! the closed vocabulary of [`crate::audit`].
use crate::clock::UnixTime;

use super::StoreError;

/// One audit entry as stored: what happened (the serde name of an [`crate::audit::Event`]),
/// who did it (an [`crate::audit::Actor`]'s stored form), to whom, and a short detail (never
/// a secret). Written from [`crate::audit::Event::entry`] only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: UnixTime,
    pub event: String,
    pub actor: String,
    pub client_id: Option<String>,
    pub subject: Option<String>,
    pub detail: String,
}

#[async_trait::async_trait]
pub trait AuditLog: Send + Sync {
    async fn append(&self, event: &AuditEvent) -> Result<(), StoreError>;

    /// The newest `limit` entries, newest first.
    async fn recent(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError>;

    /// Removes the entries older than the store's retention (`store.audit_retention_days`)
    /// at `now`; how many.
    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError>;
}

/// The instant before which entries are pruned at `now`, if any are.
pub(super) fn retention_cutoff(
    retention: Option<std::time::Duration>,
    now: UnixTime,
) -> Option<UnixTime> {
    let secs = i64::try_from(retention?.as_secs()).unwrap_or(i64::MAX);
    Some(now.plus_secs(-secs))
}
