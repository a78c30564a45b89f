//! Token revocation (RFC 7009). An access token of the caller's is denied by its `jti` until
//! its `exp`, on every replica (the hot state's denylist); a refresh token of the caller's
//! takes its whole family with it. `token_type_hint` decides only which kind is tried first
//! (§2.1: the server "MAY ignore" a wrong hint). A token of another client, or one this server
//! does not know, answers the same 200 and changes nothing, so the endpoint tells nobody
//! which tokens exist.

use serde_json::Value;

use super::{
    client::Client,
    server::{AuthorizationServer, TokenEndpointError},
};
use crate::store::grants::{AuditEvent, credential_hash};

impl AuthorizationServer {
    pub async fn revoke(
        &self,
        caller: &Client,
        token: &str,
        hint: Option<&str>,
        now: u64,
    ) -> Result<(), TokenEndpointError> {
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
        now: u64,
    ) -> Result<bool, TokenEndpointError> {
        let Some(principal) = self.own_token(token, now) else {
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
        self.hot.deny(jti, exp, now as i64).await?;
        self.audit(caller, "access_token_revoked", format!("jti {jti}"), now)
            .await;
        Ok(true)
    }

    /// True when `token` is a live refresh token of this server (whoever it belongs to).
    async fn revoke_refresh(
        &self,
        caller: &Client,
        token: &str,
        now: u64,
    ) -> Result<bool, TokenEndpointError> {
        let Some(grant) = self
            .grants
            .refresh(&credential_hash(token), now as i64)
            .await?
        else {
            return Ok(false);
        };
        if grant.client_id == caller.id.as_str() {
            self.grants
                .revoke_family(&grant.family_id, now as i64)
                .await?;
            let detail = format!("family {}", grant.family_id);
            self.audit(caller, "refresh_family_revoked", detail, now)
                .await;
        }
        Ok(true)
    }

    /// Best effort: a revocation that took effect is not undone because its audit entry failed.
    async fn audit(&self, caller: &Client, event: &str, detail: String, now: u64) {
        let entry = AuditEvent {
            at: now as i64,
            event: event.to_owned(),
            client_id: Some(caller.id.to_string()),
            subject: None,
            detail,
        };
        if let Err(e) = self.audit.append(&entry).await {
            tracing::warn!(error = %e, event, "audit entry not written");
        }
    }
}
