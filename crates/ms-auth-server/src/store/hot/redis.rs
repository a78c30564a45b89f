//! [`HotState`] on Redis: `SET … EX` for the denylist, `SET … NX EX` for the replay set,
//! `INCR` + `EXPIRE` in one transaction for rate limits, `SET … PX` / `GET` / `GETDEL` (Redis
//! 6.2+) for values, and `PUBLISH` / `SUBSCRIBE` on one channel for notices. The connection manager reconnects by itself; every call is bounded,
//! so an outage is an `Unavailable` error, never a hang.
use crate::clock::UnixTime;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use redis::{
    AsyncCommands, Client,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use tokio::sync::broadcast;

use super::{HotState, Notice};
use crate::store::StoreError;

const CHANNEL: &str = "ms-auth-server:notices";

fn key(kind: &str, id: &str) -> String {
    format!("ms-auth-server:{kind}:{id}")
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("redis: {e}"))
}

pub struct RedisHot {
    conn: ConnectionManager,
    /// How long one operation may take (`redis.timeout_ms`).
    limit: Duration,
    notices: broadcast::Sender<Notice>,
    /// 0 while not subscribed, else the subscription's number.
    live: Arc<AtomicU64>,
}

#[derive(Debug, thiserror::Error)]
#[error("`redis.url` {url}: {reason}")]
pub struct RedisOpenError {
    pub url: String,
    pub reason: String,
}

impl RedisHot {
    /// Connects lazily (start-up does not wait for Redis; readiness does) and starts the
    /// notice listener, which resubscribes after every outage.
    pub fn open(url: &str, timeout: Duration) -> Result<Self, RedisOpenError> {
        let shown = service_kit::sql::redacted_url(url);
        let failed = |e: redis::RedisError| RedisOpenError {
            url: shown.clone(),
            reason: e.to_string(),
        };
        let client = Client::open(url).map_err(failed)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn =
            ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(failed)?;
        let notices = broadcast::channel(1024).0;
        let live = Arc::new(AtomicU64::new(0));
        tokio::spawn(listen(client, notices.clone(), Arc::clone(&live)));
        Ok(Self {
            conn,
            limit: timeout,
            notices,
            live,
        })
    }
}

impl RedisHot {
    /// Runs one command (or transaction), bounded and timed (`store="hot"`).
    async fn run<T>(
        &self,
        op: &'static str,
        call: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        crate::store::bounded_and_timed("hot", op, self.limit, call).await
    }
}

