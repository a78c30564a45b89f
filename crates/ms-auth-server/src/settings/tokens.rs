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
    /// A refresh token unused this long expires (each rotation starts the time again).
    pub refresh_token_idle_secs: u64,
    /// A refresh-token family ends this long after the sign-in that started it, however often
    /// it rotates; a session-bound family ends with its session at the latest.
    pub refresh_token_absolute_secs: u64,
    /// How long after a rotation the old refresh token may be presented once more and be
    /// given the same new pair (a client that lost the response). Short: it is a window in
    /// which a stolen copy is not detected as reuse.
    pub refresh_token_grace_secs: u64,
    /// How long an ID token is valid (OIDC Core §2 `exp`).
    pub id_token_ttl_secs: u64,
}

/// The longest grace window the config accepts.
pub const MAX_REFRESH_GRACE_SECS: u64 = 60;

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            scope_claim: ScopeClaimFormat::default(),
            max_per_client_per_second: 20_000,
            refresh_token_idle_secs: 14 * 24 * 3600,
            refresh_token_absolute_secs: 30 * 24 * 3600,
            refresh_token_grace_secs: 5,
            id_token_ttl_secs: 3600,
        }
    }
}

impl TokenSettings {
    pub(super) fn validate(&self) -> Result<(), super::SettingsError> {
        if self.refresh_token_idle_secs == 0
            || self.refresh_token_absolute_secs < self.refresh_token_idle_secs
        {
            return Err(super::invalid(
                "tokens.refresh_token_absolute_secs",
                "must be at least tokens.refresh_token_idle_secs, which must be positive",
            ));
        }
        if self.refresh_token_grace_secs > MAX_REFRESH_GRACE_SECS {
            return Err(super::invalid(
                "tokens.refresh_token_grace_secs",
                format!("must be at most {MAX_REFRESH_GRACE_SECS}"),
            ));
        }
        if self.id_token_ttl_secs == 0 || self.id_token_ttl_secs > MAX_ACCESS_TOKEN_TTL_SECS {
            return Err(super::invalid(
                "tokens.id_token_ttl_secs",
                format!("must be between 1 and {MAX_ACCESS_TOKEN_TTL_SECS}"),
            ));
        }
        Ok(())
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
