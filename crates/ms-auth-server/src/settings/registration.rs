//! `[registration]`: dynamic client registration (RFC 7591) and its management (RFC 7592) —
//! off, open to anyone, or only with an initial access token; the scopes a registered client
//! may ask for; how often one source address may register; how long a registered secret lives.

use serde::Deserialize;

use super::{SettingsError, invalid};
use crate::oauth::{
    resources::ScopeRegistry,
    scope::{Scope, ScopeSet},
};

/// Who may register a client (RFC 7591 §3: "The client registration endpoint MAY be designed
/// to allow open registration … or it MAY require an initial access token").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    /// The registration endpoints do not exist (404), and discovery names none.
    #[default]
    Off,
    /// Anyone may register (rate-limited per source address).
    Open,
    /// Only the bearer of an access token of this server carrying `initial_access_scope`.
    InitialAccessToken,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationSettings {
    pub policy: RegistrationMode,
    /// Every scope a registered client may register (each in the scope registry).
    pub scopes: ScopeSet,
    /// The scope an initial access token must carry (`policy = "initial_access_token"`).
    pub initial_access_scope: Scope,
    /// Registrations one source address may make per minute, across replicas.
    pub max_per_source_per_minute: u64,
    /// How long a registered client secret lives; 0: it never expires
    /// (`client_secret_expires_at: 0`).
    pub client_secret_ttl_secs: u64,
    /// The most registered clients the store holds: anyone may register while the policy is
    /// open, so the total is bounded too.
    pub max_clients: u64,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        #[allow(clippy::expect_used, reason = "a valid scope token, fixed here")]
        let initial_access_scope = Scope::parse("client.register").expect("a scope token");
        Self {
            policy: RegistrationMode::Off,
            scopes: ScopeSet::default(),
            initial_access_scope,
            max_per_source_per_minute: 10,
            client_secret_ttl_secs: 0,
            max_clients: 10_000,
        }
    }
}

impl RegistrationSettings {
    pub(super) fn validate(&self, registry: &ScopeRegistry) -> Result<(), SettingsError> {
        if let Some(unknown) = self.scopes.iter().find(|s| !registry.contains(s)) {
            return Err(invalid(
                "registration.scopes",
                format!("{unknown} is not in the scope registry: add a [[scopes]] entry for it"),
            ));
        }
        if self.max_clients == 0 {
            return Err(invalid(
                "registration.max_clients",
                "must be at least 1 (turn registration off with policy = \"off\")",
            ));
        }
        if self.max_per_source_per_minute == 0 {
            return Err(invalid(
                "registration.max_per_source_per_minute",
                "must be positive",
            ));
        }
        match self.policy {
            RegistrationMode::Off => return Ok(()),
            RegistrationMode::Open => {}
            RegistrationMode::InitialAccessToken => {
                if !registry.contains(&self.initial_access_scope) {
                    return Err(invalid(
                        "registration.initial_access_scope",
                        format!(
                            "{} is not in the scope registry: add a [[scopes]] entry for it and give it to the administrators' client",
                            self.initial_access_scope
                        ),
                    ));
                }
            }
        }
        if self.scopes.is_empty() {
            return Err(invalid(
                "registration.scopes",
                "must list at least one scope while registration is on",
            ));
        }
        // A client registered with it could mint itself initial access tokens: open
        // registration in all but name.
        if self.scopes.contains(&self.initial_access_scope) {
            return Err(invalid(
                "registration.scopes",
                format!(
                    "must not include the initial access scope {}",
                    self.initial_access_scope
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::resources::ScopeDefinition;

    fn registry() -> ScopeRegistry {
        ScopeRegistry::with_openid(
            ["country.read", "client.register"]
                .iter()
                .map(|name| ScopeDefinition {
                    name: Scope::parse(name).unwrap(),
                    description: "d".to_owned(),
                    resource: None,
                })
                .collect(),
        )
    }

    fn refused(s: &RegistrationSettings) -> Option<String> {
        match s.validate(&registry()) {
            Ok(()) => None,
            Err(SettingsError::Invalid { key, .. }) => Some(key),
            Err(e) => panic!("{e}"),
        }
    }

    fn on(policy: RegistrationMode, scopes: &str) -> RegistrationSettings {
        RegistrationSettings {
            policy,
            scopes: ScopeSet::parse_param(scopes).unwrap(),
            ..RegistrationSettings::default()
        }
    }

    #[test]
    fn off_by_default_and_each_rule_names_its_key() {
        let off = RegistrationSettings::default();
        assert_eq!(off.policy, RegistrationMode::Off);
        assert_eq!(refused(&off), None, "off needs no scopes");
        assert_eq!(
            refused(&on(RegistrationMode::Open, "openid country.read")),
            None
        );
        let cases = [
            (on(RegistrationMode::Open, "nope"), "registration.scopes"),
            (
                RegistrationSettings {
                    scopes: ScopeSet::default(),
                    ..on(RegistrationMode::Open, "openid")
                },
                "registration.scopes",
            ),
            (
                on(RegistrationMode::InitialAccessToken, "client.register"),
                "registration.scopes",
            ),
            (
                RegistrationSettings {
                    initial_access_scope: Scope::parse("admin").unwrap(),
                    ..on(RegistrationMode::InitialAccessToken, "openid")
                },
                "registration.initial_access_scope",
            ),
            (
                RegistrationSettings {
                    max_per_source_per_minute: 0,
                    ..on(RegistrationMode::Open, "openid")
                },
                "registration.max_per_source_per_minute",
            ),
        ];
        for (s, key) in &cases {
            assert_eq!(refused(s).as_deref(), Some(*key), "{s:?}");
        }
        assert_eq!(
            refused(&on(RegistrationMode::InitialAccessToken, "country.read")),
            None
        );
    }

    #[test]
    fn policies_are_named_in_snake_case() {
        let s: RegistrationSettings = serde_json::from_str(
            r#"{"policy":"initial_access_token","scopes":["openid"],"client_secret_ttl_secs":60}"#,
        )
        .unwrap();
        assert_eq!(s.policy, RegistrationMode::InitialAccessToken);
        assert_eq!(s.client_secret_ttl_secs, 60);
        assert!(serde_json::from_str::<RegistrationSettings>(r#"{"polcy":"open"}"#).is_err());
    }
}
