//! `Verifier`: the settings, the key cache, and the one async entry point handlers use.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use crate::{
    error::{AuthError, Challenge},
    keys::KeyCache,
    principal::Principal,
    settings::VerifierSettings,
    verify::verify,
};

/// Validates bearer tokens against the issuer's cached keys. Share one per service through
/// `web::Data<Verifier>`.
pub struct Verifier {
    settings: Arc<VerifierSettings>,
    keys: Arc<KeyCache>,
    challenge: Challenge,
}

impl Verifier {
    /// Builds the verifier; no network yet. Call [`Verifier::start`] inside a Tokio runtime.
    pub fn new(settings: VerifierSettings) -> Result<Self, reqwest::Error> {
        let challenge = Challenge {
            realm: settings.realm.clone(),
            resource_metadata: settings.resource_metadata_url(),
        };
        let settings = Arc::new(settings);
        let keys = Arc::new(KeyCache::new(Arc::clone(&settings))?);
        Ok(Self {
            settings,
            keys,
            challenge,
        })
    }

    /// Starts fetching keys in the background. The service need not wait: until keys arrive,
    /// protected routes answer 503.
    pub fn start(&self) {
        self.keys.spawn_refresher();
    }

    pub fn settings(&self) -> &VerifierSettings {
        &self.settings
    }

    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// Validates `token` now. In steady state this touches no network; an unknown `kid` (or no
    /// keys at all) triggers one rate-limited refetch.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let keys = self.keys.current();
        if keys.is_empty() {
            return if self.keys.refetch_for(&keys).await {
                verify(&self.settings, &self.keys.current(), token, unix_now())
            } else {
                Err(AuthError::KeysUnavailable)
            };
        }
        match verify(&self.settings, &keys, token, unix_now()) {
            Err(AuthError::UnknownKid) if self.keys.refetch_for(&keys).await => {
                verify(&self.settings, &self.keys.current(), token, unix_now())
            }
            other => other,
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
