//! The signing keys' operations: list, rotate, revoke, the first key at start-up, and the
//! lifecycle step the background task runs. Which key is in which state lives in the store,
//! so of several replicas exactly one performs each step (the store decides in its
//! transaction), and every replica reloads its snapshot on the notice or at its next poll.

use super::{Actor, Ops, OpsError, Right, require};
use crate::{
    audit::{self, Event},
    clock::UnixTime,
    keys::{
        SigningAlgorithm,
        lifecycle::{self, LifecycleHealth},
    },
    store::{KeyState, Notice, Revoked, StoredKey},
};

impl Ops {
    /// Every stored key.
    pub async fn list_keys(&self, actor: &Actor) -> Result<Vec<StoredKey>, OpsError> {
        require(actor, Right::ManageKeys)?;
        Ok(self.stores.keys.keys().await?)
    }

    /// Starts a rotation: a new key of the configured algorithm, stored as next and active
    /// after the publish delay — or the next key already there (one rotation at a time).
    pub async fn rotate_key(&self, actor: &Actor, now: UnixTime) -> Result<StoredKey, OpsError> {
        require(actor, Right::ManageKeys)?;
        if self.keys_from_file {
            return Err(OpsError::KeysFromFile);
        }
        let candidate = lifecycle::new_row(
            self.lifecycle.algorithm,
            KeyState::Next,
            now,
            Some(now.plus(self.lifecycle.publish_delay())),
        )?;
        let next = self.stores.keys.add_next(candidate.clone()).await?;
        if next.kid == candidate.kid {
            tracing::info!(kid = %next.kid, activates_at = ?next.activates_at, "rotation started: next key published");
            let event = Event::SigningKeyRotationStarted {
                kid: next.kid.clone(),
                alg: next.algorithm.as_str(),
                activates_at: next.activates_at.unwrap_or(now),
            };
            audit::record(self.stores.audit.as_ref(), actor, event, now).await;
            let _ = self.stores.hot.publish(&Notice::KeysChanged).await;
        }
        Ok(next)
    }

    /// Emergency revocation of `kid` (a key that may have leaked): it leaves the JWKS at once,
    /// and when it was the active key the next key — else a new one — signs from now on,
    /// without the publish delay: tokens the revoked key signed stop verifying wherever the
    /// JWKS is fetched anew. That is the point, so no grace is given. Revoking a revoked key
    /// changes nothing.
    pub async fn revoke_key(
        &self,
        actor: &Actor,
        kid: &str,
        now: UnixTime,
    ) -> Result<Revoked, OpsError> {
        require(actor, Right::ManageKeys)?;
        if self.keys_from_file {
            return Err(OpsError::KeysFromFile);
        }
        // Generated before it is known to be needed: the store decides in its transaction.
        let fallback =
            lifecycle::new_row(self.lifecycle.algorithm, KeyState::Active, now, Some(now))?;
        let revoked = self
            .stores
            .keys
            .revoke(kid, now, fallback)
            .await?
            .ok_or_else(|| OpsError::UnknownKey(kid.to_owned()))?;
        if !revoked.already {
            let activated = revoked.activated.as_ref().map(|k| k.kid.as_str());
            tracing::warn!(kid, ?activated, "signing key revoked");
            let event = Event::SigningKeyRevoked {
                kid: kid.to_owned(),
                alg: revoked.key.algorithm.as_str(),
                activated: revoked
                    .activated
                    .as_ref()
                    .map(|a| (a.kid.clone(), a.algorithm.as_str())),
            };
            audit::record(self.stores.audit.as_ref(), actor, event, now).await;
        }
        let _ = self.stores.hot.publish(&Notice::KeysChanged).await;
        // This replica's JWKS drops the key now; the others reload on the notice.
        if let Err(e) = self.reload_keys(now).await {
            tracing::error!(error = %e, "key set not reloaded after a revocation; the next tick retries");
        }
        Ok(revoked)
    }

    /// Makes sure the store has an active key: the stored one, or a new one of `alg` (of
    /// replicas starting together on an empty store, one key wins).
    pub async fn ensure_active_key(
        &self,
        alg: SigningAlgorithm,
        now: UnixTime,
    ) -> Result<(), OpsError> {
        let stored = self.stores.keys.keys().await?;
        if let Some(active) = stored.iter().find(|k| k.state == KeyState::Active) {
            tracing::info!(kid = %active.kid, algorithm = %active.algorithm, "signing with the stored active key");
            return Ok(());
        }
        let candidate = lifecycle::new_row(alg, KeyState::Active, now, None)?;
        let active = self.stores.keys.activate_if_none(candidate.clone()).await?;
        if !self.stores.durable {
            tracing::warn!(
                kid = %active.kid,
                "store.url = \"memory\": the signing key is generated at each start; tokens do not verify after a restart"
            );
        } else if active.kid == candidate.kid {
            tracing::info!(kid = %active.kid, algorithm = %active.algorithm, "created and stored a new active signing key");
            let event = Event::SigningKeyCreated {
                kid: active.kid.clone(),
                alg: active.algorithm.as_str(),
            };
            self.stores
                .audit
                .append(&event.entry(&Actor::System, now))
                .await?;
        }
        Ok(())
    }

