//! JWT access tokens (RFC 9068) and the token response (RFC 6749 §5.1).

use serde::{Deserialize, Serialize};

use super::scope::ScopeSet;

/// How the `scope` claim is written: a JSON array (as the playground docs' tokens carry it) or
/// the RFC 9068 §2.2.3 space-delimited string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeClaimFormat {
    #[default]
    Array,
    String,
}

#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum ScopeClaim<'a> {
    Array(&'a ScopeSet),
    String(String),
}

#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Audience<'a> {
    One(&'a str),
    Many(&'a [String]),
}

impl<'a> Audience<'a> {
    /// One value as a string, several as an array (RFC 7519 §4.1.3), the issuer itself when no
    /// granted scope names a resource: RFC 9068 §3 "the authorization server MUST use a
    /// default resource indicator in the aud claim".
    pub(super) fn of(resources: &'a [String], issuer: &'a str) -> Self {
        match resources {
            [] => Self::One(issuer),
            [one] => Self::One(one),
            many => Self::Many(many),
        }
    }
}

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Serialize)]
pub(super) struct AccessTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: Audience<'a>,
    pub nbf: u64,
    pub iat: u64,
    pub exp: u64,
    pub scope: ScopeClaim<'a>,
    pub client_id: &'a str,
    pub jti: &'a str,
}

impl<'a> ScopeClaim<'a> {
    pub(super) fn new(format: ScopeClaimFormat, scope: &'a ScopeSet) -> Self {
        match format {
            ScopeClaimFormat::Array => Self::Array(scope),
            ScopeClaimFormat::String => Self::String(scope.to_param()),
        }
    }
}
