//! In-memory stores: for tests, and `store.url = "memory"`. Nothing survives a restart.
use crate::clock::UnixTime;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use super::{
    ClientStore, KeyState, KeyStore, Revoked, StoreError, StoredKey,
    grants::{AuditEvent, AuditLog, CodeGrant, CodeUse, GrantStore, RefreshGrant, Rotation},
};
use crate::oauth::client::Client;

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Unavailable("an in-memory store's lock is poisoned".to_owned())
}

#[derive(Debug, Default)]
pub struct MemoryClientStore {
    clients: RwLock<HashMap<String, Arc<Client>>>,
}

impl MemoryClientStore {
    pub fn new(clients: impl IntoIterator<Item = Client>) -> Self {
        let clients = clients
            .into_iter()
            .map(|c| (c.id.as_str().to_owned(), Arc::new(c)))
            .collect();
        Self {
            clients: RwLock::new(clients),
        }
    }
}

#[async_trait::async_trait]
impl ClientStore for MemoryClientStore {
    async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        Ok(self
            .clients
            .read()
            .map_err(poisoned)?
            .get(client_id)
            .cloned())
    }

    async fn all(&self) -> Result<Vec<Arc<Client>>, StoreError> {
        let mut all: Vec<_> = self
            .clients
            .read()
            .map_err(poisoned)?
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(all)
    }

    async fn upsert(&self, client: &Client) -> Result<(), StoreError> {
        self.clients
            .write()
            .map_err(poisoned)?
            .insert(client.id.as_str().to_owned(), Arc::new(client.clone()));
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    keys: RwLock<Vec<StoredKey>>,
}

#[async_trait::async_trait]
impl KeyStore for MemoryKeyStore {
    async fn activate_if_none(&self, candidate: StoredKey) -> Result<StoredKey, StoreError> {
        let mut keys = self.keys.write().map_err(poisoned)?;
        if let Some(active) = keys.iter().find(|k| k.state == KeyState::Active) {
            return Ok(active.clone());
        }
        keys.push(candidate.clone());
        Ok(candidate)
    }

    async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        Ok(self.keys.read().map_err(poisoned)?.clone())
    }

    async fn add_next(&self, candidate: StoredKey) -> Result<StoredKey, StoreError> {
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
    }

    async fn promote_due(&self, now: UnixTime, retire_for: Duration) -> Result<bool, StoreError> {
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
    }

    async fn remove_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        let mut keys = self.keys.write().map_err(poisoned)?;
        let before = keys.len();
        keys.retain(|k| {
            !(k.state == KeyState::Retired && k.publish_until.is_some_and(|t| t <= now))
        });
        Ok((before - keys.len()) as u64)
    }

    async fn revoke(
        &self,
        kid: &str,
        now: UnixTime,
        fallback: StoredKey,
    ) -> Result<Option<Revoked>, StoreError> {
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
    }
}

#[derive(Debug, Clone)]
struct RefreshRow {
    grant: RefreshGrant,
    rotated: bool,
    revoked: bool,
}

#[derive(Debug, Default)]
struct GrantState {
    codes: HashMap<String, (CodeGrant, bool)>,
    refresh: HashMap<String, RefreshRow>,
    audit: Vec<AuditEvent>,
}

/// Grants and the audit log behind one lock: every operation is atomic.
#[derive(Debug, Default)]
pub struct MemoryGrantStore {
    state: Mutex<GrantState>,
}

impl GrantState {
    fn revoke_family(&mut self, family_id: &str) -> u64 {
        let mut n = 0;
        for row in self.refresh.values_mut() {
            if row.grant.family_id == family_id && !row.revoked {
                row.revoked = true;
                n += 1;
            }
        }
        n
    }
}

#[async_trait::async_trait]
impl GrantStore for MemoryGrantStore {
    async fn put_code(&self, code_hash: &str, grant: &CodeGrant) -> Result<(), StoreError> {
        let mut s = self.state.lock().map_err(poisoned)?;
        s.codes.insert(code_hash.to_owned(), (grant.clone(), false));
        Ok(())
    }

    async fn consume_code(&self, code_hash: &str, now: UnixTime) -> Result<CodeUse, StoreError> {
        let mut s = self.state.lock().map_err(poisoned)?;
        let Some((grant, consumed)) = s.codes.get_mut(code_hash) else {
            return Ok(CodeUse::Invalid);
        };
        if *consumed {
            let family_id = grant.family_id.clone();
            s.revoke_family(&family_id);
            return Ok(CodeUse::Replayed { family_id });
        }
        if grant.expires_at <= now {
            return Ok(CodeUse::Invalid);
        }
        *consumed = true;
        Ok(CodeUse::Fresh(grant.clone()))
    }

    async fn put_refresh(&self, token_hash: &str, grant: &RefreshGrant) -> Result<(), StoreError> {
        let mut s = self.state.lock().map_err(poisoned)?;
        s.refresh.insert(
            token_hash.to_owned(),
            RefreshRow {
                grant: grant.clone(),
                rotated: false,
                revoked: false,
            },
        );
        Ok(())
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        let mut s = self.state.lock().map_err(poisoned)?;
        let Some(row) = s.refresh.get_mut(old_hash) else {
            return Ok(Rotation::Invalid);
        };
        if row.rotated {
            let family_id = row.grant.family_id.clone();
            s.revoke_family(&family_id);
            return Ok(Rotation::Reused { family_id });
        }
        if row.revoked || row.grant.expires_at <= now {
            return Ok(Rotation::Invalid);
        }
        row.rotated = true;
        let grant = RefreshGrant {
            issued_at: now,
            expires_at: new_expires_at,
            ..row.grant.clone()
        };
        s.refresh.insert(
            new_hash.to_owned(),
            RefreshRow {
                grant: grant.clone(),
                rotated: false,
                revoked: false,
            },
        );
        Ok(Rotation::Rotated(grant))
    }

    async fn revoke_family(&self, family_id: &str, _now: UnixTime) -> Result<u64, StoreError> {
        Ok(self
            .state
            .lock()
            .map_err(poisoned)?
            .revoke_family(family_id))
    }

    async fn refresh(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, StoreError> {
        let s = self.state.lock().map_err(poisoned)?;
        Ok(s.refresh
            .get(token_hash)
            .filter(|r| !r.rotated && !r.revoked && r.grant.expires_at > now)
            .map(|r| r.grant.clone()))
    }
}

#[async_trait::async_trait]
impl AuditLog for MemoryGrantStore {
    async fn append(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.state
            .lock()
            .map_err(poisoned)?
            .audit
            .push(event.clone());
        Ok(())
    }

    async fn recent(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        let s = self.state.lock().map_err(poisoned)?;
        Ok(s.audit.iter().rev().take(limit as usize).cloned().collect())
    }
}
