//! What a registration must satisfy, whoever registers it: the config, dynamic registration
//! (RFC 7591 §2, §3.2.2) and later the admin API, under one policy.

use super::{AuthMethod, ClientMetadata, GrantType, RedirectUri, ResponseType};
use crate::oauth::{client_assertion, client_auth, resources::ScopeRegistry, scope::ScopeSet, uri};

/// The most keys a registered JWK set may hold (rotation needs two or three).
const MAX_JWKS_KEYS: usize = 16;

/// The rules a registration is checked against.
#[derive(Debug, Clone, Copy)]
pub struct RegistrationPolicy<'a> {
    /// The local playground: plain http beyond loopback is accepted.
    pub playground: bool,
    /// The longest access-token lifetime a client may have.
    pub max_access_token_ttl_secs: u64,
    /// Every scope a client may register.
    pub scopes: &'a ScopeRegistry,
    /// What a dynamic registration (RFC 7591) is further held to; none for the config.
    pub dynamic: Option<DynamicLimits<'a>>,
}

/// The bounds of dynamic registration (`[registration]`).
#[derive(Debug, Clone, Copy)]
pub struct DynamicLimits<'a> {
    /// `[registration] scopes`: the scopes anyone registering may ask for.
    pub scopes: &'a ScopeSet,
    /// The grant types the server advertises (the legacy ones only where configured).
    pub grant_types: &'a [GrantType],
}

/// A metadata value refused, by its field's name (the config's key where it differs from
/// RFC 7591's: `scopes`, `default_scopes`, `token_endpoint_auth_methods`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{field}`: {message}")]
pub struct MetadataError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> Result<(), MetadataError> {
    Err(MetadataError {
        field,
        message: message.into(),
    })
}

impl ClientMetadata {
    /// Checks what types alone cannot; the first problem found is the answer.
    pub fn validate(&self, policy: &RegistrationPolicy<'_>) -> Result<(), MetadataError> {
        // A resource server's client may exist only to introspect.
        let introspects_only = self.resource_server.is_some();
        if self.grant_types.is_empty() && !introspects_only {
            return refuse("grant_types", "must list at least one grant type");
        }
        if self.token_endpoint_auth_methods.is_empty() {
            return refuse(
                "token_endpoint_auth_methods",
                "must list at least one method",
            );
        }
        if let Some(m) = self
            .token_endpoint_auth_methods
            .iter()
            .find(|m| !client_auth::implements(**m))
        {
            let supported: Vec<_> = AuthMethod::ALL
                .iter()
                .filter(|m| client_auth::implements(**m))
                .map(|m| m.as_str())
                .collect();
            return refuse(
                "token_endpoint_auth_methods",
                format!(
                    "{} is not implemented (supported: {})",
                    m.as_str(),
                    supported.join(", ")
                ),
            );
        }
        if let Some(limits) = &policy.dynamic {
            self.validate_dynamic(limits, policy.playground)?;
        }
        self.validate_public()?;
        if self.grant_types.contains(&GrantType::AuthorizationCode) && self.redirect_uris.is_empty()
        {
            return refuse(
                "redirect_uris",
                "a client of the authorization code flow must register at least one",
            );
        }
        if self.grant_types.contains(&GrantType::RefreshToken)
            && !self.grant_types.contains(&GrantType::AuthorizationCode)
            && !self.grant_types.contains(&GrantType::Password)
        {
            return refuse(
                "grant_types",
                "refresh_token is issued by the authorization code (or password) grant: list authorization_code too",
            );
        }
        self.validate_implicit()?;
        if self.scope.is_empty() && !introspects_only {
            return refuse("scopes", "must list at least one scope");
        }
        let max = policy.max_access_token_ttl_secs;
        if self.access_token_ttl_secs == 0 || self.access_token_ttl_secs > max {
            return refuse(
                "access_token_ttl_secs",
                format!("must be between 1 and {max} ({} hours)", max / 3600),
            );
        }
        if let Some(unknown) = self.scope.iter().find(|s| !policy.scopes.contains(s)) {
            return refuse(
                "scopes",
                format!("{unknown} is not in the scope registry: add a [[scopes]] entry for it"),
            );
        }
        if let Some(defaults) = &self.default_scopes
            && let Some(extra) = defaults.iter().find(|s| !self.scope.contains(s))
        {
            return refuse(
                "default_scopes",
                format!("{extra} is not among the client's scopes"),
            );
        }
        if let Some(r) = &self.resource_server {
            uri::validate_resource(r, policy.playground)
                .or_else(|m| refuse("resource_server", m))?;
        }
        if self.audience.iter().any(String::is_empty) {
            return refuse("audience", "must not hold an empty value");
        }
        for r in &self.redirect_uris {
            redirect_uri_allowed(r, policy).or_else(|m| refuse("redirect_uris", m))?;
        }
        for r in &self.post_logout_redirect_uris {
            redirect_uri_allowed(r, policy).or_else(|m| refuse("post_logout_redirect_uris", m))?;
        }
        if let Some(u) = &self.backchannel_logout_uri {
            https_url(u, policy).or_else(|m| refuse("backchannel_logout_uri", m))?;
            // Stricter than Back-Channel Logout 1.0 §2.2 (an absolute URI, https preferred):
            // as Front-Channel Logout §2 requires of its URI, "the domain, port, and scheme of
            // this URL MUST be the same as that of a registered Redirection URI value". Logout
            // tokens go only where the client's own users are sent anyway, so a registration
            // cannot aim the server's POSTs at another host.
            let origin = |url: &url::Url| url.origin().ascii_serialization();
            let same = url::Url::parse(u).is_ok_and(|url| {
                self.redirect_uris
                    .iter()
                    .any(|r| origin(r.url()) == origin(&url))
            });
            if !same {
                return refuse(
                    "backchannel_logout_uri",
                    "must have the scheme, host and port of one of the redirect_uris",
                );
            }
        }
        self.validate_about(policy)?;
        self.validate_keys(policy)
    }

