//! Starting, finding and ending browser sessions. A sign-in always starts a new session with a
//! new cookie token (no fixation: whatever session cookie the browser held is not reused);
//! the store keeps only the token's hash.

use std::{sync::Arc, time::Duration};

use super::{BrowserSession, User};
use crate::{
    clock::UnixTime,
    oauth::random::{self, RandomError},
    settings::SessionSettings,
    store::{SessionStore, StoreError, credential_hash},
};

/// A session's last use is recorded at most this often: a page view is not a store write.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Where the browser is, as far as the server can tell: for the user's list of sessions.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: Option<String>,
    pub address: Option<String>,
}

pub struct Sessions {
    pub store: Arc<dyn SessionStore>,
    pub settings: SessionSettings,
}

impl Sessions {
    /// A new session for `user`, authenticated now by `amr`; the cookie token to set.
    pub async fn start(
        &self,
        user: &User,
        amr: &[&str],
        device: Device,
        now: UnixTime,
    ) -> Result<(String, BrowserSession), SessionError> {
        let token = random::token()?;
        let session = BrowserSession {
            sid: random::token()?,
            user_id: user.id.clone(),
            auth_time: now,
            amr: amr.iter().map(|s| (*s).to_owned()).collect(),
            acr: None,
            created_at: now,
            last_seen: now,
            idle_expires_at: now.plus(Duration::from_secs(self.settings.idle_secs)),
            expires_at: now.plus(Duration::from_secs(self.settings.absolute_secs)),
            clients: Vec::new(),
            user_agent: device.user_agent.map(|u| cut(&u, 256)),
            address: device.address,
        };
        self.store
            .create_session(&credential_hash(&token), &session)
            .await?;
        Ok((token, session))
    }

    /// The live session the cookie token names; its use is recorded (about once a minute).
    pub async fn current(
        &self,
        token: Option<&str>,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError> {
        let Some(token) = token.filter(|t| t.len() <= 128) else {
            return Ok(None);
        };
        let Some(mut session) = self.store.session(&credential_hash(token), now).await? else {
            return Ok(None);
        };
        if now.secs() - session.last_seen.secs() >= TOUCH_EVERY_SECS {
            let idle = now
                .plus(Duration::from_secs(self.settings.idle_secs))
                .min(session.expires_at);
            // Best effort: a failed touch costs the session at most its idle lifetime.
            match self.store.touch_session(&session.sid, now, idle).await {
                Ok(()) => {
                    session.last_seen = now;
                    session.idle_expires_at = idle;
                }
                Err(e) => tracing::warn!(error = %e, "session use not recorded"),
            }
        }
        Ok(Some(session))
    }
}

fn cut(s: &str, max: usize) -> String {
    s.char_indices()
        .nth(max)
        .map_or(s, |(i, _)| &s[..i])
        .to_owned()
}
