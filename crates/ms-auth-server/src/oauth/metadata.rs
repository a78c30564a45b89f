//! Authorization server metadata (RFC 8414 §2) and OpenID Provider metadata (OpenID Connect
//! Discovery 1.0 §3): one document, served at both well-known paths, listing exactly what is
//! implemented — every advertised value works, and nothing that works is missing.

use serde::Serialize;

use super::{
    authorize::ResponseMode,
    client::{AuthMethod, GrantType, ResponseType},
    client_assertion, client_auth,
    endpoints::{self, Endpoints},
    grants,
    resources::ScopeRegistry,
    scope::Scope,
};
use crate::{keys::SigningAlgorithm, oidc::claims};

#[derive(Debug, Serialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// RFC 8414 §2 (RFC 7591 §3): only while dynamic registration is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    pub userinfo_endpoint: String,
    pub scopes_supported: Vec<Scope>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The JWS algorithms of `client_secret_jwt` and `private_key_jwt` assertions (RFC 8414
    /// §2), at the token, introspection and revocation endpoints alike.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 7636 §6.2: `S256`, and `plain` only while some client is configured for it.
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// RFC 7662 and RFC 7009, authenticated as at the token endpoint (RFC 8414 §2).
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 9207 §3: `iss` is in every authorization response.
    pub authorization_response_iss_parameter_supported: bool,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub claims_supported: &'static [&'static str],
    pub prompt_values_supported: Vec<&'static str>,
    /// Discovery §3 defaults `request_uri_parameter_supported` to true: said explicitly.
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    /// OpenID Connect RP-Initiated Logout 1.0 §2.1.
    pub end_session_endpoint: String,
    /// OpenID Connect Back-Channel Logout 1.0 §2.1: logout tokens are posted to clients that
    /// registered a `backchannel_logout_uri`, and always carry `sid`.
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
}

/// What the document depends on besides the issuer and the scopes.
#[derive(Debug, Clone, Copy)]
pub struct Advertised {
    /// The algorithm ID tokens are signed with (the configured signing algorithm).
    pub id_token_alg: SigningAlgorithm,
    /// Some registered client may use `code_challenge_method=plain`.
    pub plain_pkce: bool,
    /// Some registered client may use the implicit flows (discouraged: off unless configured).
    pub implicit: bool,
    /// Some registered client may use the password grant (discouraged: off unless configured).
    pub password: bool,
    /// Dynamic client registration is on (`[registration] policy` other than `off`).
    pub registration: bool,
}

impl Metadata {
    /// The document for `issuer` granting the scopes of `registry`. It reads no store: the
    /// metadata endpoint is public, and costs nothing per request.
    pub fn new(issuer: &str, registry: &ScopeRegistry, advertised: Advertised) -> Self {
        let methods = || {
            AuthMethod::ALL
                .iter()
                .filter(|m| client_auth::implements(**m))
                .map(|m| m.as_str())
                .collect()
        };
        // Introspection and revocation authenticate confidential clients: `none` proves nothing.
        let confidential_methods = || {
            AuthMethod::ALL
                .iter()
                .filter(|m| client_auth::implements(**m) && **m != AuthMethod::None)
                .map(|m| m.as_str())
                .collect()
        };
        let signing_algs = || {
            AuthMethod::ALL
                .iter()
                .filter(|m| client_auth::implements(**m))
                .flat_map(|m| client_assertion::algorithms_of(*m))
                .map(|a| client_assertion::algorithm_name(*a))
                .collect()
        };
        let at = Endpoints::new(issuer);
        let mut pkce = vec!["S256"];
        if advertised.plain_pkce {
            pkce.push("plain");
        }
        Self {
            authorization_endpoint: at.url(endpoints::AUTHORIZE),
            token_endpoint: at.url(endpoints::TOKEN),
            jwks_uri: at.url(endpoints::JWKS),
            registration_endpoint: advertised.registration.then(|| at.url(endpoints::REGISTER)),
            userinfo_endpoint: at.url(endpoints::USERINFO),
            issuer: issuer.to_owned(),
            scopes_supported: registry.names(),
            response_types_supported: ResponseType::ALL
                .iter()
                .filter(|r| authorization_endpoint_implements(**r, advertised.implicit))
                .map(|r| r.as_str())
                .collect(),
            response_modes_supported: ResponseMode::ALL.iter().map(|m| m.as_str()).collect(),
            grant_types_supported: GrantType::ALL
                .iter()
                // RFC 8414 §2 lists `implicit` here though the token endpoint never sees it.
                .filter(|g| match g {
                    GrantType::Implicit => advertised.implicit,
                    GrantType::Password => advertised.password && grants::implements(**g),
                    GrantType::AuthorizationCode
                    | GrantType::ClientCredentials
                    | GrantType::RefreshToken => grants::implements(**g),
                })
                .map(|g| g.as_str())
                .collect(),
            token_endpoint_auth_methods_supported: methods(),
            token_endpoint_auth_signing_alg_values_supported: signing_algs(),
            code_challenge_methods_supported: pkce,
            introspection_endpoint: at.url(endpoints::INTROSPECT),
            introspection_endpoint_auth_methods_supported: confidential_methods(),
            introspection_endpoint_auth_signing_alg_values_supported: signing_algs(),
            revocation_endpoint: at.url(endpoints::REVOKE),
            revocation_endpoint_auth_methods_supported: confidential_methods(),
            revocation_endpoint_auth_signing_alg_values_supported: signing_algs(),
            authorization_response_iss_parameter_supported: true,
            subject_types_supported: vec!["public"],
            id_token_signing_alg_values_supported: vec![advertised.id_token_alg.as_str()],
            claims_supported: claims::SUPPORTED,
            prompt_values_supported: vec!["none", "login", "consent", "select_account"],
            claims_parameter_supported: false,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            end_session_endpoint: at.url(endpoints::LOGOUT),
            backchannel_logout_supported: true,
            backchannel_logout_session_supported: true,
        }
    }
}

/// Whether the authorization endpoint answers `response_type`; the implicit ones only while
/// some client may use them. Exhaustive, so that a new response type is decided here.
const fn authorization_endpoint_implements(response_type: ResponseType, implicit: bool) -> bool {
    match response_type {
        ResponseType::Code => true,
        ResponseType::Token | ResponseType::IdToken | ResponseType::IdTokenToken => implicit,
    }
}
