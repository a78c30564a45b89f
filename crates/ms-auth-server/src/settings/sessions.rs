//! `[sessions]`: how long a browser session at the sign-in pages lives.

use serde::Deserialize;

use super::{SettingsError, invalid};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// Unused this long, a session ends (each use starts the time again).
    pub idle_secs: u64,
    /// However much it is used, a session ends this long after the sign-in.
    pub absolute_secs: u64,
}

impl Default for SessionSettings {
    /// Keycloak's defaults (SSO Session Idle 30 minutes, Max 10 hours).
    fn default() -> Self {
        Self {
            idle_secs: 30 * 60,
            absolute_secs: 10 * 3600,
        }
    }
}

impl SessionSettings {
    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        if self.idle_secs == 0 || self.absolute_secs < self.idle_secs {
            return Err(invalid(
                "sessions.absolute_secs",
                "must be at least sessions.idle_secs, which must be positive",
            ));
        }
        Ok(())
    }
}
