//! The signed-in user's own consents and sessions (the account API): which clients may act
//! for them, and withdrawing one — which revokes that client's refresh tokens and access
//! tokens for the user, so the next request for it asks again; where they are signed in, and
//! ending one or all of those sessions — as a logout does, back-channel notices included.

use super::{Authorizer, flow::Browser};
use crate::{
    audit::{self, Actor, Event},
    clock::UnixTime,
    identity::{BrowserSession, EndReason, User},
    oauth::error::EndpointError,
    store::{Consent, refresh::deny_access},
};

impl Authorizer {
    /// The user signed in in this browser and their consents; `None` when nobody is.
    pub async fn consents(
        &self,
        browser: Browser<'_>,
        now: UnixTime,
    ) -> Result<Option<(User, Vec<Consent>)>, EndpointError> {
        let Some((_, user)) = self.signed_in(browser, now).await? else {
            return Ok(None);
        };
        let consents = self.consents.consents_of(&user.id).await?;
        Ok(Some((user, consents)))
    }

    /// Withdraws the user's consent for `client_id` and revokes what it granted. `None` when
    /// nobody is signed in; `Some(false)` when there was no such consent.
    pub async fn revoke_consent(
        &self,
        browser: Browser<'_>,
        client_id: &str,
        now: UnixTime,
    ) -> Result<Option<bool>, EndpointError> {
        let Some((_, user)) = self.signed_in(browser, now).await? else {
            return Ok(None);
        };
        if !self.consents.revoke_consent(&user.id, client_id).await? {
            return Ok(Some(false));
        }
        let revoked = self
            .server
            .refresh
            .revoke_user_families(&user.id, Some(client_id), now)
            .await?;
        deny_access(self.server.hot.as_ref(), &revoked.access, now).await?;
        audit::record(
            self.server.audit.as_ref(),
            &Actor::User(user.id.clone()),
            Event::ConsentRevoked {
                user_id: user.id.clone(),
                client_id: client_id.to_owned(),
                families_revoked: revoked.revoked,
            },
            now,
        )
        .await;
        Ok(Some(true))
    }
}

/// The signed-in user's sessions, the browser's own among them.
#[derive(Debug, Clone)]
pub struct OwnSessions {
    pub user: User,
    /// The `sid` of the session this browser is signed in with.
    pub current: String,
    /// Live, newest first; each with the names of the clients it signed in to.
    pub sessions: Vec<(BrowserSession, Vec<(String, String)>)>,
}

impl Authorizer {
    /// `user_id`'s live session `sid`, if it is one of theirs.
    pub(crate) async fn live_session_of(
        &self,
        user_id: &str,
        sid: &str,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, crate::store::StoreError> {
        Ok(self
            .sessions
            .store
            .sessions_of(user_id, now)
            .await?
            .into_iter()
            .find(|s| s.sid == sid))
    }

    /// The user signed in in this browser and their live sessions; `None` when nobody is.
    pub async fn own_sessions(
        &self,
        browser: Browser<'_>,
        now: UnixTime,
    ) -> Result<Option<OwnSessions>, EndpointError> {
        let Some((current, user)) = self.signed_in(browser, now).await? else {
            return Ok(None);
        };
        let mut sessions = Vec::new();
        for session in self.sessions.store.sessions_of(&user.id, now).await? {
            let mut clients = Vec::with_capacity(session.clients.len());
            for id in &session.clients {
                let name = match self.server.clients.client(id).await? {
                    Some(c) => c.display_name(),
                    None => id.clone(),
                };
                clients.push((id.clone(), name));
            }
            sessions.push((session, clients));
        }
        // This browser's own session first, then the others, the newest first (the store's
        // order; sessions started within one second are otherwise in no telling order).
        sessions.sort_by_key(|(session, _)| session.sid != current.sid);
        Ok(Some(OwnSessions {
            user,
            current: current.sid,
            sessions,
        }))
    }

    /// Ends the user's session `sid` (every one of them when `None`), with the same token
    /// revocation and back-channel notices as a logout. `None` when nobody is signed in; else
    /// how many ended and whether this browser's own was among them.
    pub async fn end_own_sessions(
        &self,
        browser: Browser<'_>,
        sid: Option<&str>,
        now: UnixTime,
    ) -> Result<Option<(usize, bool)>, EndpointError> {
        let Some((current, user)) = self.signed_in(browser, now).await? else {
            return Ok(None);
        };
        let actor = Actor::User(user.id.clone());
        let Some(sid) = sid else {
            let ended = self
                .ender
                .end_all_of(&user.id, &actor, EndReason::ByUser, now)
                .await?;
            return Ok(Some((ended, true)));
        };
        // Only one of the user's own: another user's sid is answered as unknown.
        if self.live_session_of(&user.id, sid, now).await?.is_none() {
            return Ok(Some((0, false)));
        }
        let ended = self.ender.end(sid, &actor, EndReason::ByUser, now).await?;
        Ok(Some((usize::from(ended.is_some()), sid == current.sid)))
    }
}
