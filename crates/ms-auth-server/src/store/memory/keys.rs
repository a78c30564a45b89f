//! [`KeyStore`] in memory: one lock over every key, so each operation is atomic.
use std::{sync::RwLock, time::Duration};

use super::{poisoned, timed};
use crate::{
    clock::UnixTime,
    store::{KeyState, KeyStore, Revoked, StoreError, StoredKey},
};

#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    keys: RwLock<Vec<StoredKey>>,
}

#[async_trait::async_trait]
impl KeyStore for MemoryKeyStore {
    async fn activate_if_none(&self, candidate: StoredKey) -> Result<StoredKey, StoreError> {
        timed("keys", "activate_if_none", || {
            let mut keys = self.keys.write().map_err(poisoned)?;
            if let Some(active) = keys.iter().find(|k| k.state == KeyState::Active) {
                return Ok(active.clone());
            }
            keys.push(candidate.clone());
            Ok(candidate)
        })
        .await
    }

    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        timed("keys", "list", || {
            Ok(self.keys.read().map_err(poisoned)?.clone())
        })
        .await
    }

    async fn add_next(&self, candidate: StoredKey) -> Result<StoredKey, StoreError> {
        timed("keys", "add_next", || {
            let mut keys = self.keys.write().map_err(poisoned)?;
            if let Some(next) = keys.iter().find(|k| k.state == KeyState::Next) {
                return Ok(next.clone());
            }
            let next = StoredKey {
                state: KeyState::Next,
                ..candidate
            };
            keys.push(next.clone());
            Ok(next)
        })
        .await
    }

    async fn promote_due(&self, now: UnixTime, retire_for: Duration) -> Result<bool, StoreError> {
        timed("keys", "promote_due", || {
            let mut keys = self.keys.write().map_err(poisoned)?;
            let due = keys
                .iter()
                .any(|k| k.state == KeyState::Next && k.activates_at.is_some_and(|t| t <= now));
            if !due {
                return Ok(false);
            }
            for k in keys.iter_mut() {
                match k.state {
                    KeyState::Active => {
                        k.state = KeyState::Retired;
                        k.publish_until = Some(now.plus(retire_for));
                    }
                    KeyState::Next => k.state = KeyState::Active,
                    KeyState::Retired | KeyState::Revoked => {}
                }
            }
            Ok(true)
        })
        .await
    }

    async fn remove_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        timed("keys", "remove_expired", || {
            let mut keys = self.keys.write().map_err(poisoned)?;
            let before = keys.len();
            keys.retain(|k| {
                !(k.state == KeyState::Retired && k.publish_until.is_some_and(|t| t <= now))
            });
            Ok((before - keys.len()) as u64)
        })
        .await
    }

    async fn revoke(
        &self,
        kid: &str,
        now: UnixTime,
        fallback: StoredKey,
    ) -> Result<Option<Revoked>, StoreError> {
        timed("keys", "revoke", || {
            let mut keys = self.keys.write().map_err(poisoned)?;
            let Some(target) = keys.iter_mut().find(|k| k.kid == kid) else {
                return Ok(None);
            };
            if target.state == KeyState::Revoked {
                return Ok(Some(Revoked {
                    key: target.clone(),
                    activated: None,
                    already: true,
                }));
            }
            let was_active = target.state == KeyState::Active;
            target.state = KeyState::Revoked;
            target.private_key_pem.clear();
            target.publish_until = Some(now);
            let key = target.clone();
            let next = keys.iter().position(|k| k.state == KeyState::Next);
            let activated = match (was_active, next) {
                (false, _) => None,
                (true, Some(i)) => {
                    keys[i].state = KeyState::Active;
                    keys[i].activates_at = Some(now);
                    Some(keys[i].clone())
                }
                (true, None) => {
                    let fresh = StoredKey {
                        state: KeyState::Active,
                        activates_at: Some(now),
                        publish_until: None,
                        ..fallback
                    };
                    keys.push(fresh.clone());
                    Some(fresh)
                }
            };
            Ok(Some(Revoked {
                key,
                activated,
                already: false,
            }))
        })
        .await
    }
}
