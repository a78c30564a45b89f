//! The implicit flows' tokens (RFC 6749 §4.2.2, OIDC Core §3.2.2.5): `token`, `id_token` and
//! `id_token token`, issued at the authorization endpoint for the signed-in user. Discouraged
//! (RFC 9700 §2.1.2: the token travels in the URL, is bound to no sender, and its injection
//! cannot be detected), so only a client configured for it may use them.
//!
//! The access token is the code flow's (the same signer, the same claims); never a refresh
//! token (RFC 6749 §4.2.2: "The authorization server MUST NOT issue a refresh token"). The ID
//! token is the one builder's, with `at_hash` when an access token goes with it
//! (OIDC Core §3.2.2.10) and, with `id_token` alone, the user's claims by scope (§5.4).

use super::request::AuthorizationRequest;
use crate::{
    identity::{BrowserSession, User},
    oauth::{
        client::{Client, ResponseType},
        error::EndpointError,
        grants::{
            GrantContext,
            user_tokens::{self, ForUser},
        },
        random,
        scope::ScopeSet,
        token_response::TokenResponse,
    },
    oidc::{claims, id_token::IdTokenFacts},
    store::{CodeGrant, IssuedAccess, credential_hash},
};

/// What an implicit response delivers. Its access token is recorded with a family of its own,
/// known by a spent code row of the session (never handed out): logout, consent revocation
/// and a disabled account find families by their codes, so they deny it too.
#[derive(Debug)]
pub struct ImplicitTokens {
    /// The response's parameters, `state` and `iss` aside: `access_token`, `token_type`,
    /// `expires_in`, `scope` (when it differs from the request's), `id_token`.
    pub params: Vec<(&'static str, String)>,
}

/// Signs the tokens `request.response_type` asks for (an implicit one).
pub async fn tokens(
    cx: &GrantContext<'_>,
    client: &Client,
    request: &AuthorizationRequest,
    session: &BrowserSession,
    user: &User,
) -> Result<ImplicitTokens, EndpointError> {
    let scope = ScopeSet::parse_param(&request.scope).map_err(EndpointError::Rejected)?;
    let for_user = ForUser {
        user_id: &user.id,
        scope: &scope,
        session_id: Some(&session.sid),
        auth_time: session.auth_time,
        acr: session.acr.as_deref(),
        amr: &session.amr,
        nonce: request.nonce.as_deref(),
        id_token: request.response_type.returns_id_token()
            && user_tokens::is_openid(&request.scope),
    };
    if request.response_type.returns_access_token() {
        let signed = user_tokens::sign(cx, client, &for_user, None)?;
        record(cx, client, request, session, &user.id, &signed.access).await?;
        return Ok(ImplicitTokens {
            params: params(&signed.response, request.scope_differs),
        });
    }
    debug_assert_eq!(request.response_type, ResponseType::IdToken);
    // OIDC Core §5.4: "when no Access Token is issued (which is the case for the
    // response_type value id_token), the resulting Claims are returned in the ID Token."
    let id_token = cx.issuer.id_token(
        &IdTokenFacts {
            subject: &user.id,
            client_id: client.id.as_str(),
            nonce: request.nonce.as_deref(),
            auth_time: session.auth_time,
            acr: session.acr.as_deref(),
            amr: &session.amr,
            sid: Some(&session.sid),
            access_token: None,
            claims: claims::released(user, &request.scope),
            ttl_secs: cx.tokens.id_token_ttl_secs,
        },
        cx.now,
    )?;
    Ok(ImplicitTokens {
        params: vec![("id_token", id_token)],
    })
}

/// Records `access` under a new family, started by a code of `session` that is spent at once:
/// three writes, for a discouraged flow; the code flow's exchange pays them anyway.
async fn record(
    cx: &GrantContext<'_>,
    client: &Client,
    request: &AuthorizationRequest,
    session: &BrowserSession,
    user_id: &str,
    access: &IssuedAccess,
) -> Result<(), EndpointError> {
    let family_id = random::token()?;
    let code_hash = credential_hash(&random::token()?);
    let grant = CodeGrant {
        family_id: family_id.clone(),
        client_id: client.id.to_string(),
        subject: user_id.to_owned(),
        scope: request.scope.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_given: true,
        code_challenge: None,
        code_challenge_method: None,
        nonce: request.nonce.clone(),
        user_id: Some(user_id.to_owned()),
        session_id: Some(session.sid.clone()),
        acr: session.acr.clone(),
        amr: session.amr.clone(),
        auth_time: session.auth_time,
        session_expires_at: Some(session.expires_at),
        expires_at: cx.now.plus_secs(1),
    };
    cx.codes.put_code(&code_hash, &grant).await?;
    cx.codes.consume_code(&code_hash, cx.now).await?;
    cx.refresh.record_access(&family_id, access).await?;
    Ok(())
}

/// RFC 6749 §4.2.2's parameters of a token response: `scope` "OPTIONAL, if identical to the
/// scope requested by the client; otherwise, REQUIRED"; never `refresh_token`.
fn params(response: &TokenResponse, scope_differs: bool) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("access_token", response.access_token.clone()),
        ("token_type", response.token_type.clone()),
        ("expires_in", response.expires_in.to_string()),
    ];
    if scope_differs {
        out.push(("scope", response.scope.clone()));
    }
    if let Some(id_token) = &response.id_token {
        out.push(("id_token", id_token.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response() -> TokenResponse {
        TokenResponse {
            access_token: "at".into(),
            scope: "openid profile".into(),
            token_type: "Bearer".into(),
            expires_in: 300,
            refresh_token: Some("never-delivered".into()),
            id_token: Some("idt".into()),
        }
    }

    #[test]
    fn never_a_refresh_token_and_scope_only_when_it_differs() {
        let names =
            |p: Vec<(&'static str, String)>| p.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            names(params(&response(), false)),
            ["access_token", "token_type", "expires_in", "id_token"]
        );
        assert_eq!(
            names(params(&response(), true)),
            [
                "access_token",
                "token_type",
                "expires_in",
                "scope",
                "id_token"
            ]
        );
    }
}
