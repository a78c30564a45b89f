//! The UserInfo endpoint (OIDC Core §5.3): the claims about the signed-in user that the access
//! token's scopes release, for a Bearer access token (RFC 6750) carrying `openid`.

use serde_json::{Map, Value};

use super::claims;
use crate::{
    clock::UnixTime,
    oauth::issuer::Issuer,
    store::{HotState, StoreError, UserStore},
};

pub use auth_middleware::AuthError;

#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    /// RFC 6750 §3.1: answered with its challenge.
    #[error(transparent)]
    Bearer(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The claims for `token` at `now`.
pub async fn userinfo(
    issuer: &Issuer,
    denylist: &dyn HotState,
    users: &dyn UserStore,
    token: &str,
    now: UnixTime,
) -> Result<Map<String, Value>, UserinfoError> {
    let invalid = |why: &str| UserinfoError::Bearer(AuthError::InvalidToken(why.to_owned()));
    let principal = issuer
        .verify_own(token, now)
        .ok_or_else(|| invalid("the access token is not valid"))?;
    if !principal.has_scope("openid") {
        return Err(AuthError::InsufficientScope("openid".to_owned()).into());
    }
    let revoked = match principal.claims.get("jti").and_then(Value::as_str) {
        Some(jti) => denylist.is_denied(jti, now).await?,
        None => true,
    };
    if revoked {
        return Err(invalid("the access token has been revoked"));
    }
    // A token for a client itself (client credentials) names no user.
    let user = users
        .user(&principal.subject)
        .await?
        .filter(|u| u.enabled())
        .ok_or_else(|| invalid("the access token names no active user"))?;
    let mut out = Map::new();
    out.insert("sub".to_owned(), Value::String(user.id.clone()));
    out.extend(claims::released(&user, &principal.scopes.join(" ")));
    Ok(out)
}
