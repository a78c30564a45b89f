//! Ending a browser session, the one way it is done — RP-initiated logout, the user's account
//! API, an administrator, a disabled account: the session ends, the token families issued in
//! it are revoked with their live access tokens (OpenID Connect Back-Channel Logout §2.7 lets
//! them end with it; offline families have no session and survive), and every replica's
//! back-channel delivery is woken. The store wrote the clients' logout notices in the same
//! write that ended the session ([`crate::store::LogoutOutbox`]), so none is lost; expiry
//! writes them as it prunes.

use std::sync::Arc;

use super::BrowserSession;
use crate::{
    audit::{self, Actor, Event},
    clock::UnixTime,
    store::{
        AuditLog, Notice, RefreshTokenStore, SessionStore, StoreError, Stores, hot::Hot,
        refresh::deny_access,
    },
};

/// Why a session ended (the audit entry says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The user signed out (RP-initiated logout, OpenID Connect RP-Initiated Logout 1.0).
    Logout,
    /// The user ended it from their list of sessions.
    ByUser,
    /// An administrator ended it.
    ByAdministrator,
    /// The account was disabled.
    UserDisabled,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::ByUser => "ended by the user",
            Self::ByAdministrator => "ended by an administrator",
            Self::UserDisabled => "the account was disabled",
        }
    }
}

/// Ends sessions.
#[derive(Clone)]
pub struct SessionEnder {
    sessions: Arc<dyn SessionStore>,
    refresh: Arc<dyn RefreshTokenStore>,
    hot: Hot,
    audit: Arc<dyn AuditLog>,
}

impl SessionEnder {
    pub fn new(stores: &Stores) -> Self {
        Self {
            sessions: stores.sessions.clone(),
            refresh: stores.refresh.clone(),
            hot: stores.hot.clone(),
            audit: stores.audit.clone(),
        }
    }

    /// Ends session `sid`; the session as it was when it was live (`None`: it had ended or
    /// expired already — its families are revoked all the same, so a retry after a failure
    /// half-way finishes the work).
    pub async fn end(
        &self,
        sid: &str,
        actor: &Actor,
        reason: EndReason,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError> {
        let ended = self.sessions.end_session(sid, now).await?;
        let revoked = self.refresh.revoke_session_families(sid, now).await?;
        deny_access(self.hot.as_ref(), &revoked.access, now).await?;
        if let Some(session) = &ended {
            tracing::info!(user_id = %session.user_id, reason = reason.as_str(), "session ended");
            let event = Event::SessionEnded {
                user_id: session.user_id.clone(),
                sid: session.sid.clone(),
                reason: reason.as_str(),
                families_revoked: revoked.revoked,
            };
            audit::record(self.audit.as_ref(), actor, event, now).await;
            if !session.clients.is_empty() {
                self.wake_delivery().await;
            }
        }
        Ok(ended)
    }

    /// Ends every live session of `user_id`; how many were live.
    pub async fn end_all_of(
        &self,
        user_id: &str,
        actor: &Actor,
        reason: EndReason,
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        let mut ended = 0;
        for session in self.sessions.sessions_of(user_id, now).await? {
            if self.end(&session.sid, actor, reason, now).await?.is_some() {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Tells every replica's back-channel delivery that notices wait. Best effort: delivery
    /// also polls the outbox.
    pub async fn wake_delivery(&self) {
        if let Err(e) = self.hot.publish(&Notice::LogoutsPending).await {
            tracing::debug!(error = %e, "back-channel delivery not woken; it polls");
        }
    }
}
