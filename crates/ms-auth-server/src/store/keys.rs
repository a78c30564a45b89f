//! The signing keys as stored, and their lifecycle states: next, active, retired, revoked.
use std::time::Duration;

use super::StoreError;
use crate::{clock::UnixTime, keys::SigningAlgorithm};

/// Lifecycle state of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published so that every cache holds it before it signs; at most one key is next.
    Next,
    /// Signs new tokens; at most one key is active.
    Active,
    /// Signs nothing; published until every token it signed has expired.
    Retired,
    /// Withdrawn at once (it may have leaked): never published again, its private key erased.
    /// The row stays as the record of it, with `publish_until` the time of the revocation.
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Next, Self::Active, Self::Retired, Self::Revoked]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A signing key as stored: the private key as PKCS#8 PEM (sealed at rest by SQL backends).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    pub state: KeyState,
    pub private_key_pem: String,
    pub created_at: UnixTime,
    /// When a next key becomes active.
    pub activates_at: Option<UnixTime>,
    /// Until when a retired key stays published.
    pub publish_until: Option<UnixTime>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("state", &self.state)
            .field("activates_at", &self.activates_at)
            .field("publish_until", &self.publish_until)
            .finish_non_exhaustive()
    }
}

/// What [`KeyStore::revoke`] did.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// The key as now stored: revoked.
    pub key: StoredKey,
    /// The key that became active in its place, when the revoked key was the active one.
    pub activated: Option<StoredKey>,
    /// It had been revoked before: nothing changed.
    pub already: bool,
}

/// The signing keys.
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores `candidate` as the active key unless one is active already, and returns the
    /// active key: of replicas starting together, exactly one key wins and all use it.
    async fn activate_if_none(&self, candidate: StoredKey) -> Result<StoredKey, StoreError>;

    /// Every stored key.
    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// Stores `candidate` as the next key (active from its `activates_at`) unless there is a
    /// next key already, and returns the next key: of concurrent rotations, one happens.
    async fn add_next(&self, candidate: StoredKey) -> Result<StoredKey, StoreError>;

    /// When the next key is due at `now`: retires the active key (published until
    /// `now + retire_for`) and activates the next, atomically. True for the one caller that
    /// did it.
    async fn promote_due(&self, now: UnixTime, retire_for: Duration) -> Result<bool, StoreError>;

    /// Removes retired keys whose publication has ended; how many.
    async fn remove_expired(&self, now: UnixTime) -> Result<u64, StoreError>;

    /// Revokes the key `kid` at `now` (a key that may have leaked): it is no longer published
    /// and its private key is erased. When it was the active key, the next key — else
    /// `fallback` — becomes active in the same transaction, at once: the store is never left
    /// without an active key. `None` when no key has this `kid`; a revoked key stays revoked.
    async fn revoke(
        &self,
        kid: &str,
        now: UnixTime,
        fallback: StoredKey,
    ) -> Result<Option<Revoked>, StoreError>;
}
