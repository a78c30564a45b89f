//! Registered clients (RFC 6749 §2): identifiers, grant types, authentication methods.

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};

use super::{scope::ScopeSet, secret::SecretHash};

/// A client identifier (RFC 6749 §2.2). Public, but never to be confused with other strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Grant types a client may be registered for (RFC 6749 §4, names as in RFC 7591 §2).
///
/// Registrable is not implemented: the token endpoint handles the grants of
/// [`crate::oauth::grants::TokenRequest`] and answers `unsupported_grant_type` for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
        }
    }
}

/// Token endpoint client authentication methods (RFC 7591 §2 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// RFC 6749 §2.3.1, HTTP Basic.
    ClientSecretBasic,
    /// RFC 6749 §2.3.1, `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

impl AuthMethod {
    pub const ALL: &[AuthMethod] = &[AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

/// A registered client as the protocol core sees it. Secrets are held hashed only.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub secret: SecretHash,
    pub grant_types: Vec<GrantType>,
    pub auth_methods: Vec<AuthMethod>,
    pub scopes: ScopeSet,
    /// `aud` of the access tokens issued to this client; the client id when empty, as the docs show.
    pub audience: Vec<String>,
    pub access_token_ttl: Duration,
}

impl Client {
    pub fn may_use_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn may_use_method(&self, method: AuthMethod) -> bool {
        self.auth_methods.contains(&method)
    }
}
