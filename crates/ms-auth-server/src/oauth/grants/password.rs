//! The resource owner password credentials grant (RFC 6749 §4.3): a confidential client sends
//! the user's username and password. RFC 9700 §2.4: it "MUST NOT be used" — it shows the
//! client the user's credentials, leaves no room for a second factor or consent, and teaches
//! users to type their password outside the authorization server. Off unless a client is
//! configured for it.
//!
//! The credentials go through the sign-in page's own check ([`SignIn::sign_in`]: the hashing
//! pool, the dummy hash for an unknown user, the per-user and per-address limits, disabled
//! users refused, `sign_in_failed` audited), and a success is audited as the page's is. There
//! is no browser session: a refresh family is bound to none.

use std::net::IpAddr;

use super::{
    super::{
        error::{EndpointError, ErrorCode, OAuthError},
        params::Params,
        scope::ScopeSet,
        token_response::TokenResponse,
    },
    GrantContext,
    user_tokens::{self, ForUser},
};
use crate::{
    audit::{self, Actor, Event},
    identity::sign_in::{SignIn, SignInError},
    oauth::client::Client,
};

/// `grant_type=password` with `username`, `password` and an optional `scope` (RFC 6749
/// §4.3.2). Its `Debug` never shows the password.
pub struct Request {
    pub username: String,
    pub password: String,
    pub scope: Option<ScopeSet>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("scope", &self.scope)
            .finish()
    }
}

impl Request {
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            username: params.require("username")?.to_owned(),
            password: params.require("password")?.to_owned(),
            scope: params.get("scope").map(ScopeSet::parse_param).transpose()?,
        })
    }
}

/// One answer for an unknown user and a wrong password (RFC 6749 §5.2 `invalid_grant`).
const INVALID: &str = "the username or the password is wrong";

/// The token endpoint's answer to a refused sign-in. Too many failures answer as the sign-in
/// page does, 429 with `Retry-After` (here as `slow_down`, the token endpoint's code for it).
fn refused(e: SignInError) -> EndpointError {
    match e {
        SignInError::Invalid => OAuthError::new(ErrorCode::InvalidGrant, INVALID).into(),
        SignInError::Disabled => {
            OAuthError::new(ErrorCode::InvalidGrant, "the account is disabled").into()
        }
        SignInError::Throttled { retry_after_secs } => OAuthError {
            error_description: Some(format!(
                "too many failed sign-ins for this user or from this address; retry after {retry_after_secs} seconds"
            )),
            ..OAuthError::slow_down(retry_after_secs)
        }
        .into(),
        SignInError::Busy { retry_after_secs } => OAuthError {
            retry_after_secs: Some(retry_after_secs),
            ..OAuthError::temporarily_unavailable()
        }
        .into(),
        SignInError::Store(e) => e.into(),
    }
}

/// Checks the credentials and issues the access token, a refresh token when the client may
/// refresh, and an ID token when `openid` is granted.
pub async fn grant(
    cx: &GrantContext<'_>,
    sign_in: &SignIn,
    source: Option<IpAddr>,
    client: &Client,
    request: &Request,
) -> Result<TokenResponse, EndpointError> {
    let scope = client.grantable(request.scope.as_ref())?;
    let user = sign_in
        .sign_in(&request.username, &request.password, source, cx.now)
        .await
        .map_err(refused)?;
    audit::record(
        cx.audit,
        &Actor::Client(client.id.to_string()),
        Event::SignInSucceeded {
            user_id: user.id.clone(),
            sid: None,
        },
        cx.now,
    )
    .await;
    let amr = ["pwd".to_owned()];
    let granted = scope.to_param();
    let for_user = ForUser {
        user_id: &user.id,
        scope: &scope,
        session_id: None,
        auth_time: cx.now,
        acr: None,
        amr: &amr,
        nonce: None,
        id_token: user_tokens::is_openid(&granted),
    };
    let family_id = uuid::Uuid::new_v4().to_string();
    // No browser session: the family is bound to none.
    user_tokens::start_family(cx, client, &family_id, &for_user, None, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_in_debug() {
        let params =
            Params::from_query_and_body("", b"grant_type=password&username=alice&password=s3cret")
                .unwrap();
        let r = Request::parse(&params).unwrap();
        assert!(!format!("{r:?}").contains("s3cret"));
    }

    /// Unknown user and wrong password read the same (RFC 6749 §5.2 invalid_grant); a
    /// lockout says when to come back.
    #[test]
    fn refusals_on_the_wire() {
        let wire = |e: SignInError| refused(e).to_oauth();
        assert_eq!(
            wire(SignInError::Invalid),
            OAuthError::new(ErrorCode::InvalidGrant, INVALID)
        );
        assert_eq!(wire(SignInError::Disabled).error, ErrorCode::InvalidGrant);
        let locked = wire(SignInError::Throttled {
            retry_after_secs: 30,
        });
        assert_eq!(
            (locked.error, locked.retry_after_secs),
            (ErrorCode::SlowDown, Some(30))
        );
    }
}
