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

/// Where a registration comes from. The config is authoritative for its own clients (one
/// removed from it is disabled at the next start) and never touches the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientOrigin {
    #[default]
    Config,
    /// Dynamic client registration (RFC 7591).
    Registration,
    /// The admin API or CLI.
    Administration,
}

/// A registered client as the protocol core sees it. Secrets are held hashed only.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub secret: SecretHash,
    pub grant_types: Vec<GrantType>,
    pub auth_methods: Vec<AuthMethod>,
    pub scopes: ScopeSet,
    /// What a request without `scope` is granted; such a request is `invalid_scope` without.
    pub default_scopes: Option<ScopeSet>,
    /// Audiences added to the `aud` of this client's access tokens, beside the resources of
    /// their scopes.
    pub audience: Vec<String>,
    pub access_token_ttl: Duration,
    /// The RFC 9728 identifier of the resource server this client is: it may introspect the
    /// tokens whose `aud` names it (RFC 7662 §4). Other clients introspect only their own.
    pub resource_server: Option<String>,
    pub origin: ClientOrigin,
    /// A disabled client authenticates nowhere.
    pub enabled: bool,
}

impl Client {
    pub fn may_use_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn may_use_method(&self, method: AuthMethod) -> bool {
        self.auth_methods.contains(&method)
    }
}
