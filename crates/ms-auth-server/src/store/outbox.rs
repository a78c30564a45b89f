//! The back-channel logout outbox (OpenID Connect Back-Channel Logout 1.0 §2.5): one notice
//! per ended session and client it signed in to, written by the session store in the same
//! write that ends the session (or prunes it once expired), so a logout is never recorded
//! without its notices. Replicas claim due notices under a lease, so each is delivered by
//! one of them at a time; a replica that dies mid-delivery leaves its claim to expire and
//! another takes it up.

use super::StoreError;
use crate::clock::UnixTime;

/// A logout some client has not been told of yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutNotice {
    /// The ended session (the logout token's `sid`).
    pub sid: String,
    /// The client to notify (whose `backchannel_logout_uri` is read at delivery).
    pub client_id: String,
    /// The session's user (the logout token's `sub`).
    pub subject: String,
    /// When the session ended: deliveries give up a configured time after it.
    pub created_at: UnixTime,
    /// Deliveries tried, this claim's included.
    pub attempts: u32,
}

#[async_trait::async_trait]
pub trait LogoutOutbox: Send + Sync {
    /// Up to `limit` notices due at `now`, oldest first, each claimed until `lease_until`
    /// (no other claim returns it before then) and its attempt counted.
    async fn claim_notices(
        &self,
        now: UnixTime,
        lease_until: UnixTime,
        limit: u32,
    ) -> Result<Vec<LogoutNotice>, StoreError>;

    /// The notice is settled (delivered, or given up): removed, whoever holds it now — a
    /// delivered notice is never worth another attempt.
    async fn settle_notice(&self, sid: &str, client_id: &str) -> Result<(), StoreError>;

    /// The notice is due again at `due_at` (a failed attempt, backed off) — if it is still
    /// the claim that counted `attempts`: a replica whose lease ran out must not move the
    /// lease of the replica that claimed it since.
    async fn retry_notice(
        &self,
        sid: &str,
        client_id: &str,
        attempts: u32,
        due_at: UnixTime,
    ) -> Result<(), StoreError>;

    /// How many notices wait (claimed or not).
    async fn pending_notices(&self) -> Result<u64, StoreError>;
}
