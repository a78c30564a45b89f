//! [`GrantStore`] in memory.
use std::{collections::HashMap, sync::Mutex};

use super::{poisoned, timed};
use crate::{
    clock::UnixTime,
    store::{
        AuditEvent, StoreError,
        grants::{CodeGrant, CodeUse, GrantStore, RefreshGrant, Rotation},
    },
};

#[derive(Debug, Clone)]
struct RefreshRow {
    grant: RefreshGrant,
    rotated: bool,
    revoked: bool,
}

#[derive(Debug, Default)]
pub(super) struct GrantState {
    codes: HashMap<String, (CodeGrant, bool)>,
    refresh: HashMap<String, RefreshRow>,
    pub(super) audit: Vec<AuditEvent>,
}

/// Grants and the audit log behind one lock: every operation is atomic.
#[derive(Debug, Default)]
pub struct MemoryGrantStore {
    pub(super) state: Mutex<GrantState>,
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
        timed("grants", "put_code", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            s.codes.insert(code_hash.to_owned(), (grant.clone(), false));
            Ok(())
        })
        .await
    }

    async fn consume_code(&self, code_hash: &str, now: UnixTime) -> Result<CodeUse, StoreError> {
        timed("grants", "consume_code", || {
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
        })
        .await
    }

    async fn put_refresh(&self, token_hash: &str, grant: &RefreshGrant) -> Result<(), StoreError> {
        timed("grants", "put_refresh", || {
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
        })
        .await
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        timed("grants", "rotate_refresh", || {
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
        })
        .await
    }

    async fn revoke_family(&self, family_id: &str, _now: UnixTime) -> Result<u64, StoreError> {
        timed("grants", "revoke_family", || {
            Ok(self
                .state
                .lock()
                .map_err(poisoned)?
                .revoke_family(family_id))
        })
        .await
    }

    async fn refresh(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, StoreError> {
        timed("grants", "refresh", || {
            let s = self.state.lock().map_err(poisoned)?;
            Ok(s.refresh
                .get(token_hash)
                .filter(|r| !r.rotated && !r.revoked && r.grant.expires_at > now)
                .map(|r| r.grant.clone()))
        })
        .await
    }
}
