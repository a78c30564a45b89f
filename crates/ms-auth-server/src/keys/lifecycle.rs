//! Signing keys without downtime. A new key is first **next**: published in the JWKS but not
//! signing, for longer than any cache may keep the old JWKS (`keys.jwks_max_age_secs`) plus
//! the time replicas take to notice (`keys.poll_secs`); then it becomes **active** and the old
//! one **retired**, still published until every token it signed has expired; then it is
//! removed. Which key is in which state lives in the store, so of several replicas exactly one
//! performs each step; every replica reloads the set on a notice or at the next poll. A key
//! that may have leaked is **revoked** instead: withdrawn from the JWKS at once, with the next
//! key (or a new one) active in its place without the publish delay (F13).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::{KeyError, PublishedKeys, SigningAlgorithm, SigningKey};
use crate::{
    clock::UnixTime,
    store::{KeyState, StoreError, StoredKey},
};

/// The `[keys]` settings that drive rotation.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    pub algorithm: SigningAlgorithm,
    pub jwks_max_age_secs: u64,
    pub poll: Duration,
    /// Rotate automatically once the active key is this old.
    pub rotate_after_secs: Option<u64>,
    /// How long a retired key stays published: the longest access-token lifetime the server
    /// allows (every client's is capped at it), plus a minute for resource servers' leeway.
    pub retire_for: Duration,
}

impl Lifecycle {
    /// How long a next key is published before it signs: derived from the JWKS max-age, so
    /// that every cache that honours it has seen the key first.
    pub fn publish_delay(&self) -> Duration {
        Duration::from_secs(self.jwks_max_age_secs + self.poll.as_secs().max(1))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key: {0}")]
    Key(#[from] KeyError),
    #[error("the store holds no active signing key")]
    NoActiveKey,
}

/// The snapshot the stored keys describe at `now`: the active key signs; next and retired
/// keys still in their publication period are published beside it.
pub fn key_set(stored: &[StoredKey], now: UnixTime) -> Result<PublishedKeys, LifecycleError> {
    let parse = |k: &StoredKey| {
        SigningKey::from_pem(
            k.private_key_pem.as_bytes(),
            k.algorithm,
            Some(k.kid.clone()),
        )
    };
    let active = stored
        .iter()
        .find(|k| k.state == KeyState::Active)
        .ok_or(LifecycleError::NoActiveKey)?;
    let mut others = Vec::new();
    for k in stored {
        if k.state != KeyState::Active && published(k, now) {
            others.push(parse(k)?.jwk().clone());
        }
    }
    Ok(PublishedKeys::with_published(parse(active)?, others)?)
}

/// Whether `k` belongs in the JWKS at `now`: next and active keys, retired ones until their
/// time, never a revoked one.
fn published(k: &StoredKey, now: UnixTime) -> bool {
    match k.state {
        KeyState::Next | KeyState::Active => true,
        KeyState::Retired => k.publish_until.is_none_or(|t| t > now),
        KeyState::Revoked => false,
    }
}

/// What a snapshot would publish, to tell whether the current one is stale.
fn published_kids(stored: &[StoredKey], now: UnixTime) -> Vec<String> {
    let mut kids: Vec<String> = stored
        .iter()
        .filter(|k| published(k, now))
        .map(|k| k.kid.clone())
        .collect();
    kids.sort();
    kids
}

/// Whether a scheduled rotation is due: `rotate_after_secs` is set, the active key is that
/// old, and no rotation is under way.
pub fn rotation_due(stored: &[StoredKey], lifecycle: &Lifecycle, now: UnixTime) -> bool {
    let active = stored.iter().find(|k| k.state == KeyState::Active);
    let has_next = stored.iter().any(|k| k.state == KeyState::Next);
    match (lifecycle.rotate_after_secs, active) {
        (Some(after), Some(active)) => {
            !has_next && active.created_at.plus(Duration::from_secs(after)) <= now
        }
        _ => false,
    }
}

/// Whether `ring` still holds what `stored` describes at `now` (same published kids, same
/// active key).
pub fn is_current(ring: &PublishedKeys, stored: &[StoredKey], now: UnixTime) -> bool {
    let mut kids = ring.kids().to_vec();
    kids.sort();
    let active_kid = stored
        .iter()
        .find(|k| k.state == KeyState::Active)
        .map(|k| k.kid.as_str());
    kids == published_kids(stored, now) && active_kid == Some(ring.active().kid())
}

/// A fresh key of `algorithm` as a store row in `state`, created at `now` and activating at
/// `activates_at`.
pub fn new_row(
    algorithm: SigningAlgorithm,
    state: KeyState,
    now: UnixTime,
    activates_at: Option<UnixTime>,
) -> Result<StoredKey, LifecycleError> {
    let key = SigningKey::generate(algorithm)?;
    Ok(StoredKey {
        kid: key.kid().to_owned(),
        algorithm,
        state,
        private_key_pem: key.to_pkcs8_pem()?,
        created_at: now,
        activates_at,
        publish_until: None,
    })
}

/// Whether the last lifecycle step succeeded: readiness reports a replica whose keys it
/// cannot load (another `store.encryption_key`, an unreadable row) instead of letting it serve
/// a stale key set.
#[derive(Debug, Clone)]
pub struct LifecycleHealth(Arc<AtomicBool>);

impl Default for LifecycleHealth {
    fn default() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }
}

impl LifecycleHealth {
    pub fn is_up(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, up: bool) {
        self.0.store(up, Ordering::Relaxed);
    }
}
