//! Every background loop of the server, started from one place ([`start`]): the key
//! lifecycle now; pruning, back-channel delivery and statistics as they arrive. Each loop reads
//! time from the one [`Clock`], so tests that move a manual clock move the loops too.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use crate::{clock::Clock, keys::lifecycle::LifecycleHealth, ops::Ops};

/// What the loops need.
pub struct Tasks {
    pub ops: Ops,
    pub clock: Clock,
    /// Run the key lifecycle (not when the key comes from `keys.private_key_file`).
    pub key_lifecycle: bool,
    pub poll: Duration,
}

/// What the loops report to readiness.
#[derive(Debug, Clone, Default)]
pub struct TaskHealth {
    pub keys: LifecycleHealth,
}

/// Starts every loop on the current runtime.
pub fn start(tasks: Tasks) -> TaskHealth {
    let health = TaskHealth::default();
    if tasks.key_lifecycle {
        tokio::spawn(key_lifecycle(tasks, health.keys.clone()));
    }
    health
}

/// Runs a lifecycle step every `poll`, and at once when a replica announces a key change.
async fn key_lifecycle(tasks: Tasks, health: LifecycleHealth) {
    let mut notices = tasks.ops.stores.hot.subscribe();
    loop {
        tasks
            .ops
            .key_tick_reporting(tasks.clock.now(), &health)
            .await;
        tokio::select! {
            _ = tokio::time::sleep(tasks.poll) => {}
            notice = notices.recv() => {
                if let Err(RecvError::Closed) = notice {
                    tokio::time::sleep(tasks.poll).await;
                }
            }
        }
    }
}