    /// What anyone registering is held to beyond the config: grant types this server
    /// offers, scopes `[registration]` allows.
    fn validate_dynamic(
        &self,
        limits: &DynamicLimits<'_>,
        playground: bool,
    ) -> Result<(), MetadataError> {
        // The URLs this server itself sends to (key sets fetched, logout tokens posted): a
        // stranger's, so never the server's own network (the fetch and the POST check every
        // address again; this refuses at once what can never work). The playground's clients
        // live on loopback.
        if !playground {
            for (field, value) in [
                ("jwks_uri", &self.jwks_uri),
                ("backchannel_logout_uri", &self.backchannel_logout_uri),
            ] {
                if value
                    .as_deref()
                    .and_then(|u| url::Url::parse(u).ok())
                    .is_some_and(|u| uri::names_a_private_host(&u))
                {
                    return refuse(
                        field,
                        "names a loopback or private address, which this server does not send to",
                    );
                }
            }
        }
        if let Some(g) = self
            .grant_types
            .iter()
            .find(|g| !limits.grant_types.contains(g))
        {
            let supported: Vec<_> = limits.grant_types.iter().map(|g| g.as_str()).collect();
            return refuse(
                "grant_types",
                format!(
                    "{} is not offered here (supported: {})",
                    g.as_str(),
                    supported.join(", ")
                ),
            );
        }
        if let Some(s) = self.scope.iter().find(|s| !limits.scopes.contains(s)) {
            return refuse(
                "scopes",
                format!(
                    "{s} may not be registered (registrable: {})",
                    limits.scopes.to_param()
                ),
            );
        }
        Ok(())
    }

    /// The pages and people a client names about itself (RFC 7591 §2): web pages the consent
    /// page may link to, so https (http on loopback), and contacts that say something.
    fn validate_about(&self, policy: &RegistrationPolicy<'_>) -> Result<(), MetadataError> {
        for (field, value) in [
            ("client_uri", &self.client_uri),
            ("logo_uri", &self.logo_uri),
            ("tos_uri", &self.tos_uri),
            ("policy_uri", &self.policy_uri),
        ] {
            if let Some(u) = value {
                https_url(u, policy).or_else(|m| refuse(field, m))?;
            }
        }
        if self.contacts.iter().any(|c| c.trim().is_empty()) {
            return refuse("contacts", "must not hold an empty value");
        }
        Ok(())
    }

