//! The tokens a user's grant issues — by a code's exchange or a refresh: an access token for
//! the user (recorded with its family, so a replay or a revocation can deny it), and an ID
//! token when `openid` was granted.

use super::{
    super::{client::Client, error::EndpointError, scope::ScopeSet, token_response::TokenResponse},
    GrantContext,
};
use crate::{
    audit::{self, Actor, Event},
    clock::UnixTime,
    oidc::id_token::IdTokenFacts,
    store::IssuedAccess,
};

/// Who and what the tokens are for.
#[derive(Debug, Clone, Copy)]
pub struct ForUser<'a> {
    pub user_id: &'a str,
    /// What the access token carries (narrowed on a refresh).
    pub scope: &'a ScopeSet,
    /// The family's whole grant: `openid` in it means an ID token.
    pub granted: &'a str,
    pub session_id: Option<&'a str>,
    pub auth_time: UnixTime,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    /// Only on the code exchange (OIDC Core §12.2: a refreshed ID token SHOULD NOT carry it).
    pub nonce: Option<&'a str>,
}

/// The signed tokens, not yet recorded.
pub struct Signed {
    pub response: TokenResponse,
    pub access: IssuedAccess,
}

/// Signs the access token and, for `openid`, the ID token.
pub fn sign(
    cx: &GrantContext<'_>,
    client: &Client,
    g: &ForUser<'_>,
    refresh_token: Option<String>,
) -> Result<Signed, EndpointError> {
    let access = cx.issuer.access_token(client, g.user_id, g.scope, cx.now)?;
    let id_token = if g.granted.split(' ').any(|s| s == "openid") {
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
    for a in access {
        cx.hot.deny(&a.jti, a.expires_at, cx.now).await?;
    }
    audit::record(
        cx.audit,
        &Actor::Client(client.id.to_string()),
        event,
        cx.now,
    )
    .await;
    Ok(())
}
