//! [`CodeStore`] in memory.
use super::{grants::MemoryGrants, poisoned, timed};
use crate::{
    clock::UnixTime,
    store::{CodeGrant, CodeStore, CodeUse, StoreError},
};

#[async_trait::async_trait]
impl CodeStore for MemoryGrants {
    async fn put_code(&self, code_hash: &str, grant: &CodeGrant) -> Result<(), StoreError> {
        timed("codes", "put", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            s.codes.insert(code_hash.to_owned(), (grant.clone(), false));
            Ok(())
        })
        .await
    }

    async fn consume_code(&self, code_hash: &str, now: UnixTime) -> Result<CodeUse, StoreError> {
        timed("codes", "consume", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            let Some((grant, consumed)) = s.codes.get_mut(code_hash) else {
                return Ok(CodeUse::Invalid);
            };
            if *consumed {
                let family_id = grant.family_id.clone();
                let access = s.revoke_family(&family_id, now).access;
                return Ok(CodeUse::Replayed { family_id, access });
            }
            if grant.expires_at <= now {
                return Ok(CodeUse::Invalid);
            }
            *consumed = true;
            Ok(CodeUse::Fresh(grant.clone()))
        })
        .await
    }

    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        timed("codes", "prune", || {
            Ok(self.state.lock().map_err(poisoned)?.prune_codes(now))
        })
        .await
    }
}