    /// RFC 7591 §2.1: "the authorization server SHOULD ensure [grant_types and
    /// response_types] are consistent" — `code` with `authorization_code`, an implicit
    /// response type (`token`, `id_token`, `id_token token`) with the `implicit` grant type,
    /// and the other way round.
    fn validate_implicit(&self) -> Result<(), MetadataError> {
        if self.response_types.contains(&ResponseType::Code)
            && !self.grant_types.contains(&GrantType::AuthorizationCode)
        {
            return refuse(
                "response_types",
                "code needs grant_types to contain authorization_code (RFC 7591 §2.1)",
            );
        }
        let implicit_grant = self.grant_types.contains(&GrantType::Implicit);
        if let Some(r) = self.response_types.iter().find(|r| r.is_implicit())
            && !implicit_grant
        {
            return refuse(
                "response_types",
                format!(
                    "{} needs grant_types to contain implicit (RFC 7591 §2.1)",
                    r.as_str()
                ),
            );
        }
        if !implicit_grant {
            return Ok(());
        }
        if !self.response_types.iter().any(|r| r.is_implicit()) {
            let names: Vec<_> = ResponseType::ALL
                .iter()
                .filter(|r| r.is_implicit())
                .map(|r| r.as_str())
                .collect();
            return refuse(
                "grant_types",
                format!(
                    "implicit needs response_types to list at least one of {} (RFC 7591 §2.1)",
                    names.join(", ")
                ),
            );
        }
        if self.redirect_uris.is_empty() {
            return refuse(
                "redirect_uris",
                "a client of the implicit flow must register at least one",
            );
        }
        Ok(())
    }

    /// A public client (`none`) authenticates with nothing, so it may use only the grants a
    /// user's browser drives, always with PKCE (RFC 9700 §2.1.1) where it applies; never the
    /// password grant (RFC 6749 §4.3.2: the client authenticates, being trusted with the
    /// password).
    fn validate_public(&self) -> Result<(), MetadataError> {
        if !self.token_endpoint_auth_methods.contains(&AuthMethod::None) {
            return Ok(());
        }
        if self.token_endpoint_auth_methods.len() > 1 {
            return refuse(
                "token_endpoint_auth_methods",
                "none (a public client) cannot be combined with other methods",
            );
        }
        if let Some(g) = self.grant_types.iter().find(|g| {
            !matches!(
                g,
                GrantType::AuthorizationCode | GrantType::RefreshToken | GrantType::Implicit
            )
        }) {
            return refuse(
                "grant_types",
                format!(
                    "a public client may use authorization_code, refresh_token and implicit only, not {}",
                    g.as_str()
                ),
            );
        }
        if !self.require_pkce {
            return refuse("require_pkce", "a public client must use PKCE");
        }
        if self.resource_server.is_some() {
            return refuse(
                "resource_server",
                "a resource server's client must authenticate to introspect",
            );
        }
        Ok(())
    }

    fn validate_keys(&self, policy: &RegistrationPolicy<'_>) -> Result<(), MetadataError> {
        if self.jwks.is_some() && self.jwks_uri.is_some() {
            // RFC 7591 §2: "The "jwks_uri" and "jwks" parameters MUST NOT both be present".
            return refuse("jwks", "give jwks or jwks_uri, not both (RFC 7591 §2)");
        }
        if let Some(jwks) = &self.jwks {
            let Some(keys) = jwks.get("keys").and_then(serde_json::Value::as_array) else {
                return refuse("jwks", "must be a JWK set: an object with a `keys` array");
            };
            if keys.len() > MAX_JWKS_KEYS {
                return refuse("jwks", format!("holds more than {MAX_JWKS_KEYS} keys"));
            }
            // RFC 7517 §4/§6: public keys only. A private or symmetric member would be kept
            // and shown back at every read of the registration.
            const PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];
            if keys
                .iter()
                .any(|k| PRIVATE.iter().any(|m| k.get(m).is_some()))
            {
                return refuse(
                    "jwks",
                    "holds private or symmetric key material: register public keys only",
                );
            }
        }
        if let Some(u) = &self.jwks_uri {
            https_url(u, policy).or_else(|m| refuse("jwks_uri", m))?;
        }
        if self
            .token_endpoint_auth_signing_alg
            .as_deref()
            .is_some_and(|alg| alg.eq_ignore_ascii_case("none"))
        {
            // RFC 7591 §2: "The value "none" MUST NOT be used."
            return refuse("token_endpoint_auth_signing_alg", "must not be \"none\"");
        }
        self.validate_assertion_method()
    }

    /// `client_secret_jwt` and `private_key_jwt`: the one method of their client (the key
    /// material differs: a recoverable secret, or public keys), with the keys it needs and an
    /// algorithm this server verifies.
    fn validate_assertion_method(&self) -> Result<(), MetadataError> {
        let methods = &self.token_endpoint_auth_methods;
        let assertion = methods
            .iter()
            .copied()
            .find(|m| !client_assertion::algorithms_of(*m).is_empty());
        let Some(method) = assertion else {
            if self.token_endpoint_auth_signing_alg.is_some() {
                return refuse(
                    "token_endpoint_auth_signing_alg",
                    "applies to client_secret_jwt and private_key_jwt only",
                );
            }
            return Ok(());
        };
        if methods.len() > 1 {
            return refuse(
                "token_endpoint_auth_methods",
                format!(
                    "{} cannot be combined with other methods: such a client authenticates one way",
                    method.as_str()
                ),
            );
        }
        let algorithms = client_assertion::algorithms_of(method);
        if let Some(alg) = &self.token_endpoint_auth_signing_alg
            && !algorithms
                .iter()
                .any(|a| client_assertion::algorithm_name(*a) == alg)
        {
            let names: Vec<_> = algorithms
                .iter()
                .map(|a| client_assertion::algorithm_name(*a))
                .collect();
            return refuse(
                "token_endpoint_auth_signing_alg",
                format!(
                    "{alg} is not supported for {} (supported: {})",
                    method.as_str(),
                    names.join(", ")
                ),
            );
        }
        if method != AuthMethod::PrivateKeyJwt {
            return Ok(());
        }
        match (&self.jwks, &self.jwks_uri) {
            (None, None) => refuse(
                "jwks_uri",
                "private_key_jwt needs the client's public keys: give jwks or jwks_uri",
            ),
            (Some(jwks), _) if client_assertion::parse_key_set(jwks).is_empty() => refuse(
                "jwks",
                "holds no public signing key this server verifies (RSA, EC P-256 or P-384, Ed25519)",
            ),
            _ => Ok(()),
        }
    }
}

