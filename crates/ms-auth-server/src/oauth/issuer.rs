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
    /// How this server checks its own access tokens (introspection, revocation): the same
    /// rules as every resource server, against its own published keys, no leeway.
    pub own_tokens: auth_middleware::VerifierSettings,
}

impl Issuer {
    /// `token` if it is an access token of this server's, valid at `now` — checked by the same
    /// rules every resource server applies, against the keys this server publishes.
    pub fn verify_own(&self, token: &str, now: UnixTime) -> Option<auth_middleware::Principal> {
        auth_middleware::verify_any_audience(
            &self.own_tokens,
            self.keys.current().verify_keys(),
            token,
            now.numeric_date(),
        )
        .ok()
    }

    /// Signs `claims` as a JWT of kind `typ` with the active key: the one signing path of
    /// every token this server issues.
    pub fn sign(&self, typ: Typ, claims: &impl serde::Serialize) -> Result<String, KeyError> {
        self.keys.current().active().sign(typ, claims)
    }

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
        let token = self.sign(Typ::AccessToken, &claims)?;
        Ok(SignedAccessToken {
            token,
            jti,
            expires_at,
            expires_in: ttl.as_secs(),
        })
    }
}
