//! [`RefreshTokenStore`] in memory.
use super::{
    grants::{MemoryGrants, RefreshRow},
    poisoned, timed,
};
use crate::{
    clock::UnixTime,
    store::{
        FamilyRevoked, IssuedAccess, RefreshGrant, RefreshTokenStore, Rotation, StoreError,
        refresh::Successor,
    },
};

#[async_trait::async_trait]
impl RefreshTokenStore for MemoryGrants {
    async fn put_refresh(&self, token_hash: &str, grant: &RefreshGrant) -> Result<(), StoreError> {
        timed("refresh", "put", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            s.refresh
                .insert(token_hash.to_owned(), RefreshRow::new(grant.clone()));
            Ok(())
        })
        .await
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        successor: Successor<'_>,
        grace_until: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        timed("refresh", "rotate", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            Ok(s.rotate(old_hash, successor, grace_until, now))
        })
        .await
    }

    async fn refresh(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, StoreError> {
        timed("refresh", "get", || {
            let s = self.state.lock().map_err(poisoned)?;
            Ok(s.refresh
                .get(token_hash)
                .filter(|r| r.is_live(now))
                .map(|r| r.grant.clone()))
        })
        .await
    }

    async fn family_access(
        &self,
        family_id: &str,
        now: UnixTime,
    ) -> Result<Vec<IssuedAccess>, StoreError> {
        timed("refresh", "family_access", || {
            Ok(self
                .state
                .lock()
                .map_err(poisoned)?
                .live_access(family_id, now))
        })
        .await
    }

    async fn revoke_family(
        &self,
        family_id: &str,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError> {
        timed("refresh", "revoke_family", || {
            Ok(self
                .state
                .lock()
                .map_err(poisoned)?
                .revoke_family(family_id, now))
        })
        .await
    }

    async fn revoke_user_families(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError> {
        timed("refresh", "revoke_user_families", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            Ok(s.revoke_families_where(
                |user, client, _| user == Some(user_id) && client_id.is_none_or(|c| c == client),
                now,
            ))
        })
        .await
    }

    async fn revoke_client_families(
        &self,
        client_id: &str,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError> {
        timed("refresh", "revoke_client_families", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            Ok(s.revoke_families_where(|_, client, _| client == client_id, now))
        })
        .await
    }

    async fn revoke_session_families(
        &self,
        session_id: &str,
        now: UnixTime,
    ) -> Result<FamilyRevoked, StoreError> {
        timed("refresh", "revoke_session_families", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            // A code's session is where it was issued; an offline family outlives it.
            Ok(s.revoke_families_started(
                |_, _, session, code_scope| {
                    session == Some(session_id) && code_scope.is_none_or(|s| !is_offline(s))
                },
                now,
            ))
        })
        .await
    }

    async fn record_access(
        &self,
        family_id: &str,
        access: &IssuedAccess,
    ) -> Result<(), StoreError> {
        timed("refresh", "record_access", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            s.record_access(family_id, access);
            Ok(())
        })
        .await
    }

    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        timed("refresh", "prune", || {
            Ok(self.state.lock().map_err(poisoned)?.prune_refresh(now))
        })
        .await
    }
}

/// Whether a code's space-separated scope holds `offline_access` (OIDC Core §11).
fn is_offline(scope: &str) -> bool {
    scope.split(' ').any(|s| s == "offline_access")
}
