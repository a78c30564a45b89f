//! `[[clients]]`: the clients the config registers.

use std::{collections::HashSet, time::Duration};

use serde::Deserialize;

use super::{MAX_ACCESS_TOKEN_TTL_SECS, SettingsError, invalid};
use crate::oauth::{
    client::{AuthMethod, Client, ClientId, ClientOrigin, GrantType},
    resources::ScopeRegistry,
    scope::ScopeSet,
    secret::{ClientSecret, SecretHash},
    uri::validate_resource,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    pub client_id: String,
    /// Plain-text secret (playground only: a warning is logged at start-up).
    pub client_secret: Option<ClientSecret>,
    /// `$hmac-sha256$v=1$<salt>$<hash>`, as printed by `ms-auth-server hash-secret`.
    pub client_secret_hash: Option<String>,
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    pub token_endpoint_auth_methods: Vec<AuthMethod>,
    #[serde(default)]
    pub scopes: ScopeSet,
    /// What a request without `scope` is granted (a subset of `scopes`); without it such a
    /// request is `invalid_scope` (RFC 6749 §3.3).
    #[serde(default)]
    pub default_scopes: Option<ScopeSet>,
    /// Audiences added to the resources of the granted scopes in `aud`.
    #[serde(default)]
    pub audience: Vec<String>,
    #[serde(default = "default_access_token_ttl_secs")]
    pub access_token_ttl_secs: u64,
    /// This client is the resource server with this RFC 9728 identifier: it may introspect
    /// the tokens meant for it (RFC 7662 §4).
    #[serde(default)]
    pub resource_server: Option<String>,
}

/// 15 minutes: a leaked access token is useful briefly (RFC 9700 §2.2.2, §4.14).
fn default_access_token_ttl_secs() -> u64 {
    900
}

impl ClientSettings {
    /// Checks this table, found at `prefix`.
    fn validate(
        &self,
        prefix: &str,
        registry: &ScopeRegistry,
        playground: bool,
    ) -> Result<(), SettingsError> {
        let key = |field: &str| format!("{prefix}.{field}");
        let c = self;
        if c.client_id.is_empty() {
            return Err(invalid(key("client_id"), "must not be empty"));
        }
        match (&c.client_secret, &c.client_secret_hash) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    key("client_secret"),
                    "give client_secret or client_secret_hash, not both",
                ));
            }
            (None, None) => {
                return Err(invalid(
                    key("client_secret_hash"),
                    "a client secret is required",
                ));
            }
            (Some(s), None) if s.expose().is_empty() => {
                return Err(invalid(key("client_secret"), "must not be empty"));
            }
            (Some(_), None) if !playground => {
                return Err(invalid(
                    key("client_secret"),
                    "plain-text secrets are for the playground only: give client_secret_hash (`ms-auth-server generate-secret`)",
                ));
            }
            (None, Some(h)) => {
                SecretHash::parse(h)
                    .map_err(|e| invalid(key("client_secret_hash"), e.to_string()))?;
            }
            (Some(_), None) => {}
        }
        // A resource server's client may exist only to introspect.
        let introspects_only = c.resource_server.is_some();
        if c.grant_types.is_empty() && !introspects_only {
            return Err(invalid(
                key("grant_types"),
                "must list at least one grant type",
            ));
        }
        if c.token_endpoint_auth_methods.is_empty() {
            return Err(invalid(
                key("token_endpoint_auth_methods"),
                "must list at least one method",
            ));
        }
        if c.scopes.is_empty() && !introspects_only {
            return Err(invalid(key("scopes"), "must list at least one scope"));
        }
        if c.access_token_ttl_secs == 0 || c.access_token_ttl_secs > MAX_ACCESS_TOKEN_TTL_SECS {
            return Err(invalid(
                key("access_token_ttl_secs"),
                format!("must be between 1 and {MAX_ACCESS_TOKEN_TTL_SECS} (24 hours)"),
            ));
        }
        if let Some(unknown) = c.scopes.iter().find(|s| !registry.contains(s)) {
            return Err(invalid(
                key("scopes"),
                format!("{unknown} is not in the scope registry: add a [[scopes]] entry for it"),
            ));
        }
        if let Some(defaults) = &c.default_scopes
            && let Some(extra) = defaults.iter().find(|s| !c.scopes.contains(s))
        {
            return Err(invalid(
                key("default_scopes"),
                format!("{extra} is not among the client's scopes"),
            ));
        }
        if let Some(r) = &c.resource_server {
            validate_resource(r, playground).map_err(|m| invalid(key("resource_server"), m))?;
        }
        for a in &c.audience {
            if a.is_empty() {
                return Err(invalid(key("audience"), "must not hold an empty value"));
            }
        }
        Ok(())
    }

    /// The client this table registers, its secret hashed. A plain-text secret is hashed
    /// here and logged as a warning (by id, never by value).
    pub fn to_client(&self, prefix: &str) -> Result<Client, SettingsError> {
        let c = self;
        let secret = match (&c.client_secret, &c.client_secret_hash) {
            (_, Some(h)) => SecretHash::parse(h)
                .map_err(|e| invalid(format!("{prefix}.client_secret_hash"), e.to_string()))?,
            (Some(plain), None) => {
                tracing::warn!(
                    client_id = %c.client_id,
                    "client secret is given in plain text in the config (accepted with playground = true only)"
                );
                SecretHash::generate(plain)
                    .map_err(|_| invalid(format!("{prefix}.client_secret"), "could not hash"))?
            }
            (None, None) => {
                return Err(invalid(
                    format!("{prefix}.client_secret_hash"),
                    "a client secret is required",
                ));
            }
        };
        Ok(Client {
            id: ClientId::new(c.client_id.clone()),
            secret,
            grant_types: c.grant_types.clone(),
            auth_methods: c.token_endpoint_auth_methods.clone(),
            scopes: c.scopes.clone(),
            default_scopes: c.default_scopes.clone(),
            audience: c.audience.clone(),
            access_token_ttl: Duration::from_secs(c.access_token_ttl_secs),
            resource_server: c.resource_server.clone(),
            origin: ClientOrigin::Config,
            enabled: true,
        })
    }
}

/// Checks the list found at `prefix`: at least one client, ids unique, each table valid.
pub(super) fn validate(
    prefix: &str,
    clients: &[ClientSettings],
    registry: &ScopeRegistry,
    playground: bool,
) -> Result<(), SettingsError> {
    if clients.is_empty() {
        return Err(invalid(
            prefix,
            "no clients are registered: declare at least one [[clients]] table in the config file",
        ));
    }
    let mut seen = HashSet::new();
    for (i, c) in clients.iter().enumerate() {
        let at = format!("{prefix}[{i}]");
        if !c.client_id.is_empty() && !seen.insert(c.client_id.as_str()) {
            return Err(invalid(
                format!("{at}.client_id"),
                format!("{:?} is registered twice", c.client_id),
            ));
        }
        c.validate(&at, registry, playground)?;
    }
    Ok(())
}
