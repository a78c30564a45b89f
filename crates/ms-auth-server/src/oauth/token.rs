//! JWT access tokens (RFC 9068) and the token response (RFC 6749 §5.1).

use serde::{Deserialize, Serialize};

use super::{client::Client, keys::KeyError, scope::ScopeSet, server::AuthorizationServer};

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
enum ScopeClaim<'a> {
    Array(&'a ScopeSet),
    String(String),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(&'a str),
    Many(&'a [String]),
}

impl<'a> Audience<'a> {
    /// One value as a string, several as an array (RFC 7519 §4.1.3), the issuer itself when no
    /// granted scope names a resource: RFC 9068 §3 "the authorization server MUST use a
    /// default resource indicator in the aud claim".
    fn of(resources: &'a [String], issuer: &'a str) -> Self {
        match resources {
            [] => Self::One(issuer),
            [one] => Self::One(one),
            many => Self::Many(many),
        }
    }
}

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Audience<'a>,
    nbf: u64,
    iat: u64,
    exp: u64,
    scope: ScopeClaim<'a>,
    client_id: &'a str,
    jti: String,
}

/// The successful token response (RFC 6749 §5.1), fields in the docs' order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub scope: String,
    pub token_type: String,
    pub expires_in: u64,
}

/// Signs an access token for `subject`, issued to `client` with `scope`, at `now` (Unix seconds).
pub fn issue_access_token(
    server: &AuthorizationServer,
    client: &Client,
    subject: &str,
    scope: &ScopeSet,
    now: u64,
) -> Result<TokenResponse, KeyError> {
    let ttl = client.access_token_ttl.as_secs();
    let resources = server.scopes.audience(scope, &client.audience);
    let claims = AccessTokenClaims {
        iss: &server.issuer,
        sub: subject,
        aud: Audience::of(&resources, &server.issuer),
        nbf: now,
        iat: now,
        exp: now + ttl,
        scope: match server.scope_claim {
            ScopeClaimFormat::Array => ScopeClaim::Array(scope),
            ScopeClaimFormat::String => ScopeClaim::String(scope.to_param()),
        },
        client_id: client.id.as_str(),
        jti: uuid::Uuid::new_v4().to_string(),
    };
    let access_token = server.keys.current().active().sign_access_token(&claims)?;
    Ok(TokenResponse {
        access_token,
        scope: scope.to_param(),
        token_type: "Bearer".to_owned(),
        expires_in: ttl,
    })
}
