//! The issuer: the one place that signs the tokens this server issues (access tokens now; ID
//! and logout tokens with OpenID Connect), each kind with its own precomputed `typ` header.

use std::sync::Arc;

use super::{
    access_token::{AccessTokenClaims, Audience, ScopeClaim, ScopeClaimFormat},
    client::Client,
    resources::ScopeRegistry,
    scope::ScopeSet,
};
use crate::{
    clock::UnixTime,
    keys::{KeyError, KeyRing, Typ},
};

/// A signed access token and what the response and the records need to know about it.
#[derive(Debug)]
pub struct SignedAccessToken {
    pub token: String,
    pub jti: String,
    pub expires_at: UnixTime,
    pub expires_in: u64,
}

pub struct Issuer {
    /// The issuer identifier (RFC 8414 §2): `iss` of every token, base of every endpoint URL.
    pub iss: String,
    pub keys: KeyRing,
    pub scope_claim: ScopeClaimFormat,
    /// Every scope this server grants and the resource it belongs to (`aud`).
    pub scopes: Arc<ScopeRegistry>,
}

impl Issuer {
    /// Signs an RFC 9068 access token for `subject`, issued to `client` with `scope`, at `now`.
    pub fn access_token(
        &self,
        client: &Client,
        subject: &str,
        scope: &ScopeSet,
        now: UnixTime,
    ) -> Result<SignedAccessToken, KeyError> {
        let ttl = client.access_token_ttl();
        let expires_at = now.plus(ttl);
        let resources = self.scopes.audience(scope, client.audience());
        let jti = uuid::Uuid::new_v4().to_string();
        let claims = AccessTokenClaims {
            iss: &self.iss,
            sub: subject,
            aud: Audience::of(&resources, &self.iss),
            nbf: now.numeric_date(),
            iat: now.numeric_date(),
            exp: expires_at.numeric_date(),
            scope: ScopeClaim::new(self.scope_claim, scope),
            client_id: client.id.as_str(),
            jti: &jti,
        };
        let token = self
            .keys
            .current()
            .active()
            .sign(Typ::AccessToken, &claims)?;
        Ok(SignedAccessToken {
            token,
            jti,
            expires_at,
            expires_in: ttl.as_secs(),
        })
    }
}
