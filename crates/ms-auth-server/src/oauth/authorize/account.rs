//! The signed-in user's own consents (the account API): which clients may act for them, and
//! withdrawing one — which revokes that client's refresh tokens and access tokens for the
//! user, so the next request for it asks again.

use super::{Authorizer, flow::Browser};
use crate::{
    audit::{self, Actor, Event},
    clock::UnixTime,
    identity::User,
    oauth::error::EndpointError,
    store::Consent,
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
        for a in &revoked.access {
            self.server.hot.deny(&a.jti, a.expires_at, now).await?;
        }
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
