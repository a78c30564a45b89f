//! OAuth 2.0 Protected Resource Metadata (RFC 9728 §2), so that a client can find where to get
//! a token from a single 401.

use serde::Serialize;

use crate::settings::VerifierSettings;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProtectedResourceMetadata {
    pub resource: String,
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub bearer_methods_supported: Vec<String>,
}

impl ProtectedResourceMetadata {
    /// The document for the resource configured in `settings`, protected by its issuer.
    pub fn new(settings: &VerifierSettings, resource: &str, scopes: &[&str]) -> Self {
        Self {
            resource: resource.to_owned(),
            authorization_servers: vec![settings.issuer.clone()],
            scopes_supported: scopes.iter().map(|s| (*s).to_owned()).collect(),
            // RFC 6750 §2.1 only: tokens in query strings or bodies are not accepted.
            bearer_methods_supported: vec!["header".to_owned()],
        }
    }
}