/// Subscribes, forwards notices, and on any break marks the cache-safety flag down,
/// waits a moment and subscribes again. Ends after a break once the store is dropped.
async fn listen(client: Client, out: broadcast::Sender<Notice>, live: Arc<AtomicU64>) {
    let mut subscription = 0u64;
    loop {
        if let Ok(Ok(mut pubsub)) =
            tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub()).await
            && pubsub.subscribe(CHANNEL).await.is_ok()
        {
            subscription += 1;
            live.store(subscription, Ordering::SeqCst);
            let mut messages = pubsub.on_message();
            while let Some(msg) = messages.next().await {
                let parsed = msg
                    .get_payload::<String>()
                    .ok()
                    .and_then(|p| serde_json::from_str::<Notice>(&p).ok());
                if let Some(notice) = parsed {
                    let _ = out.send(notice);
                }
            }
        }
        // Notices may have been missed: caches must not be trusted until resubscribed.
        live.store(0, Ordering::SeqCst);
        if Arc::strong_count(&live) == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn ttl(until: UnixTime, now: UnixTime) -> u64 {
    now.until(until).as_secs().max(1)
}

#[async_trait::async_trait]
impl HotState for RedisHot {
    async fn deny(&self, jti: &str, until: UnixTime, now: UnixTime) -> Result<(), StoreError> {
        self.run("deny", async {
            if until <= now {
                return Ok(());
            }
            let mut c = self.conn.clone();
            c.set_ex::<_, _, ()>(key("deny", jti), 1, ttl(until, now))
                .await
                .map_err(unavailable)
        })
        .await
    }

    async fn is_denied(&self, jti: &str, _now: UnixTime) -> Result<bool, StoreError> {
        self.run("is_denied", async {
            let mut c = self.conn.clone();
            c.exists(key("deny", jti)).await.map_err(unavailable)
        })
        .await
    }

    async fn first_use(
        &self,
        id: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        self.run("first_use", async {
            let mut c = self.conn.clone();
            let set: Option<String> = redis::cmd("SET")
                .arg(key("jti", id))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(ttl(until, now))
                .query_async(&mut c)
                .await
                .map_err(unavailable)?;
            Ok(set.is_some())
        })
        .await
    }

    async fn count(&self, id: &str, window_secs: u64, now: UnixTime) -> Result<u64, StoreError> {
        self.run("count", async {
            let k = key("rate", &format!("{id}:{}", now.window(window_secs).0));
            let mut c = self.conn.clone();
            let (n,): (u64,) = redis::pipe()
                .atomic()
                .incr(&k, 1u64)
                .expire(
                    &k,
                    i64::try_from(window_secs.max(1))
                        .unwrap_or(i64::MAX)
                        .saturating_add(1),
                )
                .ignore()
                .query_async(&mut c)
                .await
                .map_err(unavailable)?;
            Ok(n)
        })
        .await
    }

    async fn counts(
        &self,
        ids: &[&str],
        window_secs: u64,
        now: UnixTime,
    ) -> Result<Vec<u64>, StoreError> {
        self.run("counts", async {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let window = now.window(window_secs).0;
            let keys: Vec<String> = ids
                .iter()
                .map(|id| key("rate", &format!("{id}:{window}")))
                .collect();
            let mut c = self.conn.clone();
            let values: Vec<Option<u64>> = redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut c)
                .await
                .map_err(unavailable)?;
            Ok(values.into_iter().map(Option::unwrap_or_default).collect())
        })
        .await
    }

    async fn put_value(
        &self,
        id: &str,
        value: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.run("put_value", async {
            let mut c = self.conn.clone();
            if until <= now {
                return c.del::<_, ()>(key("value", id)).await.map_err(unavailable);
            }
            let millis = u64::try_from(now.until(until).as_millis()).unwrap_or(u64::MAX);
            c.pset_ex::<_, _, ()>(key("value", id), value, millis)
                .await
                .map_err(unavailable)
        })
        .await
    }

    /// Redis expires the key itself (`PX`): what it returns is live.
    async fn get_value(&self, id: &str, _now: UnixTime) -> Result<Option<String>, StoreError> {
        self.run("get_value", async {
            let mut c = self.conn.clone();
            c.get(key("value", id)).await.map_err(unavailable)
        })
        .await
    }

    async fn take_value(&self, id: &str, _now: UnixTime) -> Result<Option<String>, StoreError> {
        self.run("take_value", async {
            let mut c = self.conn.clone();
            c.get_del(key("value", id)).await.map_err(unavailable)
        })
        .await
    }

    async fn delete_value(&self, id: &str) -> Result<(), StoreError> {
        self.run("delete_value", async {
            let mut c = self.conn.clone();
            c.del::<_, ()>(key("value", id)).await.map_err(unavailable)
        })
        .await
    }

    async fn publish(&self, notice: &Notice) -> Result<(), StoreError> {
        self.run("publish", async {
            let payload =
                serde_json::to_string(notice).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut c = self.conn.clone();
            c.publish::<_, _, ()>(CHANNEL, payload)
                .await
                .map_err(unavailable)
        })
        .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    fn listening(&self) -> Option<u64> {
        Some(self.live.load(Ordering::SeqCst)).filter(|n| *n > 0)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Redis drops each entry itself at its TTL (`EX`, `EXPIRE`): nothing to do.
    async fn prune_expired(&self, _now: UnixTime) -> Result<u64, StoreError> {
        Ok(0)
    }
}

#[async_trait::async_trait]
impl crate::store::Probe for RedisHot {
    async fn ping(&self) -> Result<(), StoreError> {
        HotState::ping(self).await
    }
}
