//! Every background loop of the server, started from one place ([`start`]): the key
//! lifecycle, pruning and back-channel logout delivery; statistics as they arrive. Each loop reads
//! time from the one [`Clock`], so tests that move a manual clock move the loops too.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use crate::{
    clock::Clock,
    keys::lifecycle::LifecycleHealth,
    oidc::backchannel::{self, Delivery},
    ops::Ops,
    store::{Notice, Stores},
};

/// How often expired codes, dead refresh families, old audit entries and expired hot entries
/// are removed. Every replica prunes: the deletes are idempotent, and a round is cheap when
/// another replica has just done it.
const PRUNE_EVERY: Duration = Duration::from_secs(5 * 60);

/// What the loops need.
pub struct Tasks {
    pub ops: Ops,
    pub clock: Clock,
    /// Run the key lifecycle (not when the key comes from `keys.private_key_file`).
    pub key_lifecycle: bool,
    pub poll: Duration,
    /// Back-channel logout delivery.
    pub delivery: Delivery,
}

/// What the loops report to readiness.
#[derive(Debug, Clone, Default)]
pub struct TaskHealth {
    pub keys: LifecycleHealth,
}

/// Starts every loop on the current runtime.
pub fn start(tasks: Tasks) -> TaskHealth {
    let health = TaskHealth::default();
    tokio::spawn(prune(tasks.ops.stores.clone(), tasks.clock.clone()));
    let hot = tasks.ops.stores.hot.clone();
    let Tasks {
        ops,
        clock,
        key_lifecycle: lifecycle,
        poll,
        delivery,
    } = tasks;
    tokio::spawn(deliver_logouts(delivery, hot));
    let tasks = KeyTasks { ops, clock, poll };
    if lifecycle {
        tokio::spawn(key_lifecycle(tasks, health.keys.clone()));
    }
    health
}

/// What the key lifecycle needs.
struct KeyTasks {
    ops: Ops,
    clock: Clock,
    poll: Duration,
}

/// Runs a lifecycle step every `poll`, and at once when a replica announces a key change.
async fn key_lifecycle(tasks: KeyTasks, health: LifecycleHealth) {
    let mut notices = tasks.ops.stores.hot.subscribe();
    loop {
        tasks
            .ops
            .key_tick_reporting(tasks.clock.now(), &health)
            .await;
        // Woken by a key change (or a missed notice), not by every notice replicas share.
        let wait = async {
            loop {
                match notices.recv().await {
                    Ok(Notice::KeysChanged) | Err(RecvError::Lagged(_)) => return,
                    Ok(_) => {}
                    Err(RecvError::Closed) => {
                        tokio::time::sleep(tasks.poll).await;
                        return;
                    }
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(tasks.poll) => {}
            _ = wait => {}
        }
    }
}

/// Delivers back-channel logout notices: a round every `backchannel_poll_millis`, at once when
/// a replica announces ended sessions, and again straight away while rounds come back full.
async fn deliver_logouts(delivery: Delivery, hot: crate::store::hot::Hot) {
    let poll = Duration::from_millis(delivery.settings.backchannel_poll_millis);
    let mut notices = hot.subscribe();
    loop {
        match delivery.round().await {
            Ok(n) if n == backchannel::BATCH as usize => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "back-channel logout round failed; trying again"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            notice = notices.recv() => {
                if let Err(RecvError::Closed) = notice {
                    tokio::time::sleep(poll).await;
                }
            }
        }
    }
}

/// Prunes every store each [`PRUNE_EVERY`], from the first period on (start-up has enough to
/// do). A failed round is logged and tried again at the next.
async fn prune(stores: Stores, clock: Clock) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        match stores.prune_expired(clock.now()).await {
            Ok(pruned) => tracing::debug!(?pruned, "expired rows pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning failed; trying again next round"),
        }
    }
}