/// https; http only on a loopback host (RFC 8252 §7.3, §8.3) or in the playground; or a
/// private-use scheme in reverse-domain form (RFC 8252 §7.1), which rules out `javascript:`,
/// `data:` and the like.
fn redirect_uri_allowed(uri: &RedirectUri, policy: &RegistrationPolicy<'_>) -> Result<(), String> {
    let url = uri.url();
    match url.scheme() {
        "https" | "http" if uri::is_https_or_local(url, policy.playground) => Ok(()),
        "https" | "http" => Err(format!("{uri}: must be https ({})", plain_http(policy))),
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(format!(
            "{uri}: a private-use scheme must be a reverse domain name (RFC 8252 §7.1)"
        )),
    }
}

/// An absolute https URL without a fragment (http only on loopback or in the playground).
fn https_url(value: &str, policy: &RegistrationPolicy<'_>) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|e| format!("{value:?} is not a URL: {e}"))?;
    if url.fragment().is_some() || url.host().is_none() {
        return Err(format!(
            "{value:?} must be absolute, with a host and no fragment"
        ));
    }
    if !uri::is_https_or_local(&url, policy.playground) {
        return Err(format!("{value:?} must be https ({})", plain_http(policy)));
    }
    Ok(())
}

/// Where plain http is accepted: the playground's exception is the config's to take, never a
/// registration's.
fn plain_http(policy: &RegistrationPolicy<'_>) -> &'static str {
    match policy.dynamic {
        Some(_) => "http only on a loopback host",
        None => "http only on a loopback host, or with playground = true",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{
        client::{GrantType, ResponseType},
        resources::ScopeDefinition,
        scope::ScopeSet,
    };

    fn registry() -> ScopeRegistry {
        ScopeRegistry::new(vec![ScopeDefinition {
            name: crate::oauth::scope::Scope::parse("country.read").unwrap(),
            description: "Read countries".to_owned(),
            resource: Some("http://localhost:8085/country-service".to_owned()),
        }])
    }

    fn valid() -> ClientMetadata {
        ClientMetadata::new()
            .grant(GrantType::ClientCredentials)
            .method(AuthMethod::ClientSecretBasic)
            .scope(ScopeSet::parse_param("country.read").unwrap())
    }

    fn refused(m: &ClientMetadata, playground: bool) -> Option<&'static str> {
        let scopes = registry();
        let policy = RegistrationPolicy {
            playground,
            max_access_token_ttl_secs: 86_400,
            scopes: &scopes,
            dynamic: None,
        };
        m.validate(&policy).err().map(|e| e.field)
    }

    fn uri(s: &str) -> RedirectUri {
        RedirectUri::parse(s).unwrap()
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(refused(&valid(), false), None);
        let cases: Vec<(ClientMetadata, &str)> = vec![
            (
                ClientMetadata {
                    grant_types: vec![],
                    ..valid()
                },
                "grant_types",
            ),
            (
                ClientMetadata {
                    token_endpoint_auth_methods: vec![],
                    ..valid()
                },
                "token_endpoint_auth_methods",
            ),
            (
                valid().method(AuthMethod::PrivateKeyJwt),
                "token_endpoint_auth_methods",
            ),
            (valid().scope(ScopeSet::default()), "scopes"),
            (
                valid().scope(ScopeSet::parse_param("admin").unwrap()),
                "scopes",
            ),
            (valid().access_token_ttl_secs(0), "access_token_ttl_secs"),
            (
                valid().access_token_ttl_secs(86_401),
                "access_token_ttl_secs",
            ),
            (
                valid().default_scopes(ScopeSet::parse_param("other").unwrap()),
                "default_scopes",
            ),
            (
                valid().resource_server("https://rs.example/#x"),
                "resource_server",
            ),
            (valid().audience(""), "audience"),
            (
                valid().redirect_uri(uri("http://app.example/cb")),
                "redirect_uris",
            ),
            (
                valid().redirect_uri(uri("javascript:alert(1)")),
                "redirect_uris",
            ),
            (
                valid().post_logout_redirect_uri(uri("http://app.example/")),
                "post_logout_redirect_uris",
            ),
            (
                ClientMetadata {
                    backchannel_logout_uri: Some("http://app.example/logout".to_owned()),
                    ..valid()
                },
                "backchannel_logout_uri",
            ),
            // §2.2: not where any of its users are sent.
            (
                ClientMetadata {
                    backchannel_logout_uri: Some("https://internal.example/logout".to_owned()),
                    ..valid().redirect_uri(uri("https://app.example/cb"))
                },
                "backchannel_logout_uri",
            ),
            (
                ClientMetadata {
                    backchannel_logout_uri: Some("https://app.example:8443/logout".to_owned()),
                    ..valid().redirect_uri(uri("https://app.example/cb"))
                },
                "backchannel_logout_uri",
            ),
            (
                ClientMetadata {
                    jwks: Some(serde_json::json!({"keys": []})),
                    jwks_uri: Some("https://app.example/jwks".to_owned()),
                    ..valid()
                },
                "jwks",
            ),
            (
                ClientMetadata {
                    jwks: Some(serde_json::json!([])),
                    ..valid()
                },
                "jwks",
            ),
            (
                ClientMetadata {
                    token_endpoint_auth_signing_alg: Some("none".to_owned()),
                    ..valid()
                },
                "token_endpoint_auth_signing_alg",
            ),
            // RFC 7591 §2.1: `code` is the authorization code grant's.
            (valid().response_type(ResponseType::Code), "response_types"),
            (
                ClientMetadata {
                    logo_uri: Some("http://app.example/logo.png".to_owned()),
                    ..valid()
                },
                "logo_uri",
            ),
            (
                ClientMetadata {
                    tos_uri: Some("/tos".to_owned()),
                    ..valid()
                },
                "tos_uri",
            ),
            (
                ClientMetadata {
                    contacts: vec![" ".to_owned()],
                    ..valid()
                },
                "contacts",
            ),
        ];
        for (m, field) in &cases {
            assert_eq!(refused(m, false), Some(*field), "{m:?}");
        }
    }

    #[test]
    fn an_assertion_method_goes_alone_with_its_keys_and_algorithm() {
        let key = serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "TMs4-rAq-oGxcmrnOOjWkVEuuSVoWcgy51SYFOFVsl4"}]});
        let by = |method| ClientMetadata {
            token_endpoint_auth_methods: vec![method],
            ..valid()
        };
        let with_alg = |m: ClientMetadata, alg: &str| ClientMetadata {
            token_endpoint_auth_signing_alg: Some(alg.to_owned()),
            ..m
        };
        let keyed = ClientMetadata {
            jwks: Some(key.clone()),
            ..by(AuthMethod::PrivateKeyJwt)
        };
        assert_eq!(refused(&keyed, false), None);
        assert_eq!(refused(&by(AuthMethod::ClientSecretJwt), false), None);
        assert_eq!(refused(&with_alg(keyed.clone(), "EdDSA"), false), None);
        assert_eq!(
            refused(&with_alg(by(AuthMethod::ClientSecretJwt), "HS512"), false),
            None
        );
        let cases = [
            (by(AuthMethod::PrivateKeyJwt), "jwks_uri"),
            (
                ClientMetadata {
                    jwks: Some(serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
                    ..by(AuthMethod::PrivateKeyJwt)
                },
                "jwks",
            ),
            (
                with_alg(keyed.clone(), "HS256"),
                "token_endpoint_auth_signing_alg",
            ),
            (
                with_alg(by(AuthMethod::ClientSecretJwt), "RS256"),
                "token_endpoint_auth_signing_alg",
            ),
            (
                with_alg(valid(), "RS256"),
                "token_endpoint_auth_signing_alg",
            ),
            (
                keyed.clone().method(AuthMethod::ClientSecretJwt),
                "token_endpoint_auth_methods",
            ),
            (
                by(AuthMethod::ClientSecretJwt).method(AuthMethod::ClientSecretPost),
                "token_endpoint_auth_methods",
            ),
        ];
        for (m, field) in &cases {
            assert_eq!(refused(m, false), Some(*field), "{m:?}");
        }
    }

    #[test]
    fn a_registration_names_no_private_host_for_the_server_to_send_to() {
        let scopes = registry();
        let registrable = ScopeSet::parse_param("country.read").unwrap();
        let policy = |playground| RegistrationPolicy {
            playground,
            max_access_token_ttl_secs: 86_400,
            scopes: &scopes,
            dynamic: Some(DynamicLimits {
                scopes: &registrable,
                grant_types: &[GrantType::ClientCredentials, GrantType::AuthorizationCode],
            }),
        };
        let keyed = |uri: &str| ClientMetadata {
            token_endpoint_auth_methods: vec![AuthMethod::PrivateKeyJwt],
            jwks_uri: Some(uri.to_owned()),
            ..valid()
        };
        for uri in [
            "https://127.0.0.1/jwks",
            "https://localhost/jwks",
            "https://10.0.0.8/jwks",
            "https://[::1]/jwks",
            "https://169.254.169.254/latest",
        ] {
            let e = keyed(uri).validate(&policy(false)).unwrap_err();
            assert_eq!(e.field, "jwks_uri", "{uri}");
            assert!(
                keyed(uri).validate(&policy(true)).is_ok(),
                "the playground: {uri}"
            );
        }
        assert!(
            keyed("https://app.example/jwks")
                .validate(&policy(false))
                .is_ok()
        );
        let logout = ClientMetadata {
            backchannel_logout_uri: Some("https://10.0.0.8/logout".to_owned()),
            ..valid().redirect_uri(uri("https://10.0.0.8/cb"))
        };
        assert_eq!(
            logout.validate(&policy(false)).unwrap_err().field,
            "backchannel_logout_uri"
        );
    }

    #[test]
    fn a_resource_servers_client_may_only_introspect() {
        let m = ClientMetadata::new()
            .method(AuthMethod::ClientSecretBasic)
            .resource_server("http://localhost:8085/country-service");
        assert_eq!(refused(&m, false), None);
    }

    #[test]
    fn redirect_uris_https_loopback_or_private_use() {
        // RFC 8252 §7.1 (reverse-domain private-use schemes), §7.3 (loopback IP), §8.3
        // (localhost: NOT RECOMMENDED, but loopback all the same).
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1:8080/login/oauth2/code/playground-web",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            let m = valid()
                .grant(GrantType::AuthorizationCode)
                .response_type(ResponseType::Code)
                .redirect_uri(uri(ok));
            assert_eq!(refused(&m, false), None, "{ok}");
        }
        // Containers talk plain http inside their network, in the playground only.
        let m = valid().redirect_uri(uri("http://sample-client:8080/cb"));
        assert_eq!(refused(&m, false), Some("redirect_uris"));
        assert_eq!(refused(&m, true), None);
    }

    #[test]
    fn messages_are_the_configs() {
        let scopes = registry();
        let policy = RegistrationPolicy {
            playground: false,
            max_access_token_ttl_secs: 86_400,
            scopes: &scopes,
            dynamic: None,
        };
        let e = valid()
            .access_token_ttl_secs(0)
            .validate(&policy)
            .unwrap_err();
        assert_eq!(e.message, "must be between 1 and 86400 (24 hours)");
        let e = valid()
            .method(AuthMethod::PrivateKeyJwt)
            .validate(&policy)
            .unwrap_err();
        assert_eq!(
            e.message,
            "private_key_jwt cannot be combined with other methods: such a client authenticates one way"
        );
        let e = valid()
            .method(AuthMethod::None)
            .validate(&policy)
            .unwrap_err();
        assert_eq!(
            e.message,
            "none (a public client) cannot be combined with other methods"
        );
    }

    #[test]
    fn public_clients_use_the_browser_grants_with_pkce_only() {
        let public = || {
            ClientMetadata::new()
                .grant(GrantType::AuthorizationCode)
                .method(AuthMethod::None)
                .redirect_uri(uri("http://127.0.0.1:8080/cb"))
                .scope(ScopeSet::parse_param("country.read").unwrap())
        };
        assert_eq!(refused(&public(), false), None);
        assert_eq!(
            refused(&public().grant(GrantType::ClientCredentials), false),
            Some("grant_types")
        );
        let mut no_pkce = public();
        no_pkce.require_pkce = false;
        assert_eq!(refused(&no_pkce, false), Some("require_pkce"));
        let mut no_redirect = public();
        no_redirect.redirect_uris.clear();
        assert_eq!(refused(&no_redirect, false), Some("redirect_uris"));
        assert_eq!(
            refused(&valid().grant(GrantType::RefreshToken), false),
            Some("grant_types"),
            "refresh_token without authorization_code"
        );
        assert_eq!(
            refused(&public().grant(GrantType::Password), false),
            Some("grant_types"),
            "a public client never has the password grant"
        );
    }

    #[test]
    fn legacy_grants_are_consistent_with_the_response_types() {
        let implicit = || {
            valid()
                .grant(GrantType::Implicit)
                .response_type(ResponseType::IdTokenToken)
                .redirect_uri(uri("http://127.0.0.1:8080/cb"))
        };
        assert_eq!(refused(&implicit(), false), None);
        let mut no_grant = implicit();
        no_grant.grant_types.retain(|g| *g != GrantType::Implicit);
        assert_eq!(refused(&no_grant, false), Some("response_types"));
        let mut no_type = implicit();
        no_type.response_types = Vec::new();
        assert_eq!(refused(&no_type, false), Some("grant_types"));
        let mut no_redirect = implicit();
        no_redirect.redirect_uris.clear();
        assert_eq!(refused(&no_redirect, false), Some("redirect_uris"));
        // The password grant may refresh: its family needs no authorization_code.
        let password = valid()
            .grant(GrantType::Password)
            .grant(GrantType::RefreshToken);
        assert_eq!(refused(&password, false), None);
    }

    #[test]
    fn dynamic_registration_is_held_to_its_limits() {
        let scopes = registry();
        let registrable = ScopeSet::parse_param("country.read").unwrap();
        let dynamic = |grant_types: &'static [GrantType]| RegistrationPolicy {
            playground: false,
            max_access_token_ttl_secs: 86_400,
            scopes: &scopes,
            dynamic: Some(DynamicLimits {
                scopes: &registrable,
                grant_types,
            }),
        };
        let offered = &[GrantType::AuthorizationCode, GrantType::ClientCredentials][..];
        assert_eq!(valid().validate(&dynamic(offered)), Ok(()));
        let e = valid()
            .grant(GrantType::Password)
            .validate(&dynamic(offered))
            .unwrap_err();
        assert_eq!(e.field, "grant_types");
        assert_eq!(
            e.message,
            "password is not offered here (supported: authorization_code, client_credentials)"
        );
        // In the registry, but not registrable: named as such, not as unknown.
        let wider = ScopeRegistry::new(vec![
            ScopeDefinition {
                name: crate::oauth::scope::Scope::parse("country.read").unwrap(),
                description: "d".to_owned(),
                resource: None,
            },
            ScopeDefinition {
                name: crate::oauth::scope::Scope::parse("admin").unwrap(),
                description: "d".to_owned(),
                resource: None,
            },
        ]);
        let policy = RegistrationPolicy {
            scopes: &wider,
            ..dynamic(offered)
        };
        let e = valid()
            .scope(ScopeSet::parse_param("country.read admin").unwrap())
            .validate(&policy)
            .unwrap_err();
        assert_eq!(
            (e.field, e.message.as_str()),
            (
                "scopes",
                "admin may not be registered (registrable: country.read)"
            )
        );
    }
}
