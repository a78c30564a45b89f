//! `[tokens]` and `[introspection]`: what access tokens look like and how fast they may be
//! asked for and about.

use serde::Deserialize;

use crate::oauth::access_token::ScopeClaimFormat;

/// The longest access-token lifetime a client may be configured with.
pub const MAX_ACCESS_TOKEN_TTL_SECS: u64 = 24 * 3600;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// `array` (as the docs' tokens) or `string` (RFC 9068 §2.2.3).
    pub scope_claim: ScopeClaimFormat,
    /// Tokens one client may be issued per second across replicas; more answer `429
    /// slow_down`. Generous: it bounds a runaway or hostile client (every fresh token costs
    /// resource servers a verification and an introspection), not normal use.
    pub max_per_client_per_second: u64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            scope_claim: ScopeClaimFormat::default(),
            max_per_client_per_second: 20_000,
        }
    }
}

/// `[introspection]`: RFC 7662 §4 throttling, per calling client, across replicas.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntrospectionSettings {
    /// Requests one client may make in a second; more answer 429.
    pub max_requests_per_second: u64,
}

impl Default for IntrospectionSettings {
    fn default() -> Self {
        Self {
            max_requests_per_second: 1_000,
        }
    }
}
