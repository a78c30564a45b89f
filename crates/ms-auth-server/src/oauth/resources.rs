//! The scope registry: every scope this server grants, what it means to a person (the consent
//! page shows it) and the protected resource it opens, by the resource's RFC 9728 identifier.
//!
//! An access token's `aud` is the set of resources of the scopes it carries (RFC 9068 §3,
//! RFC 9700 §2.3: audience-restricted tokens), plus the audiences configured for its client,
//! so a token sent to one resource server cannot be replayed at another.

use std::collections::HashMap;

use serde::Deserialize;

use super::scope::{Scope, ScopeSet};

/// One `[[scopes]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeDefinition {
    pub name: Scope,
    /// What granting it allows, in words a person understands.
    pub description: String,
    /// The RFC 9728 `resource` identifier of the resource server it belongs to; none for a
    /// scope of this server itself.
    #[serde(default)]
    pub resource: Option<String>,
}

/// Registered scopes by name, in the configured order.
#[derive(Debug, Clone, Default)]
pub struct ScopeRegistry {
    definitions: Vec<ScopeDefinition>,
    by_name: HashMap<Scope, usize>,
}

/// The OpenID Connect scopes (OIDC Core §5.4, §11), registered on every server unless the
/// config defines them itself. None opens a resource: they release claims and refresh tokens.
const OPENID_SCOPES: &[(&str, &str)] = &[
    ("openid", "Sign you in with your account"),
    ("profile", "See your name and profile"),
    ("email", "See your email address"),
    (
        "offline_access",
        "Stay signed in to the application while you are away",
    ),
];

impl ScopeRegistry {
    /// `definitions` after the OpenID Connect scopes they do not define themselves.
    pub fn with_openid(mut definitions: Vec<ScopeDefinition>) -> Self {
        let mut all: Vec<ScopeDefinition> = OPENID_SCOPES
            .iter()
            .filter(|(name, _)| !definitions.iter().any(|d| d.name.as_str() == *name))
            .filter_map(|(name, description)| {
                Some(ScopeDefinition {
                    name: Scope::parse(name).ok()?,
                    description: (*description).to_owned(),
                    resource: None,
                })
            })
            .collect();
        all.append(&mut definitions);
        Self::new(all)
    }

    pub fn new(definitions: Vec<ScopeDefinition>) -> Self {
        let by_name = definitions
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect();
        Self {
            definitions,
            by_name,
        }
    }

    pub fn get(&self, scope: &Scope) -> Option<&ScopeDefinition> {
        self.by_name.get(scope).map(|&i| &self.definitions[i])
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.by_name.contains_key(scope)
    }

    /// Every registered scope, sorted (`scopes_supported`).
    pub fn names(&self) -> Vec<Scope> {
        let mut names: Vec<Scope> = self.definitions.iter().map(|d| d.name.clone()).collect();
        names.sort();
        names
    }

    /// The `aud` of a token carrying `granted`: each distinct resource of the granted scopes
    /// in grant order, then `extra` (the client's configured audiences). Empty when no
    /// granted scope belongs to a resource and nothing extra is configured.
    pub fn audience(&self, granted: &ScopeSet, extra: &[String]) -> Vec<String> {
        let mut aud: Vec<String> = Vec::new();
        let resources = granted
            .iter()
            .filter_map(|s| self.get(s).and_then(|d| d.resource.as_deref()));
        for r in resources.chain(extra.iter().map(String::as_str)) {
            if !aud.iter().any(|a| a == r) {
                aud.push(r.to_owned());
            }
        }
        aud
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUSTOMERS: &str = "http://localhost:8085/customer-service";
    const COUNTRIES: &str = "http://localhost:8085/country-service";

    fn registry() -> ScopeRegistry {
        let def = |name: &str, resource: Option<&str>| ScopeDefinition {
            name: Scope::parse(name).unwrap(),
            description: format!("{name} access"),
            resource: resource.map(str::to_owned),
        };
        ScopeRegistry::new(vec![
            def("customer.read", Some(CUSTOMERS)),
            def("customer.write", Some(CUSTOMERS)),
            def("country.read", Some(COUNTRIES)),
            def("admin", None),
        ])
    }

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse_param(s).unwrap()
    }

    #[test]
    fn the_audience_is_the_resources_of_the_granted_scopes() {
        let r = registry();
        assert_eq!(r.audience(&set("country.read"), &[]), [COUNTRIES]);
        assert_eq!(
            r.audience(&set("customer.read customer.write country.read"), &[]),
            [CUSTOMERS, COUNTRIES],
            "each resource once, in grant order"
        );
        assert_eq!(
            r.audience(&set("customer.read"), &["api://extra".to_owned()]),
            [CUSTOMERS, "api://extra"]
        );
        assert!(r.audience(&set("admin"), &[]).is_empty());
    }

    #[test]
    fn names_are_sorted_and_lookups_exact() {
        let r = registry();
        let names: Vec<String> = r.names().iter().map(|s| s.to_string()).collect();
        assert_eq!(
            names,
            ["admin", "country.read", "customer.read", "customer.write"]
        );
        assert!(r.contains(&Scope::parse("country.read").unwrap()));
        assert!(!r.contains(&Scope::parse("country.write").unwrap()));
    }
}
