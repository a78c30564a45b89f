//! The authorization code grant at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5): the
//! code is consumed once and must be presented by the client it was issued to, with the same
//! redirect URI and the PKCE verifier answering its challenge.

use super::{
    super::{
        client::Client,
        error::{EndpointError, ErrorCode, OAuthError},
        params::Params,
        pkce,
        scope::ScopeSet,
        token_response::TokenResponse,
    },
    GrantContext,
    user_tokens::{self, ForUser},
};
use crate::{
    audit::Event,
    store::{CodeUse, credential_hash},
};

#[derive(Debug)]
pub struct Request {
    pub code: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

impl Request {
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            code: params.require("code")?.to_owned(),
            redirect_uri: params.get("redirect_uri").map(str::to_owned),
            code_verifier: params.get("code_verifier").map(str::to_owned),
        })
    }
}

fn invalid_grant(why: &str) -> EndpointError {
    OAuthError::new(ErrorCode::InvalidGrant, why).into()
}

pub async fn grant(
    cx: &GrantContext<'_>,
    client: &Client,
    request: &Request,
) -> Result<TokenResponse, EndpointError> {
    if request.code.len() > 128 {
        return Err(invalid_grant(
            "the code is invalid, expired or already used",
        ));
    }
    let g = match cx
        .codes
        .consume_code(&credential_hash(&request.code), cx.now)
        .await?
    {
        CodeUse::Fresh(g) => g,
        CodeUse::Invalid => {
            return Err(invalid_grant(
                "the code is invalid, expired or already used",
            ));
        }
        // RFC 6749 §4.1.2: "If an authorization code is used more than once, the
        // authorization server MUST deny the request and SHOULD revoke (when possible) all
        // tokens previously issued based on that authorization code." The store revoked the
        // refresh family; its access tokens are denied here.
        CodeUse::Replayed { family_id, access } => {
            tracing::warn!(client_id = %client.id, family_id, "authorization code replayed: its tokens are revoked");
            let event = Event::CodeReplayed {
                client_id: client.id.to_string(),
                family_id,
            };
            user_tokens::family_revoked(cx, client, &access, event).await?;
            return Err(invalid_grant(
                "the code is invalid, expired or already used",
            ));
        }
    };
    if g.client_id != client.id.as_str() {
        return Err(invalid_grant("the code was issued to another client"));
    }
    match (&request.redirect_uri, g.redirect_uri_given) {
        (Some(r), _) if *r != g.redirect_uri => {
            return Err(invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        (None, true) => {
            return Err(OAuthError::invalid_request(
                "redirect_uri is required: the authorization request named one (RFC 6749 §4.1.3)",
            )
            .into());
        }
        _ => {}
    }
    match (&g.code_challenge, &request.code_verifier) {
        (Some(challenge), Some(verifier)) => {
            let method = g
                .code_challenge_method
                .as_deref()
                .and_then(pkce::ChallengeMethod::parse)
                .unwrap_or(pkce::ChallengeMethod::Plain);
            if !pkce::verify(challenge, method, verifier) {
                return Err(invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => {
            return Err(invalid_grant(
                "code_verifier is required: the authorization request sent a code_challenge",
            ));
        }
        // RFC 9700 §2.1.1: "Authorization servers MUST ... ensure that if there is no
        // code_challenge in the authorization request, a request to the token endpoint
        // containing a code_verifier is rejected" (a PKCE downgrade).
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier given, but the authorization request sent no code_challenge",
            ));
        }
        (None, None) => {}
    }
    let user_id = g.user_id.clone().unwrap_or_else(|| g.subject.clone());
    let scope = ScopeSet::parse_param(&g.scope).map_err(EndpointError::Rejected)?;
    // offline_access (OIDC Core §11): the family outlives the session.
    let offline = scope.iter().any(|s| s.as_str() == "offline_access");
    let session_bound = if offline {
        None
    } else {
        g.session_id.as_deref()
    };
    let for_user = ForUser {
        user_id: &user_id,
        scope: &scope,
        session_id: g.session_id.as_deref(),
        auth_time: g.auth_time,
        acr: g.acr.as_deref(),
        amr: &g.amr,
        nonce: g.nonce.as_deref(),
        id_token: user_tokens::is_openid(&g.scope),
    };
    // The family's first refresh token and its access token, stored together once signed.
    user_tokens::start_family(
        cx,
        client,
        &g.family_id,
        &for_user,
        session_bound,
        g.session_expires_at,
    )
    .await
}
