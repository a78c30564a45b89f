//! The client credentials grant (RFC 6749 §4.4): a token for the client itself.

use super::{
    super::{
        client::Client,
        error::{EndpointError, OAuthError},
        params::Params,
        scope::ScopeSet,
        token_response::TokenResponse,
    },
    GrantContext,
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

/// Issues the token: the subject is the client (RFC 9068 §2.2: `sub` is the client id when no
/// resource owner is involved); scope defaults to the client's default scopes.
pub fn grant(
    cx: &GrantContext<'_>,
    client: &Client,
    request: &Request,
) -> Result<TokenResponse, EndpointError> {
    let scope = client.grantable(request.scope.as_ref())?;
    let signed = cx
        .issuer
        .access_token(client, client.id.as_str(), &scope, cx.now)?;
    Ok(TokenResponse {
        access_token: signed.token,
        scope: scope.to_param(),
        token_type: "Bearer".to_owned(),
        expires_in: signed.expires_in,
        refresh_token: None,
        id_token: None,
    })
}