    /// Replaces this replica's snapshot with what the store holds now: after a change made
    /// here, rather than at the next tick.
    pub async fn reload_keys(&self, now: UnixTime) -> Result<(), OpsError> {
        if let Some(ring) = &self.ring {
            let stored = self.stores.keys.keys().await?;
            ring.replace(lifecycle::key_set(&stored, now)?);
        }
        Ok(())
    }

    /// One lifecycle pass: scheduled rotation, promotion when due, removal of expired keys,
    /// and a reload of the snapshot when the store's keys differ from it.
    pub async fn key_tick(&self, now: UnixTime) -> Result<(), OpsError> {
        let keys = &self.stores.keys;
        let mut stored = keys.keys().await?;
        if lifecycle::rotation_due(&stored, &self.lifecycle, now) {
            self.rotate_key(&Actor::System, now).await?;
            stored = keys.keys().await?;
        }
        let promoted = keys.promote_due(now, self.lifecycle.retire_for).await?;
        let removed = keys.remove_expired(now).await?;
        if promoted || removed > 0 {
            if promoted {
                tracing::info!("next signing key activated; the previous one retired");
            }
            let _ = self.stores.hot.publish(&Notice::KeysChanged).await;
            stored = keys.keys().await?;
        }
        if let Some(ring) = &self.ring
            && !lifecycle::is_current(&ring.current(), &stored, now)
        {
            ring.replace(lifecycle::key_set(&stored, now)?);
            let active = stored.iter().find(|k| k.state == KeyState::Active);
            tracing::info!(active = ?active.map(|k| &k.kid), "signing key set reloaded");
        }
        Ok(())
    }

    /// [`Self::key_tick`], with `health` following its outcome.
    pub async fn key_tick_reporting(&self, now: UnixTime, health: &LifecycleHealth) {
        match self.key_tick(now).await {
            Ok(()) => health.set(true),
            Err(e) => {
                health.set(false);
                tracing::warn!(error = %e, "key lifecycle step failed; not ready until one succeeds");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{keys::lifecycle::Lifecycle, store::Stores};

    fn ops() -> Ops {
        let lifecycle = Lifecycle {
            algorithm: SigningAlgorithm::ES256,
            jwks_max_age_secs: 60,
            poll: Duration::from_secs(5),
            rotate_after_secs: None,
            retire_for: Duration::from_secs(120),
        };
        Ops::new(Stores::memory(), lifecycle, false)
    }

    #[tokio::test]
    async fn a_client_may_not_touch_the_keys_and_each_change_is_audited_with_its_actor() {
        let ops = ops();
        let now = UnixTime::from_secs(1_000);
        ops.ensure_active_key(SigningAlgorithm::ES256, now)
            .await
            .unwrap();
        let client = Actor::Client("c".to_owned());
        assert!(matches!(
            ops.rotate_key(&client, now).await,
            Err(OpsError::Forbidden)
        ));
        assert!(matches!(
            ops.list_keys(&client).await,
            Err(OpsError::Forbidden)
        ));
        let next = ops.rotate_key(&Actor::Cli, now).await.unwrap();
        assert_eq!(next.activates_at, Some(now.plus_secs(65)));
        let revoked = ops
            .revoke_key(&Actor::AdminToken, &next.kid, now)
            .await
            .unwrap();
        assert!(!revoked.already);
        let log = ops.stores.audit.recent(10).await.unwrap();
        let kinds: Vec<_> = log
            .iter()
            .map(|e| (e.event.as_str(), e.actor.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("signing_key_revoked", "admin_token"),
                ("signing_key_rotation_started", "cli")
            ]
        );
    }

    #[tokio::test]
    async fn a_scheduled_rotation_is_due_only_once_the_active_key_is_old_enough() {
        let mut ops = ops();
        ops.lifecycle.rotate_after_secs = Some(3_600);
        let start = UnixTime::from_secs(10_000);
        ops.ensure_active_key(SigningAlgorithm::ES256, start)
            .await
            .unwrap();
        let next_count =
            |keys: Vec<StoredKey>| keys.iter().filter(|k| k.state == KeyState::Next).count();
        ops.key_tick(start.plus_secs(3_599)).await.unwrap();
        assert_eq!(next_count(ops.list_keys(&Actor::System).await.unwrap()), 0);
        ops.key_tick(start.plus_secs(3_600)).await.unwrap();
        assert_eq!(next_count(ops.list_keys(&Actor::System).await.unwrap()), 1);
    }
}
