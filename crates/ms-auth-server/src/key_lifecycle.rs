//! Signing keys without downtime. A new key is first **next**: published in the JWKS but not
//! signing, for longer than any cache may keep the old JWKS (`keys.jwks_max_age_secs`) plus
//! the time replicas take to notice (`keys.poll_secs`); then it becomes **active** and the old
//! one **retired**, still published until every token it signed has expired; then it is
//! removed. Which key is in which state lives in the store, so of several replicas exactly one
//! performs each step; every replica reloads the set on a notice or at the next poll. A key
//! that may have leaked is **revoked** instead: withdrawn from the JWKS at once, with the next
//! key (or a new one) active in its place without the publish delay (F13).

use std::{sync::Arc, time::Duration};

use actix_web::web;
use tokio::sync::broadcast::error::RecvError;

use crate::{
    oauth::{
        keys::{KeyError, KeySet, SigningAlgorithm, SigningKey},
        server::AuthorizationServer,
    },
    store::{KeyState, Notice, Revoked, StoreError, StoredKey, Stores, grants::AuditEvent},
};

/// The `[keys]` settings that drive rotation.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    pub algorithm: SigningAlgorithm,
    pub jwks_max_age_secs: u64,
    pub poll: Duration,
    /// Rotate automatically once the active key is this old.
    pub rotate_after_secs: Option<u64>,
}

