//! Browser sessions, looked up by the hash of their cookie token ([`super::credential_hash`])
//! and named everywhere else by their public `sid`.
use super::StoreError;
use crate::{clock::UnixTime, identity::BrowserSession};

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session under `token_hash`.
    async fn create_session(
        &self,
        token_hash: &str,
        session: &BrowserSession,
    ) -> Result<(), StoreError>;

    /// The session the cookie token hashes to, if it is live at `now` (an ended or expired
    /// one is `None`).
    async fn session(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError>;

    /// Records a use: `last_seen` = `now`, the idle expiry moved to `idle_expires_at` (never
    /// past the absolute one). Callers touch at most about once a minute per session.
    async fn touch_session(
        &self,
        sid: &str,
        now: UnixTime,
        idle_expires_at: UnixTime,
    ) -> Result<(), StoreError>;

    /// Adds `client_id` to the clients the session signed in to (once).
    async fn add_session_client(&self, sid: &str, client_id: &str) -> Result<(), StoreError>;

    /// Ends the session (it is never live again); the session as it was, if it was live.
    async fn end_session(
        &self,
        sid: &str,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError>;

    /// The user's live sessions, newest first.
    async fn sessions_of(
        &self,
        user_id: &str,
        now: UnixTime,
    ) -> Result<Vec<BrowserSession>, StoreError>;

    /// Removes sessions ended or expired before `now`. Those that expired without being
    /// ended end here: their clients' logout notices are written in the same write.
    async fn prune_expired(&self, now: UnixTime) -> Result<SessionsPruned, StoreError>;
}

/// What a pruning round of the sessions removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionsPruned {
    pub removed: u64,
    /// The sids of the sessions that were live until they expired: their token families are
    /// to be revoked, as at logout.
    pub expired: Vec<String>,
}
