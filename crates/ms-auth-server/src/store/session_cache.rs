//! Browser sessions cached in the hot shared state (Redis in a cluster), in front of the store
//! of record: every request a signed-in browser makes looks its session up, and most of those
//! lookups are served without the database. Because the cache is shared, what one replica
//! changes is seen by all at once.
//!
//! Three kinds of value, all in [`HotState`](super::HotState)'s values:
//! - `session:{token_hash}`: the session as read from the store, kept at most the cache's TTL
//!   and never past either of the session's own expiries;
//! - `session-token:{sid}`: the token hash of a cached session, written just before it (and
//!   kept a little longer), so a change that knows only the `sid` can drop the copy;
//! - `session-ended:{sid}`: written when a session is ended, for longer than any copy of it
//!   can live. A copy is served only while its sid has none: a replica that read the session
//!   just before it ended and cached it just after cannot make it live again.
//!
//! A touch or a new client drops the copy, so the next lookup reads the store; one that raced
//! the drop may serve the older idle expiry or client list for at most the TTL, which refuses
//! nothing that should be let in. Whenever the hot state fails, lookups fall through to the
//! store; a failed write after a change is logged, the change itself stands.

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};

use super::{SessionStore, SessionsPruned, StoreError, hot::Hot};
use crate::{clock::UnixTime, identity::BrowserSession};

/// How long a replica serves a session from the cache by default.
pub const SESSION_CACHE_TTL: Duration = Duration::from_secs(30);

/// How much longer an end's mark outlives the longest a copy can be cached.
const ENDED_MARGIN_SECS: i64 = 60;

fn session_key(token_hash: &str) -> String {
    format!("session:{token_hash}")
}

fn token_key(sid: &str) -> String {
    format!("session-token:{sid}")
}

fn ended_key(sid: &str) -> String {
    format!("session-ended:{sid}")
}

/// The cached form of a [`BrowserSession`]: every field, as JSON.
#[derive(Serialize, Deserialize)]
struct Cached {
    sid: String,
    user_id: String,
    auth_time: UnixTime,
    amr: Vec<String>,
    acr: Option<String>,
    created_at: UnixTime,
    last_seen: UnixTime,
    idle_expires_at: UnixTime,
    expires_at: UnixTime,
    clients: Vec<String>,
    user_agent: Option<String>,
    address: Option<String>,
}

impl From<&BrowserSession> for Cached {
    fn from(s: &BrowserSession) -> Self {
        Self {
            sid: s.sid.clone(),
            user_id: s.user_id.clone(),
            auth_time: s.auth_time,
            amr: s.amr.clone(),
            acr: s.acr.clone(),
            created_at: s.created_at,
            last_seen: s.last_seen,
            idle_expires_at: s.idle_expires_at,
            expires_at: s.expires_at,
            clients: s.clients.clone(),
            user_agent: s.user_agent.clone(),
            address: s.address.clone(),
        }
    }
}

impl From<Cached> for BrowserSession {
    fn from(c: Cached) -> Self {
        Self {
            sid: c.sid,
            user_id: c.user_id,
            auth_time: c.auth_time,
            amr: c.amr,
            acr: c.acr,
            created_at: c.created_at,
            last_seen: c.last_seen,
            idle_expires_at: c.idle_expires_at,
            expires_at: c.expires_at,
            clients: c.clients,
            user_agent: c.user_agent,
            address: c.address,
        }
    }
}

/// A [`SessionStore`] whose lookups are served from the hot state for up to a TTL.
pub struct CachedSessionStore {
    inner: Arc<dyn SessionStore>,
    hot: Hot,
    ttl_secs: i64,
}

