//! Client metadata (RFC 7591 §2), in the RFC's words where it has them: what a client
//! registered, whoever registered it (the config's `[[clients]]`, later dynamic registration
//! and the admin API), and what the store keeps in its metadata column.
//!
//! Every field has a default, so a field added later never makes a stored row unreadable,
//! and unknown fields are ignored here (a replica reads rows a newer one wrote); the config
//! refuses unknown keys itself.

use serde::{Deserialize, Serialize};

use super::{AuthMethod, GrantType, RedirectUri, ResponseType};
use crate::oauth::scope::ScopeSet;

/// 15 minutes: a leaked access token is useful briefly (RFC 9700 §2.2.2, §4.14).
pub const DEFAULT_ACCESS_TOKEN_TTL_SECS: u64 = 900;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientMetadata {
    /// Where the authorization endpoint may send the user back (RFC 6749 §3.1.2).
    pub redirect_uris: Vec<RedirectUri>,
    /// RFC 7591 defaults an absent list to `authorization_code`; the config has always
    /// required it instead (a resource server's client may have none: it only introspects).
    pub grant_types: Vec<GrantType>,
    pub response_types: Vec<ResponseType>,
    /// The methods it may authenticate with at the token endpoint. RFC 7591 registers one
    /// (`token_endpoint_auth_method`); the config has always listed several.
    pub token_endpoint_auth_methods: Vec<AuthMethod>,
    /// The JWS `alg` its authentication JWTs must use (`client_secret_jwt`, `private_key_jwt`).
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// Its JWK set by value (RFC 7591 §2: not together with `jwks_uri`).
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    /// Shown to the user on the consent page.
    pub client_name: Option<String>,
    /// Every scope it may be granted. The config's key is `scopes`.
    #[serde(alias = "scopes")]
    pub scope: ScopeSet,
    /// What a request without `scope` is granted (a subset of `scope`); without it such a
    /// request is `invalid_scope` (RFC 6749 §3.3). Stored as `default_scope`, the name rows
    /// have always had (older replicas read it); the config's key is `default_scopes`.
    #[serde(rename = "default_scope", alias = "default_scopes")]
    pub default_scopes: Option<ScopeSet>,
    /// Audiences added to the resources of the granted scopes in `aud`.
    pub audience: Vec<String>,
    pub access_token_ttl_secs: u64,
    /// This client is the resource server with this RFC 9728 identifier: it may introspect
    /// the tokens meant for it (RFC 7662 §4).
    pub resource_server: Option<String>,
    /// The consent policy: a first-party client is not asked for the user's consent.
    pub first_party: bool,
    /// Who may manage this registration besides administrators (a user id).
    pub owner: Option<String>,
    /// Where RP-initiated logout may send the user afterwards (OpenID Connect RP-Initiated
    /// Logout §3).
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Where logout tokens are posted (OpenID Connect Back-Channel Logout §2.2).
    pub backchannel_logout_uri: Option<String>,
    /// PKCE at the authorization endpoint (RFC 7636). Required of every client by default
    /// (RFC 9700 §2.1.1); a legacy confidential client may opt out. Public clients never may.
    pub require_pkce: bool,
    /// Accept `code_challenge_method=plain` from this client (refused otherwise).
    pub allow_plain_pkce: bool,
    /// Who to contact about this client, usually e-mail addresses (RFC 7591 §2).
    pub contacts: Vec<String>,
    /// Web pages about the client (RFC 7591 §2): its home page, its logo, its terms of
    /// service, its privacy policy.
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    /// The software it is an instance of, and its version (RFC 7591 §2).
    pub software_id: Option<String>,
    pub software_version: Option<String>,
}

impl Default for ClientMetadata {
    fn default() -> Self {
        Self {
            redirect_uris: Vec::new(),
            grant_types: Vec::new(),
            response_types: Vec::new(),
            token_endpoint_auth_methods: Vec::new(),
            token_endpoint_auth_signing_alg: None,
            jwks: None,
            jwks_uri: None,
            client_name: None,
            scope: ScopeSet::default(),
            default_scopes: None,
            audience: Vec::new(),
            access_token_ttl_secs: DEFAULT_ACCESS_TOKEN_TTL_SECS,
            resource_server: None,
            first_party: false,
            owner: None,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            require_pkce: true,
            allow_plain_pkce: false,
            contacts: Vec::new(),
            client_uri: None,
            logo_uri: None,
            tos_uri: None,
            policy_uri: None,
            software_id: None,
            software_version: None,
        }
    }
}

/// Builders, for code and tests that register clients.
impl ClientMetadata {
    /// Nothing registered yet; tokens live [`DEFAULT_ACCESS_TOKEN_TTL_SECS`].
    pub fn new() -> Self {
        Self::default()
    }

    pub fn grant(mut self, grant: GrantType) -> Self {
        self.grant_types.push(grant);
        self
    }

    pub fn method(mut self, method: AuthMethod) -> Self {
        self.token_endpoint_auth_methods.push(method);
        self
    }

    pub fn methods(mut self, methods: impl IntoIterator<Item = AuthMethod>) -> Self {
        self.token_endpoint_auth_methods.extend(methods);
        self
    }

    pub fn response_type(mut self, response_type: ResponseType) -> Self {
        self.response_types.push(response_type);
        self
    }

    pub fn redirect_uri(mut self, uri: RedirectUri) -> Self {
        self.redirect_uris.push(uri);
        self
    }

    pub fn post_logout_redirect_uri(mut self, uri: RedirectUri) -> Self {
        self.post_logout_redirect_uris.push(uri);
        self
    }

    pub fn scope(mut self, scope: ScopeSet) -> Self {
        self.scope = scope;
        self
    }

    pub fn default_scopes(mut self, scope: ScopeSet) -> Self {
        self.default_scopes = Some(scope);
        self
    }

    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience.push(audience.into());
        self
    }

    pub fn access_token_ttl_secs(mut self, secs: u64) -> Self {
        self.access_token_ttl_secs = secs;
        self
    }

    pub fn resource_server(mut self, resource: impl Into<String>) -> Self {
        self.resource_server = Some(resource.into());
        self
    }

    pub fn first_party(mut self) -> Self {
        self.first_party = true;
        self
    }

    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = Some(name.into());
        self
    }

    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }
}
