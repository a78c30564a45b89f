//! `[[scopes]]`: the scope registry, every scope a client may be granted.

use std::collections::HashSet;

use super::{SettingsError, invalid};
use crate::oauth::{
    resources::{ScopeDefinition, ScopeRegistry},
    uri::validate_resource,
};

/// The registry of `scopes` (found at `prefix`), checked: names unique, descriptions given,
/// resources absolute URLs.
pub(super) fn validate(
    prefix: &str,
    scopes: &[ScopeDefinition],
    playground: bool,
) -> Result<ScopeRegistry, SettingsError> {
    let mut seen = HashSet::new();
    for (i, d) in scopes.iter().enumerate() {
        let key = |field: &str| format!("{prefix}[{i}].{field}");
        if !seen.insert(d.name.as_str()) {
            return Err(invalid(
                key("name"),
                format!("{} is registered twice", d.name),
            ));
        }
        if d.description.trim().is_empty() {
            return Err(invalid(
                key("description"),
                "must not be empty: the consent page shows it",
            ));
        }
        if let Some(r) = &d.resource {
            validate_resource(r, playground).map_err(|m| invalid(key("resource"), m))?;
        }
    }
    Ok(ScopeRegistry::with_openid(scopes.to_vec()))
}