impl Lifecycle {
    /// How long a next key is published before it signs: derived from the JWKS max-age, so
    /// that every cache that honours it has seen the key first.
    pub fn publish_delay_secs(&self) -> i64 {
        (self.jwks_max_age_secs + self.poll.as_secs().max(1)) as i64
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
    #[error("no signing key has kid {0:?}")]
    UnknownKey(String),
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A new key of `lifecycle.algorithm`, stored as next and active after the publish delay (or
/// the next key already there: one rotation at a time).
pub async fn rotate(stores: &Stores, lifecycle: &Lifecycle) -> Result<StoredKey, LifecycleError> {
    let key = SigningKey::generate(lifecycle.algorithm)?;
    let now = now();
    let next = stores
        .keys
        .add_next(StoredKey {
            kid: key.kid().to_owned(),
            algorithm: lifecycle.algorithm,
            state: KeyState::Next,
            private_key_pem: key.to_pkcs8_pem()?,
            created_at: now,
            activates_at: Some(now + lifecycle.publish_delay_secs()),
            publish_until: None,
        })
        .await?;
    if next.kid == key.kid() {
        tracing::info!(kid = %next.kid, activates_at = ?next.activates_at, "rotation started: next key published");
        let _ = stores.hot.publish(&Notice::KeysChanged).await;
    }
    Ok(next)
}

/// Emergency revocation of `kid` (a key that may have leaked): it leaves the JWKS at once, and
/// when it was the active key the next key — else a new one of `lifecycle.algorithm` — signs
/// from now on, without the publish delay: tokens the revoked key signed stop verifying
/// wherever the JWKS is fetched anew. That is the point, so no grace is given. Audited
/// (`signing_key_revoked`), and every replica is told to reload; revoking a revoked key
/// changes nothing.
pub async fn revoke(
    stores: &Stores,
    lifecycle: &Lifecycle,
    kid: &str,
) -> Result<Revoked, LifecycleError> {
    let now = now();
    // Generated before it is known to be needed: the store decides in its transaction.
    let fresh = SigningKey::generate(lifecycle.algorithm)?;
    let fallback = StoredKey {
        kid: fresh.kid().to_owned(),
        algorithm: lifecycle.algorithm,
        state: KeyState::Active,
        private_key_pem: fresh.to_pkcs8_pem()?,
        created_at: now,
        activates_at: Some(now),
        publish_until: None,
    };
    let revoked = stores
        .keys
        .revoke(kid, now, fallback)
        .await?
        .ok_or_else(|| LifecycleError::UnknownKey(kid.to_owned()))?;
    if !revoked.already {
        let activated = revoked.activated.as_ref().map(|k| k.kid.as_str());
        tracing::warn!(kid, ?activated, "signing key revoked");
        let detail = match &revoked.activated {
            Some(a) => format!(
                "kid {kid} ({}); kid {} ({}) active in its place",
                revoked.key.algorithm, a.kid, a.algorithm
            ),
            None => format!("kid {kid} ({})", revoked.key.algorithm),
        };
        let entry = AuditEvent {
            at: now,
            event: "signing_key_revoked".to_owned(),
            client_id: None,
            subject: None,
            detail,
        };
        // The revocation took effect and is recorded in its row; a lost audit entry must not
        // read as a failed revocation.
        if let Err(e) = stores.audit.append(&entry).await {
            tracing::error!(error = %e, kid, "signing key revoked, but its audit entry was not written");
        }
    }
    let _ = stores.hot.publish(&Notice::KeysChanged).await;
    Ok(revoked)
}

/// Replaces `server`'s snapshot with what the store holds now: after a change this replica
/// made itself, rather than at its next tick.
pub async fn reload(server: &AuthorizationServer, stores: &Stores) -> Result<(), LifecycleError> {
    let stored = stores.keys.keys().await?;
    server.keys.replace(key_set(&stored, now())?);
    Ok(())
}

/// The snapshot the stored keys describe at `now`: the active key signs; next and retired
/// keys still in their publication period are published beside it.
pub fn key_set(stored: &[StoredKey], now: i64) -> Result<KeySet, LifecycleError> {
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
    Ok(KeySet::with_published(parse(active)?, others)?)
}

/// Whether `k` belongs in the JWKS at `now`: next and active keys, retired ones until their
/// time, never a revoked one.
fn published(k: &StoredKey, now: i64) -> bool {
    match k.state {
        KeyState::Next | KeyState::Active => true,
        KeyState::Retired => k.publish_until.is_none_or(|t| t > now),
        KeyState::Revoked => false,
    }
}

/// What a snapshot would publish, to tell whether the current one is stale.
fn published_kids(stored: &[StoredKey], now: i64) -> Vec<String> {
    let mut kids: Vec<String> = stored
        .iter()
        .filter(|k| published(k, now))
        .map(|k| k.kid.clone())
        .collect();
    kids.sort();
    kids
}

/// One pass: scheduled rotation, promotion when due, removal of expired keys, and a reload of
/// the snapshot when the store's keys differ from it.
pub async fn tick(
    server: &AuthorizationServer,
    stores: &Stores,
    lifecycle: &Lifecycle,
) -> Result<(), LifecycleError> {
    let now = now();
    let mut stored = stores.keys.keys().await?;
    let active = stored.iter().find(|k| k.state == KeyState::Active);
    let has_next = stored.iter().any(|k| k.state == KeyState::Next);
    if let (Some(after), Some(active)) = (lifecycle.rotate_after_secs, active)
        && !has_next
        && active.created_at + after as i64 <= now
    {
        rotate(stores, lifecycle).await?;
        stored = stores.keys.keys().await?;
    }
    let retire_for = retire_for(stores).await?;
    let promoted = stores.keys.promote_due(now, retire_for).await?;
    let removed = stores.keys.remove_expired(now).await?;
    if promoted || removed > 0 {
        if promoted {
            tracing::info!("next signing key activated; the previous one retired");
        }
        let _ = stores.hot.publish(&Notice::KeysChanged).await;
        stored = stores.keys.keys().await?;
    }
    let current = server.keys.current();
    let mut kids = current.kids().to_vec();
    kids.sort();
    let active_kid = stored
        .iter()
        .find(|k| k.state == KeyState::Active)
        .map(|k| k.kid.as_str());
    if kids != published_kids(&stored, now) || active_kid != Some(current.active().kid()) {
        server.keys.replace(key_set(&stored, now)?);
        tracing::info!(active = ?active_kid, "signing key set reloaded");
    }
    Ok(())
}

/// How long a retired key stays published: the longest access-token lifetime of any client,
/// plus a minute for resource servers' clock leeway.
async fn retire_for(stores: &Stores) -> Result<i64, StoreError> {
    let longest = stores
        .clients
        .all()
        .await?
        .iter()
        .map(|c| c.access_token_ttl.as_secs())
        .max()
        .unwrap_or(3600);
    Ok(longest as i64 + 60)
}

/// Whether the last lifecycle step succeeded: readiness reports a replica whose keys it
/// cannot load (another `store.encryption_key`, an unreadable row) instead of letting it serve
/// a stale key set.
#[derive(Debug, Clone)]
pub struct LifecycleHealth(Arc<std::sync::atomic::AtomicBool>);

impl Default for LifecycleHealth {
    fn default() -> Self {
        Self(Arc::new(std::sync::atomic::AtomicBool::new(true)))
    }
}

impl LifecycleHealth {
    pub fn is_up(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set(&self, up: bool) {
        self.0.store(up, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs [`tick`] every `poll`, and at once when a replica announces a key change; `health`
/// follows the outcome of each step.
pub fn spawn(
    server: web::Data<AuthorizationServer>,
    stores: Stores,
    lifecycle: Lifecycle,
    health: LifecycleHealth,
) {
    let server: Arc<AuthorizationServer> = server.into_inner();
    let mut notices = stores.hot.subscribe();
    tokio::spawn(async move {
        loop {
            match tick(&server, &stores, &lifecycle).await {
                Ok(()) => health.set(true),
                Err(e) => {
                    health.set(false);
                    tracing::warn!(error = %e, "key lifecycle step failed; not ready until one succeeds");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(lifecycle.poll) => {}
                notice = notices.recv() => {
                    if let Err(RecvError::Closed) = notice {
                        tokio::time::sleep(lifecycle.poll).await;
                    }
                }
            }
        }
    });
}
