//! The key sets `private_key_jwt` clients registered by URL (`jwks_uri`, RFC 7591 §2), fetched
//! through a [`JwksFetcher`] (the HTTP layer's, which refuses private addresses, redirects and
//! large answers) and cached in each replica:
//!
//! - a set is used for `cache_secs` after it was fetched;
//! - an assertion naming a `kid` the cached set lacks (the client rotated its keys) makes one
//!   refetch, at most one per `refetch_interval_secs` per URI, whatever the number of such
//!   assertions — so a stream of made-up `kid`s costs the client's server one request a
//!   minute, not one each;
//! - a failed fetch is remembered for the same interval, and a set fetched before keeps
//!   serving while its URI is unreachable (the client's keys did not change because its server
//!   is down), until it is `cache_secs` past its time;
//! - at most `CAPACITY` URIs are kept, the least recently fetched dropped first.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use jsonwebtoken::jwk::Jwk;

use super::client_assertion::parse_key_set;

/// How many URIs each replica keeps key sets for.
pub const CAPACITY: usize = 1_000;

/// Why a key set could not be fetched. Never the URI's query or the answer's body.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    /// Not fetched at all: a scheme, an address or a redirect this server does not follow.
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("answered {0}")]
    Status(u16),
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    #[error("not a JWK set")]
    NotAKeySet,
    /// Fetched too recently to be fetched again (a refetch after an unknown `kid`).
    #[error("fetched too recently to fetch again")]
    TooSoon,
}

/// Fetches a JWK set (the HTTP layer implements it).
#[async_trait::async_trait]
pub trait JwksFetcher: Send + Sync {
    async fn fetch(&self, uri: &str) -> Result<serde_json::Value, FetchError>;
}

/// How long sets are kept and how often they may be fetched again.
#[derive(Debug, Clone, Copy)]
pub struct KeySetTimes {
    pub cache: Duration,
    pub refetch_interval: Duration,
}