impl CachedSessionStore {
    /// Serves `inner`'s lookups from `hot` for at most `ttl` (whole seconds; 0 caches nothing).
    pub fn new(inner: Arc<dyn SessionStore>, hot: Hot, ttl: Duration) -> Self {
        Self {
            inner,
            hot,
            ttl_secs: i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// The cached copy under `token_hash`, if any and its session has not ended; `None` also
    /// when the hot state cannot answer (the store will).
    async fn cached(&self, token_hash: &str, now: UnixTime) -> Option<Option<BrowserSession>> {
        let json = self
            .hot
            .get_value(&session_key(token_hash), now)
            .await
            .inspect_err(|e| tracing::debug!(error = %e, "session cache unreadable"))
            .ok()??;
        let Ok(cached) = serde_json::from_str::<Cached>(&json) else {
            // Written by another version, or damaged: the store answers.
            return None;
        };
        match self.hot.get_value(&ended_key(&cached.sid), now).await {
            Ok(None) => {}
            // Ended: it never comes back.
            Ok(Some(_)) => return Some(None),
            Err(_) => return None,
        }
        // A copy past an expiry its session may have been moved past since: the store answers.
        let session = BrowserSession::from(cached);
        session.is_live(now).then_some(Some(session))
    }

    /// Caches `session`, read from the store at `now`, under `token_hash`.
    async fn fill(
        &self,
        token_hash: &str,
        session: &BrowserSession,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let until = now
            .plus_secs(self.ttl_secs)
            .min(session.idle_expires_at)
            .min(session.expires_at);
        if until <= now {
            return Ok(());
        }
        let json = serde_json::to_string(&Cached::from(session))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.hot
            .put_value(
                &token_key(&session.sid),
                token_hash,
                until.plus_secs(1),
                now,
            )
            .await?;
        self.hot
            .put_value(&session_key(token_hash), &json, until, now)
            .await
    }

    /// Drops the cached copy of `sid`'s session, if there is one.
    async fn forget(&self, sid: &str, now: UnixTime) -> Result<(), StoreError> {
        if let Some(token_hash) = self.hot.get_value(&token_key(sid), now).await? {
            self.hot.delete_value(&session_key(&token_hash)).await?;
        }
        Ok(())
    }

    /// [`Self::forget`], a failure logged: the change it follows is made already.
    async fn forget_logged(&self, sid: &str, now: UnixTime) {
        if let Err(e) = self.forget(sid, now).await {
            tracing::warn!(error = %e, "a changed session's cached copy could not be dropped");
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for CachedSessionStore {
    async fn create_session(
        &self,
        token_hash: &str,
        session: &BrowserSession,
    ) -> Result<(), StoreError> {
        self.inner.create_session(token_hash, session).await
    }

    async fn session(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError> {
        if self.ttl_secs > 0
            && let Some(hit) = self.cached(token_hash, now).await
        {
            return Ok(hit);
        }
        let found = self.inner.session(token_hash, now).await?;
        if self.ttl_secs > 0
            && let Some(session) = &found
            && let Err(e) = self.fill(token_hash, session, now).await
        {
            tracing::debug!(error = %e, "session not cached");
        }
        Ok(found)
    }

    async fn touch_session(
        &self,
        sid: &str,
        now: UnixTime,
        idle_expires_at: UnixTime,
    ) -> Result<(), StoreError> {
        self.inner.touch_session(sid, now, idle_expires_at).await?;
        self.forget_logged(sid, now).await;
        Ok(())
    }

    async fn add_session_client(&self, sid: &str, client_id: &str) -> Result<(), StoreError> {
        self.inner.add_session_client(sid, client_id).await?;
        // No `now` is given here: read at the epoch, an expired entry at worst drops an expired
        // copy.
        self.forget_logged(sid, UnixTime::EPOCH).await;
        Ok(())
    }

    async fn end_session(
        &self,
        sid: &str,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError> {
        let ended = self.inner.end_session(sid, now).await?;
        // Marked even when the store found nothing live: a retry after a failed mark has it.
        let until = now.plus_secs(self.ttl_secs.saturating_add(ENDED_MARGIN_SECS));
        if let Err(e) = self.hot.put_value(&ended_key(sid), "1", until, now).await {
            tracing::warn!(
                error = %e,
                "an ended session could not be marked in the cache: a copy may be served until its TTL"
            );
        }
        self.forget_logged(sid, now).await;
        Ok(ended)
    }

    async fn sessions_of(
        &self,
        user_id: &str,
        now: UnixTime,
    ) -> Result<Vec<BrowserSession>, StoreError> {
        self.inner.sessions_of(user_id, now).await
    }

    async fn prune_expired(&self, now: UnixTime) -> Result<SessionsPruned, StoreError> {
        self.inner.prune_expired(now).await
    }
}
