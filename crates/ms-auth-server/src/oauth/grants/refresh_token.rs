//! The refresh token grant (RFC 6749 §6, RFC 9700 §4.14.2): every use rotates the token; the
//! old one presented again within a short grace window (a client that lost the response) gets
//! the very same response once more; any other reuse revokes the family and its access tokens.
//! The scope may be narrowed for the access token, never widened; the new refresh token keeps
//! the family's scope (§6: "the refresh token scope MUST be identical to that of the refresh
//! token included by the client in the request").

use std::time::Duration;

use super::{
    super::{
        client::Client,
        error::{EndpointError, ErrorCode, OAuthError},
        params::Params,
        random,
        scope::ScopeSet,
        token_response::TokenResponse,
    },
    GrantContext,
    user_tokens::{self, ForUser},
};
use crate::{
    audit::Event,
    store::{RefreshGrant, Rotation, Successor, credential_hash},
};

#[derive(Debug)]
pub struct Request {
    pub refresh_token: String,
    pub scope: Option<ScopeSet>,
}

impl Request {
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            refresh_token: params.require("refresh_token")?.to_owned(),
            scope: params.get("scope").map(ScopeSet::parse_param).transpose()?,
        })
    }
}

fn invalid_grant() -> EndpointError {
    OAuthError::new(
        ErrorCode::InvalidGrant,
        "the refresh token is invalid, expired or revoked",
    )
    .into()
}

/// The scope of the new access token: the request's, which must be within the family's.
fn narrowed(family: &str, requested: Option<&ScopeSet>) -> Result<ScopeSet, EndpointError> {
    let granted = ScopeSet::parse_param(family)?;
    match requested {
        None => Ok(granted),
        Some(r) => match r.iter().find(|s| !granted.contains(s)) {
            Some(extra) => Err(OAuthError::invalid_scope(format!(
                "scope {extra} was not granted to this refresh token (a refresh may narrow the scope, never widen it)"
            ))
            .into()),
            None => Ok(ScopeSet::from_scopes(
                granted.iter().filter(|s| r.contains(s)).cloned(),
            )),
        },
    }
}

pub async fn grant(
    cx: &GrantContext<'_>,
    client: &Client,
    request: &Request,
) -> Result<TokenResponse, EndpointError> {
    if request.refresh_token.len() > 128 {
        return Err(invalid_grant());
    }
    let old_hash = credential_hash(&request.refresh_token);
    let current = cx.refresh.refresh(&old_hash, cx.now).await?;
    // Another client's token is refused without touching it.
    if current
        .as_ref()
        .is_some_and(|g| g.client_id != client.id.as_str())
    {
        return Err(invalid_grant());
    }
    // The response is made first and sealed into the rotation, so a retry within the grace
    // window is answered with exactly it.
    let prepared = match &current {
        Some(g) => Some(prepare(cx, client, g, request.scope.as_ref(), &old_hash)?),
        None => None,
    };
    let placeholder;
    let successor = match &prepared {
        Some(p) => Successor {
            hash: &p.hash,
            sealed: &p.sealed,
            expires_at: p.expires_at,
            access: Some(&p.access),
        },
        // Not current: the store can only find it retried, reused or invalid, and stores no
        // successor for those.
        None => {
            placeholder = credential_hash(&random::token()?);
            Successor {
                hash: &placeholder,
                sealed: "",
                expires_at: cx.now,
                access: None,
            }
        }
    };
    let grace_until = cx.now.plus_secs(cx.tokens.refresh_token_grace_secs as i64);
    match cx
        .refresh
        .rotate_refresh(&old_hash, successor, grace_until, cx.now)
        .await?
    {
        Rotation::Rotated(g) => {
            let Some(p) = prepared else {
                tracing::error!(family_id = %g.family_id, "a refresh token rotated that was not current");
                return Err(invalid_grant());
            };
            Ok(p.response)
        }
        Rotation::Retried {
            grant,
            successor_sealed,
        } => {
            if grant.client_id != client.id.as_str() {
                return Err(invalid_grant());
            }
            let opened = cx
                .sealer
                .open(&successor_sealed, old_hash.as_bytes())
                .ok()
                .and_then(|raw| serde_json::from_slice::<TokenResponse>(&raw).ok());
            match opened {
                Some(response) => Ok(response),
                None => {
                    tracing::error!(family_id = %grant.family_id, "a sealed refresh response could not be opened");
                    Err(invalid_grant())
                }
            }
        }
        Rotation::Reused { family_id, access } => {
            tracing::warn!(client_id = %client.id, family_id, "refresh token reused: its family is revoked");
            let event = Event::RefreshReuseDetected {
                client_id: client.id.to_string(),
                family_id,
            };
            user_tokens::family_revoked(cx, client, &access, event).await?;
            Err(invalid_grant())
        }
        Rotation::Invalid => Err(invalid_grant()),
    }
}

/// The rotation's successor and the response it belongs to, signed and sealed.
struct Prepared {
    hash: String,
    sealed: String,
    expires_at: crate::clock::UnixTime,
    access: crate::store::IssuedAccess,
    response: TokenResponse,
}

fn prepare(
    cx: &GrantContext<'_>,
    client: &Client,
    g: &RefreshGrant,
    requested: Option<&ScopeSet>,
    old_hash: &str,
) -> Result<Prepared, EndpointError> {
    let scope = narrowed(&g.scope, requested)?;
    let token = random::token()?;
    let hash = credential_hash(&token);
    let user_id = g.user_id.as_deref().unwrap_or(&g.subject);
    let signed = user_tokens::sign(
        cx,
        client,
        &ForUser {
            user_id,
            scope: &scope,
            session_id: g.session_id.as_deref(),
            auth_time: g.auth_time,
            acr: g.acr.as_deref(),
            amr: &g.amr,
            nonce: None,
            id_token: user_tokens::is_openid(&g.scope),
        },
        Some(token),
    )?;
    let plain = serde_json::to_vec(&signed.response)
        .map_err(|_| EndpointError::Rejected(OAuthError::server_error()))?;
    // Bound to the token it answers: only a retry of that very token opens it.
    let sealed = cx
        .sealer
        .seal(&plain, old_hash.as_bytes())
        .map_err(|_| EndpointError::Rejected(OAuthError::server_error()))?;
    Ok(Prepared {
        expires_at: cx
            .now
            .plus(Duration::from_secs(cx.tokens.refresh_token_idle_secs))
            .min(g.family_expires_at),
        hash,
        sealed,
        access: signed.access,
        response: signed.response,
    })
}
