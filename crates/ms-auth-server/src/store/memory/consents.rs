//! [`ConsentStore`] in memory: one lock, so a grant's union is atomic.
use std::{collections::BTreeMap, sync::Mutex};

use super::{poisoned, timed};
use crate::{
    clock::UnixTime,
    store::{Consent, ConsentStore, StoreError, consents::scope_union},
};

/// Consents in memory, by user and client.
#[derive(Debug, Default)]
pub struct MemoryConsentStore {
    state: Mutex<BTreeMap<(String, String), Consent>>,
}

#[async_trait::async_trait]
impl ConsentStore for MemoryConsentStore {
    async fn grant_consent(
        &self,
        user_id: &str,
        client_id: &str,
        scope: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        timed("consents", "grant", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            let key = (user_id.to_owned(), client_id.to_owned());
            let before = s.get(&key).map(|c| c.scope.as_str());
            let scope = scope_union(before.unwrap_or(""), scope);
            s.insert(
                key,
                Consent {
                    user_id: user_id.to_owned(),
                    client_id: client_id.to_owned(),
                    scope,
                    granted_at: now,
                },
            );
            Ok(())
        })
        .await
    }

    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<Consent>, StoreError> {
        timed("consents", "get", || {
            let s = self.state.lock().map_err(poisoned)?;
            Ok(s.get(&(user_id.to_owned(), client_id.to_owned())).cloned())
        })
        .await
    }

    async fn consents_of(&self, user_id: &str) -> Result<Vec<Consent>, StoreError> {
        timed("consents", "of_user", || {
            let s = self.state.lock().map_err(poisoned)?;
            Ok(s.values()
                .filter(|c| c.user_id == user_id)
                .cloned()
                .collect())
        })
        .await
    }

    async fn revoke_consent(&self, user_id: &str, client_id: &str) -> Result<bool, StoreError> {
        timed("consents", "revoke", || {
            let mut s = self.state.lock().map_err(poisoned)?;
            Ok(s.remove(&(user_id.to_owned(), client_id.to_owned()))
                .is_some())
        })
        .await
    }
}
