//! `[logout]`: how back-channel logout notices are delivered (OpenID Connect Back-Channel
//! Logout 1.0 §2.5): each attempt bounded, retried with backoff, given up after a deadline.

use serde::Deserialize;

use super::{SettingsError, invalid};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogoutSettings {
    /// One delivery attempt may take this long (connect, send, answer).
    pub backchannel_timeout_secs: u64,
    /// A notice not delivered this long after its session ended is given up (and audited).
    pub backchannel_give_up_after_secs: u64,
    /// How often each replica looks for due notices (it is also woken as sessions end).
    pub backchannel_poll_millis: u64,
}

impl Default for LogoutSettings {
    fn default() -> Self {
        Self {
            backchannel_timeout_secs: 5,
            // A relying party down for a day's maintenance still hears of the logout after.
            backchannel_give_up_after_secs: 24 * 3600,
            backchannel_poll_millis: 1000,
        }
    }
}

impl LogoutSettings {
    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        if !(1..=60).contains(&self.backchannel_timeout_secs) {
            return Err(invalid(
                "logout.backchannel_timeout_secs",
                "must be between 1 and 60",
            ));
        }
        if self.backchannel_give_up_after_secs < self.backchannel_timeout_secs {
            return Err(invalid(
                "logout.backchannel_give_up_after_secs",
                "must be at least logout.backchannel_timeout_secs",
            ));
        }
        if !(10..=60_000).contains(&self.backchannel_poll_millis) {
            return Err(invalid(
                "logout.backchannel_poll_millis",
                "must be between 10 and 60000",
            ));
        }
        Ok(())
    }
}
