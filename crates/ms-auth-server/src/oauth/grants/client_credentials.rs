//! The client credentials grant (RFC 6749 §4.4): a token for the client itself.

use super::super::{
    client::Client,
    error::OAuthError,
    keys::KeyError,
    params::Params,
    scope::ScopeSet,
    server::AuthorizationServer,
    token::{TokenResponse, issue_access_token},
};

/// `grant_type=client_credentials` and its one optional parameter, `scope` (RFC 6749 §4.4.2).
#[derive(Debug)]
pub struct Request {
    pub scope: Option<ScopeSet>,
}

impl Request {
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            scope: params.get("scope").map(ScopeSet::parse_param).transpose()?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error(transparent)]
    Rejected(#[from] OAuthError),
    #[error(transparent)]
    Signing(#[from] KeyError),
}

/// Issues the token: the subject is the client (RFC 9068 §2.2: `sub` is the client id when no
/// resource owner is involved); scope defaults to the client's default scopes.
pub fn grant(
    server: &AuthorizationServer,
    client: &Client,
    request: &Request,
    now: u64,
) -> Result<TokenResponse, GrantError> {
    let scope = ScopeSet::grant(
        &client.scopes,
        client.default_scopes.as_ref(),
        request.scope.as_ref(),
    )?;
    Ok(issue_access_token(
        server,
        client,
        client.id.as_str(),
        &scope,
        now,
    )?)
}
