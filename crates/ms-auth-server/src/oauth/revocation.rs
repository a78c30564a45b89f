//! Token revocation (RFC 7009). An access token of the caller's is denied by its `jti` until
//! its `exp`, on every replica (the hot state's denylist); a refresh token of the caller's
//! takes its whole family with it, and the access tokens issued from that family are denied
//! too (§2.1: the server "SHOULD also invalidate all access tokens based on the same
//! authorization grant"). `token_type_hint` decides only which kind is tried first
//! (§2.1: the server "MAY ignore" a wrong hint). A token of another client, or one this server
//! does not know, answers the same 200 and changes nothing, so the endpoint tells nobody
//! which tokens exist.
use crate::clock::UnixTime;

use serde_json::Value;

use super::{client::Client, error::EndpointError, issuer::Issuer};
use crate::{
    audit::{self, Actor, Event},
    store::{AuditLog, HotState, RefreshTokenStore, credential_hash},
};

/// What revocation reaches: the issuer (to recognise its access tokens), the refresh-token
/// families, the denylist and the audit log.
pub struct Revocation<'a> {
    pub issuer: &'a Issuer,
    pub refresh: &'a dyn RefreshTokenStore,
    pub denylist: &'a dyn HotState,
    pub audit: &'a dyn AuditLog,
}

impl Revocation<'_> {
    pub async fn revoke(
        &self,
        caller: &Client,
        token: &str,
        hint: Option<&str>,
        now: UnixTime,
    ) -> Result<(), EndpointError> {
        let refresh_first = hint == Some("refresh_token");
        for refresh in [refresh_first, !refresh_first] {
            let done = if refresh {
                self.revoke_refresh(caller, token, now).await?
            } else {
                self.revoke_access(caller, token, now).await?
            };
            if done {
                return Ok(());
            }
        }
        Ok(())
    }

    /// True when `token` is an access token of this server (whoever it belongs to).
    async fn revoke_access(
        &self,
        caller: &Client,
        token: &str,
        now: UnixTime,
    ) -> Result<bool, EndpointError> {
        let Some(principal) = self.issuer.verify_own(token, now) else {
            return Ok(false);
        };
        if principal.client_id.as_deref() != Some(caller.id.as_str()) {
            return Ok(true);
        }
        let (Some(jti), Some(exp)) = (
            principal.claims.get("jti").and_then(Value::as_str),
            principal.claims.get("exp").and_then(Value::as_i64),
        ) else {
            return Ok(true);
        };
        self.denylist
            .deny(jti, UnixTime::from_secs(exp), now)
            .await?;
        let event = Event::AccessTokenRevoked {
            client_id: caller.id.to_string(),
            jti: jti.to_owned(),
        };
        audit::record(self.audit, &actor(caller), event, now).await;
        Ok(true)
    }

    /// True when `token` is a live refresh token of this server (whoever it belongs to).
    async fn revoke_refresh(
        &self,
        caller: &Client,
        token: &str,
        now: UnixTime,
    ) -> Result<bool, EndpointError> {
        let Some(grant) = self.refresh.refresh(&credential_hash(token), now).await? else {
            return Ok(false);
        };
        if grant.client_id == caller.id.as_str() {
            // Denied before the family is revoked: if the denylist fails, the family is still
            // live, so the client's retry finds the token again and does it all.
            let denied = self.refresh.family_access(&grant.family_id, now).await?;
            for access in &denied {
                self.denylist
                    .deny(&access.jti, access.expires_at, now)
                    .await?;
            }
            let revoked = self.refresh.revoke_family(&grant.family_id, now).await?;
            let event = Event::RefreshFamilyRevoked {
                client_id: caller.id.to_string(),
                family_id: grant.family_id,
                revoked: revoked.revoked,
            };
            audit::record(self.audit, &actor(caller), event, now).await;
            // Any issued in between.
            for access in revoked.access.iter().filter(|a| !denied.contains(a)) {
                self.denylist
                    .deny(&access.jti, access.expires_at, now)
                    .await?;
            }
        }
        Ok(true)
    }
}

fn actor(caller: &Client) -> Actor {
    Actor::Client(caller.id.to_string())
}