struct Entry {
    /// The last set fetched, and when.
    keys: Option<(Arc<Vec<Jwk>>, Instant)>,
    /// When the last fetch started (successful or not), if one did.
    attempted: Option<Instant>,
    /// Held while the set is fetched: one fetch per URI at a time, the others wait for it.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

/// Every client's `jwks_uri` key set, as this replica last fetched it.
pub struct ClientKeys {
    fetcher: Arc<dyn JwksFetcher>,
    times: KeySetTimes,
    entries: Mutex<HashMap<String, Entry>>,
}

impl ClientKeys {
    pub fn new(fetcher: Arc<dyn JwksFetcher>, times: KeySetTimes) -> Self {
        Self {
            fetcher,
            times,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves only a cache behind: use it.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached set while fresh.
    fn fresh(&self, uri: &str, now: Instant) -> Option<Arc<Vec<Jwk>>> {
        let entries = self.entries();
        let (keys, at) = entries.get(uri)?.keys.as_ref()?;
        (now.duration_since(*at) < self.times.cache).then(|| Arc::clone(keys))
    }

    /// The URI's fetch lock, its entry made (the least recently fetched dropped when full).
    fn fetch_lock(&self, uri: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut entries = self.entries();
        if !entries.contains_key(uri)
            && entries.len() >= CAPACITY
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.attempted)
                .map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        let entry = entries.entry(uri.to_owned()).or_insert_with(|| Entry {
            keys: None,
            attempted: None,
            fetching: Arc::new(tokio::sync::Mutex::new(())),
        });
        Arc::clone(&entry.fetching)
    }

    /// The key set at `uri`: the cached one while fresh; else fetched, unless it was fetched
    /// within the refetch interval (then the set it has, stale or none).
    pub async fn keys(&self, uri: &str) -> Result<Arc<Vec<Jwk>>, FetchError> {
        if let Some(keys) = self.fresh(uri, Instant::now()) {
            return Ok(keys);
        }
        self.fetch_unless_recent(uri).await
    }

    /// The key set at `uri` fetched again, after an assertion named a `kid` the cached set
    /// lacks — unless it was fetched within the refetch interval: then the set as it is
    /// (another caller's fetch may just have brought the new key).
    pub async fn refetch(&self, uri: &str) -> Result<Arc<Vec<Jwk>>, FetchError> {
        self.fetch_unless_recent(uri).await
    }

    async fn fetch_unless_recent(&self, uri: &str) -> Result<Arc<Vec<Jwk>>, FetchError> {
        let lock = self.fetch_lock(uri);
        // Waiting here for a fetch in flight, whose result the check below then sees.
        let _fetching = lock.lock().await;
        let now = Instant::now();
        let before = {
            let mut entries = self.entries();
            let Some(e) = entries.get_mut(uri) else {
                return Err(FetchError::TooSoon);
            };
            // Fetched within the interval (perhaps by the caller this one waited for): the
            // set as it is.
            if e.attempted
                .is_some_and(|at| now.duration_since(at) < self.times.refetch_interval)
            {
                return e
                    .keys
                    .as_ref()
                    .map(|(k, _)| Arc::clone(k))
                    .ok_or(FetchError::TooSoon);
            }
            e.attempted = Some(now);
            e.keys.clone()
        };
        let fetched = self.fetcher.fetch(uri).await.and_then(|set| {
            if set.get("keys").is_some_and(serde_json::Value::is_array) {
                Ok(Arc::new(parse_key_set(&set)))
            } else {
                Err(FetchError::NotAKeySet)
            }
        });
        match fetched {
            Ok(keys) => {
                if let Some(e) = self.entries().get_mut(uri) {
                    e.keys = Some((Arc::clone(&keys), Instant::now()));
                }
                Ok(keys)
            }
            Err(error) => {
                tracing::warn!(%error, "a client's jwks_uri could not be fetched");
                // The set fetched before serves on while it is not too old: the client's
                // keys did not change because its server is down.
                match before {
                    Some((keys, at)) if now.duration_since(at) < self.times.cache * 2 => Ok(keys),
                    _ => Err(error),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counting {
        calls: AtomicUsize,
        answer: Mutex<Result<serde_json::Value, FetchError>>,
    }

    #[async_trait::async_trait]
    impl JwksFetcher for Counting {
        async fn fetch(&self, _uri: &str) -> Result<serde_json::Value, FetchError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.answer.lock().unwrap().clone()
        }
    }

    fn key(kid: &str) -> serde_json::Value {
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": "TMs4-rAq-oGxcmrnOOjWkVEuuSVoWcgy51SYFOFVsl4"})
    }

    fn setup(answer: Result<serde_json::Value, FetchError>) -> (Arc<Counting>, ClientKeys) {
        let fetcher = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            answer: Mutex::new(answer),
        });
        let keys = ClientKeys::new(
            fetcher.clone(),
            KeySetTimes {
                cache: Duration::from_secs(300),
                refetch_interval: Duration::from_secs(60),
            },
        );
        (fetcher, keys)
    }

    #[tokio::test]
    async fn a_set_is_fetched_once_and_refetched_at_most_once_an_interval() {
        let (fetcher, keys) = setup(Ok(serde_json::json!({"keys": [key("a")]})));
        let uri = "https://client.example/jwks";
        assert_eq!(keys.keys(uri).await.unwrap().len(), 1);
        assert_eq!(keys.keys(uri).await.unwrap().len(), 1);
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1, "cached");
        // An unknown kid: the fetch just happened, so no refetch now; the set as it is.
        assert_eq!(keys.refetch(uri).await.unwrap().len(), 1);
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_fetch_is_remembered_for_the_interval() {
        let (fetcher, keys) = setup(Err(FetchError::Refused("a private address")));
        let uri = "https://10.0.0.1/jwks";
        assert_eq!(
            keys.keys(uri).await,
            Err(FetchError::Refused("a private address"))
        );
        assert_eq!(keys.keys(uri).await, Err(FetchError::TooSoon));
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
    }

    /// A fetcher that answers after a while, counting.
    struct Slow(AtomicUsize);

    #[async_trait::async_trait]
    impl JwksFetcher for Slow {
        async fn fetch(&self, _uri: &str) -> Result<serde_json::Value, FetchError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(serde_json::json!({"keys": [key("a")]}))
        }
    }

    #[tokio::test]
    async fn concurrent_callers_wait_for_the_one_fetch_in_flight() {
        let fetcher = Arc::new(Slow(AtomicUsize::new(0)));
        let keys = ClientKeys::new(
            fetcher.clone(),
            KeySetTimes {
                cache: Duration::from_secs(300),
                refetch_interval: Duration::from_secs(60),
            },
        );
        let uri = "https://client.example/jwks";
        let all = futures_util::future::join_all((0..8).map(|_| keys.keys(uri))).await;
        assert!(
            all.iter().all(|r| r.as_ref().is_ok_and(|k| k.len() == 1)),
            "{all:?}"
        );
        assert_eq!(fetcher.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_stale_set_is_fetched_again_at_most_once_an_interval() {
        let (fetcher, keys) = setup(Ok(serde_json::json!({"keys": [key("a")]})));
        let keys = ClientKeys {
            times: KeySetTimes {
                cache: Duration::ZERO,
                refetch_interval: Duration::from_secs(60),
            },
            ..keys
        };
        let uri = "https://client.example/jwks";
        for _ in 0..5 {
            assert_eq!(keys.keys(uri).await.unwrap().len(), 1);
        }
        assert_eq!(
            fetcher.calls.load(Ordering::SeqCst),
            1,
            "stale at once, but served, not fetched, within the interval"
        );
    }

    #[tokio::test]
    async fn a_set_serves_on_while_its_uri_is_down_until_it_is_twice_its_age() {
        let (fetcher, keys) = setup(Ok(serde_json::json!({"keys": [key("a")]})));
        let keys = ClientKeys {
            times: KeySetTimes {
                cache: Duration::from_millis(100),
                refetch_interval: Duration::ZERO,
            },
            ..keys
        };
        let uri = "https://client.example/jwks";
        assert_eq!(keys.keys(uri).await.unwrap().len(), 1);
        *fetcher.answer.lock().unwrap() = Err(FetchError::Status(503));
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(keys.keys(uri).await.unwrap().len(), 1, "stale, served");
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(
            keys.keys(uri).await,
            Err(FetchError::Status(503)),
            "too old"
        );
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn what_is_not_a_key_set_is_refused() {
        let (_, keys) = setup(Ok(serde_json::json!({"issuer": "x"})));
        assert_eq!(
            keys.keys("https://c.example/j").await,
            Err(FetchError::NotAKeySet)
        );
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let (_, keys) = setup(Ok(serde_json::json!({"keys": []})));
        for i in 0..CAPACITY + 5 {
            keys.keys(&format!("https://c{i}.example/j")).await.unwrap();
        }
        assert_eq!(keys.entries().len(), CAPACITY);
    }
}
