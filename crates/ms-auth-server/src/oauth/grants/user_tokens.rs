//! The tokens a user's grant issues — by a code's exchange, a refresh, the password grant or
//! an implicit flow: an access token for the user (recorded with its family, so a replay or a
//! revocation can deny it), a family's first refresh token, and an ID token when `openid` was
//! granted.

use std::time::Duration;

use super::{
    super::{
        client::{Client, GrantType},
        error::EndpointError,
        random,
        scope::ScopeSet,
        token_response::TokenResponse,
    },
    GrantContext,
};
use crate::{
    audit::{self, Actor, Event},
    clock::UnixTime,
    oidc::id_token::IdTokenFacts,
    store::{IssuedAccess, RefreshGrant, credential_hash},
};

/// Who and what the tokens are for.
#[derive(Debug, Clone, Copy)]
pub struct ForUser<'a> {
    pub user_id: &'a str,
    /// What the access token carries (narrowed on a refresh).
    pub scope: &'a ScopeSet,
    pub session_id: Option<&'a str>,
    pub auth_time: UnixTime,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    /// Only on the code exchange (OIDC Core §12.2: a refreshed ID token SHOULD NOT carry it).
    pub nonce: Option<&'a str>,
    /// Whether an ID token goes with the access token: `openid` in the family's whole grant
    /// (and, from the authorization endpoint, a response type that returns one).
    pub id_token: bool,
}

/// Whether `granted` (space-separated) holds `openid`.
pub fn is_openid(granted: &str) -> bool {
    granted.split(' ').any(|s| s == "openid")
}

/// The signed tokens, not yet recorded.
pub struct Signed {
    pub response: TokenResponse,
    pub access: IssuedAccess,
}

/// Starts family `family_id` for `g`: signs the access token (and the ID token), with the
/// first refresh token when `client` may refresh, and stores the two together once signed.
/// The refresh token lives the idle lifetime, its family the absolute one — or less, when
/// bound to `session_bound`, to the end of that session (`session_end`).
pub async fn start_family(
    cx: &GrantContext<'_>,
    client: &Client,
    family_id: &str,
    g: &ForUser<'_>,
    session_bound: Option<&str>,
    session_end: Option<UnixTime>,
) -> Result<TokenResponse, EndpointError> {
    let first = if client.may_use_grant(GrantType::RefreshToken) {
        let token = random::token()?;
        let absolute = cx
            .now
            .plus(Duration::from_secs(cx.tokens.refresh_token_absolute_secs));
        let family_expires_at = match (session_bound, session_end) {
            (Some(_), Some(session_end)) => absolute.min(session_end),
            _ => absolute,
        };
        let grant = RefreshGrant {
            family_id: family_id.to_owned(),
            client_id: client.id.to_string(),
            subject: g.user_id.to_owned(),
            scope: g.scope.to_param(),
            user_id: Some(g.user_id.to_owned()),
            session_id: session_bound.map(str::to_owned),
            acr: g.acr.map(str::to_owned),
            amr: g.amr.to_vec(),
            auth_time: g.auth_time,
            issued_at: cx.now,
            expires_at: cx
                .now
                .plus(Duration::from_secs(cx.tokens.refresh_token_idle_secs))
                .min(family_expires_at),
            family_expires_at,
        };
        Some((credential_hash(&token), grant, token))
    } else {
        None
    };
    let signed = sign(cx, client, g, first.as_ref().map(|(_, _, t)| t.clone()))?;
    cx.refresh
        .start_family(
            family_id,
            first
                .as_ref()
                .map(|(hash, grant, _)| (hash.as_str(), grant)),
            &signed.access,
        )
        .await?;
    Ok(signed.response)
}

/// Signs the access token and, for `openid`, the ID token.
pub fn sign(
    cx: &GrantContext<'_>,
    client: &Client,
    g: &ForUser<'_>,
    refresh_token: Option<String>,
) -> Result<Signed, EndpointError> {
    let access = cx.issuer.access_token(client, g.user_id, g.scope, cx.now)?;
    let id_token = if g.id_token {
        Some(cx.issuer.id_token(
            &IdTokenFacts {
                subject: g.user_id,
                client_id: client.id.as_str(),
                nonce: g.nonce,
                auth_time: g.auth_time,
                acr: g.acr,
                amr: g.amr,
                sid: g.session_id,
                access_token: Some(&access.token),
                // OIDC Core §5.4: with an access token issued, claims come from userinfo.
                claims: serde_json::Map::new(),
                ttl_secs: cx.tokens.id_token_ttl_secs,
            },
            cx.now,
        )?)
    } else {
        None
    };
    Ok(Signed {
        access: IssuedAccess {
            jti: access.jti,
            expires_at: access.expires_at,
        },
        response: TokenResponse {
            access_token: access.token,
            scope: g.scope.to_param(),
            token_type: "Bearer".to_owned(),
            expires_in: access.expires_in,
            refresh_token,
            id_token,
        },
    })
}

/// After the store revoked a family (a replayed code, a reused refresh token): denies its
/// still-live access tokens until their `exp`, so no resource server that introspects accepts
/// them, and audits `event` as the presenting client's.
pub async fn family_revoked(
    cx: &GrantContext<'_>,
    client: &Client,
    access: &[IssuedAccess],
    event: Event,
) -> Result<(), EndpointError> {
    crate::store::refresh::deny_access(cx.hot, access, cx.now).await?;
    audit::record(
        cx.audit,
        &Actor::Client(client.id.to_string()),
        event,
        cx.now,
    )
    .await;
    Ok(())
}
