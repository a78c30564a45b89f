//! Authorization server metadata (RFC 8414 §2), listing only what is implemented.

use serde::Serialize;

use super::{
    client::{AuthMethod, ResponseType},
    client_auth,
    endpoints::{self, Endpoints},
    grants,
    resources::ScopeRegistry,
    scope::Scope,
};

#[derive(Debug, Serialize)]
pub struct Metadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub scopes_supported: Vec<Scope>,
    /// REQUIRED by RFC 8414 even without an authorization endpoint; empty until one exists.
    pub response_types_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 7662 and RFC 7009, authenticated as at the token endpoint (RFC 8414 §2).
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
}

impl Metadata {
    /// The document for `issuer` granting the scopes of `registry`. It reads no store: the
    /// metadata endpoint is public, and costs nothing per request.
    pub fn new(issuer: &str, registry: &ScopeRegistry) -> Self {
        let methods = || {
            AuthMethod::ALL
                .iter()
                .filter(|m| client_auth::implements(**m))
                .map(|m| m.as_str())
                .collect()
        };
        let at = Endpoints::new(issuer);
        Self {
            token_endpoint: at.url(endpoints::TOKEN),
            jwks_uri: at.url(endpoints::JWKS),
            issuer: issuer.to_owned(),
            scopes_supported: registry.names(),
            response_types_supported: ResponseType::ALL
                .iter()
                .filter(|r| authorization_endpoint_implements(**r))
                .map(|r| r.as_str())
                .collect(),
            grant_types_supported: grants::implemented().map(|g| g.as_str()).collect(),
            token_endpoint_auth_methods_supported: methods(),
            introspection_endpoint: at.url(endpoints::INTROSPECT),
            introspection_endpoint_auth_methods_supported: methods(),
            revocation_endpoint: at.url(endpoints::REVOKE),
            revocation_endpoint_auth_methods_supported: methods(),
        }
    }
}

/// Whether the authorization endpoint answers `response_type`: none yet, as there is no
/// authorization endpoint. Exhaustive, so that a new response type is decided here (and moves
/// beside the endpoint when it comes).
const fn authorization_endpoint_implements(response_type: ResponseType) -> bool {
    match response_type {
        ResponseType::Code | ResponseType::Token => false,
    }
}
