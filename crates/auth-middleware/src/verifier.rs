//! `Verifier`: the settings, the key cache, and the one async entry point handlers use.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{
    error::{AuthError, Challenge},
    keys::KeyCache,
    principal::Principal,
    revocation::RevocationCheck,
    settings::VerifierSettings,
    token_cache::TokenCache,
    verify::verify,
};

/// Validates bearer tokens against the issuer's cached keys. Share one per service through
/// `web::Data<Verifier>`.
pub struct Verifier {
    settings: Arc<VerifierSettings>,
    keys: Arc<KeyCache>,
    cache: TokenCache,
    challenge: Challenge,
    revocation: Option<RevocationCheck>,
}

impl Verifier {
    /// Builds the verifier; no network yet. Call [`Verifier::start`] inside a Tokio runtime.
    pub fn new(mut settings: VerifierSettings) -> Result<Self, reqwest::Error> {
        // The audience defaults to the resource's own identifier; it cannot be turned off.
        if settings.audience.is_empty()
            && let Some(resource) = &settings.resource
        {
            settings.audience = vec![resource.clone()];
        }
        if settings.audience.is_empty() {
            tracing::error!(
                "neither auth.audience nor auth.resource is set: every token will be refused"
            );
        }
        let challenge = Challenge {
            realm: settings.realm.clone(),
            resource_metadata: settings.resource_metadata_url(),
        };
        let settings = Arc::new(settings);
        let keys = Arc::new(KeyCache::new(Arc::clone(&settings))?);
        let cache = TokenCache::new(settings.token_cache_size);
        let timeout = Duration::from_secs(settings.fetch_timeout_secs.max(1));
        let revocation = settings
            .introspection
            .clone()
            .map(|i| RevocationCheck::new(i, timeout))
            .transpose()?;
        Ok(Self {
            settings,
            keys,
            cache,
            challenge,
            revocation,
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

    /// Whether a key set has been fetched: until then no token can be judged (readiness).
    pub fn has_keys(&self) -> bool {
        !self.keys.current().is_empty()
    }

    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// How many verified tokens are remembered now.
    pub fn cached_tokens(&self) -> usize {
        self.cache.len()
    }

    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// Validates `token` now. In steady state this touches no network, and a token seen
    /// before costs a cache lookup; an unknown `kid` (or no keys at all) triggers one
    /// rate-limited refetch.
    pub async fn authenticate(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        let now = unix_now();
        let mut keys = self.keys.current();
        if let Some(principal) = self.cache.get(token, &keys, now) {
            return Ok(principal);
        }
        let verified = if keys.is_empty() {
            if !self.keys.refetch_for(&keys).await {
                return Err(AuthError::KeysUnavailable);
            }
            keys = self.keys.current();
            verify(&self.settings, &keys, token, now)
        } else {
            match verify(&self.settings, &keys, token, now) {
                Err(AuthError::UnknownKid)
                    if self.keys.refetch_for_kid(&keys, &header_kid(token)).await =>
                {
                    keys = self.keys.current();
                    verify(&self.settings, &keys, token, now)
                }
                other => other,
            }
        };
        let principal = Arc::new(verified?);
        if let Some(exp) = principal
            .claims
            .get("exp")
            .and_then(serde_json::Value::as_u64)
        {
            let valid_until = exp.saturating_add(self.settings.leeway_secs);
            self.cache
                .insert(token, &keys, Arc::clone(&principal), valid_until, now);
        }
        Ok(principal)
    }
}

impl Verifier {
    /// For routes that must refuse revoked tokens: asks the issuer (cached briefly) whether
    /// `token`, already validated as `principal`, is still active. Without
    /// `[auth.introspection]` nothing can be asked, and the answer is 503, not a pass.
    pub async fn ensure_not_revoked(
        &self,
        token: &str,
        principal: &Principal,
    ) -> Result<(), AuthError> {
        let Some(check) = &self.revocation else {
            tracing::error!("a route checks revocation but [auth.introspection] is not configured");
            return Err(AuthError::RevocationUnavailable);
        };
        let Some(jti) = principal
            .claims
            .get("jti")
            .and_then(serde_json::Value::as_str)
        else {
            return Err(AuthError::invalid(
                "the token has no jti to check revocation by",
            ));
        };
        check.ensure_active(jti, token).await
    }
}

/// The `kid` of a token [`verify`] found it unknown for (so its header is well-formed).
fn header_kid(token: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Header {
        kid: Option<String>,
    }
    token
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|h| serde_json::from_slice::<Header>(&h).ok())
        .and_then(|h| h.kid)
        .unwrap_or_default()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
