//! A pending sign-in: the checked authorization request between the authorization endpoint,
//! the sign-in page and the consent page, kept in the hot state (so any replica can continue
//! it) for a few minutes under a random id.
//!
//! Each interaction is bound to the browser that began it: a random binding value lives in a
//! cookie and only its hash in the interaction, so a form posted from another browser (a
//! login CSRF: the attacker's own pending sign-in submitted by the victim) is refused. The
//! forms also carry a per-interaction CSRF token.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::request::AuthorizationRequest;
use crate::{
    clock::UnixTime,
    oauth::random::{self, RandomError},
    store::{StoreError, credential_hash, hot::Hot},
};

/// How long a user has to sign in and consent.
pub const INTERACTION_TTL_SECS: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: String,
    /// The authorization request it continues; `None` for a sign-in started at the sign-in
    /// page itself (it ends on the signed-in page).
    pub request: Option<AuthorizationRequest>,
    pub csrf_token: String,
    /// The hash of the browser's binding cookie.
    pub binding_hash: String,
    /// The session signed in during this interaction: `prompt=login` and `max_age` are
    /// satisfied by it.
    pub signed_in_sid: Option<String>,
    pub expires_at: UnixTime,
}

impl Interaction {
    /// Whether a form post carries this interaction's CSRF token from the browser that began
    /// it. Both compared in constant time.
    pub fn accepts(&self, csrf_token: &str, binding: Option<&str>) -> bool {
        let csrf_ok: bool = self
            .csrf_token
            .as_bytes()
            .ct_eq(csrf_token.as_bytes())
            .into();
        let bound_ok = binding.is_some_and(|b| {
            bool::from(
                credential_hash(b)
                    .as_bytes()
                    .ct_eq(self.binding_hash.as_bytes()),
            )
        });
        csrf_ok && bound_ok
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InteractionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("a stored interaction is unreadable: {0}")]
    Corrupt(String),
}

/// Pending interactions in the hot state.
#[derive(Clone)]
pub struct Interactions {
    pub hot: Hot,
}

fn key(id: &str) -> String {
    format!("interaction:{id}")
}

impl Interactions {
    /// Begins one for `request` in the browser holding `binding` (the cookie's value; a new
    /// one is made when the browser has none). The interaction and the binding to set.
    pub async fn begin(
        &self,
        request: Option<AuthorizationRequest>,
        binding: Option<&str>,
        now: UnixTime,
    ) -> Result<(Interaction, String), InteractionError> {
        let binding = match binding.filter(|b| (32..=128).contains(&b.len())) {
            Some(b) => b.to_owned(),
            None => random::token()?,
        };
        let interaction = Interaction {
            id: random::token()?,
            request,
            csrf_token: random::token()?,
            binding_hash: credential_hash(&binding),
            signed_in_sid: None,
            expires_at: now.plus_secs(INTERACTION_TTL_SECS),
        };
        self.save(&interaction, now).await?;
        Ok((interaction, binding))
    }

    pub async fn save(&self, i: &Interaction, now: UnixTime) -> Result<(), InteractionError> {
        let value =
            serde_json::to_string(i).map_err(|e| InteractionError::Corrupt(e.to_string()))?;
        self.hot
            .put_value(&key(&i.id), &value, i.expires_at, now)
            .await?;
        Ok(())
    }

    /// The interaction `id` names, if it is still pending.
    pub async fn find(
        &self,
        id: &str,
        now: UnixTime,
    ) -> Result<Option<Interaction>, InteractionError> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        match self.hot.get_value(&key(id), now).await? {
            Some(v) => serde_json::from_str(&v)
                .map(Some)
                .map_err(|e| InteractionError::Corrupt(e.to_string())),
            None => Ok(None),
        }
    }

    /// Ends it: of concurrent finishers exactly one gets it (a double-submitted consent form
    /// issues one code).
    pub async fn finish(
        &self,
        id: &str,
        now: UnixTime,
    ) -> Result<Option<Interaction>, InteractionError> {
        match self.hot.take_value(&key(id), now).await? {
            Some(v) => serde_json::from_str(&v)
                .map(Some)
                .map_err(|e| InteractionError::Corrupt(e.to_string())),
            None => Ok(None),
        }
    }
}
