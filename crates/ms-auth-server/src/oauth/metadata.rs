//! Authorization server metadata (RFC 8414 §2), listing only what is implemented.

use serde::Serialize;

use super::{client::AuthMethod, grants::TokenRequest, scope::Scope, server::AuthorizationServer};
use crate::store::StoreError;

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

impl AuthorizationServer {
    pub async fn metadata(&self) -> Result<Metadata, StoreError> {
        let mut scopes: Vec<Scope> = Vec::new();
        for client in self.clients.all().await? {
            for s in client.scopes.iter() {
                if !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
        }
        scopes.sort();
        let methods = || AuthMethod::ALL.iter().map(|m| m.as_str()).collect();
        Ok(Metadata {
            token_endpoint: format!("{}/oauth2/token", self.issuer),
            jwks_uri: format!("{}/oauth2/jwks", self.issuer),
            issuer: self.issuer.clone(),
            scopes_supported: scopes,
            response_types_supported: Vec::new(),
            grant_types_supported: TokenRequest::IMPLEMENTED
                .iter()
                .map(|g| g.as_str())
                .collect(),
            token_endpoint_auth_methods_supported: methods(),
            introspection_endpoint: format!("{}/oauth2/introspect", self.issuer),
            introspection_endpoint_auth_methods_supported: methods(),
            revocation_endpoint: format!("{}/oauth2/revoke", self.issuer),
            revocation_endpoint_auth_methods_supported: methods(),
        })
    }
}
