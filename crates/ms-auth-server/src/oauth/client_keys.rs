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
    /// The last fetch started (successful or not).
    attempted: Instant,
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

    /// The key set at `uri`: the cached one while fresh, else fetched.
    pub async fn keys(&self, uri: &str) -> Result<Arc<Vec<Jwk>>, FetchError> {
        let now = Instant::now();
        {
            let entries = self.entries();
            if let Some(e) = entries.get(uri) {
                match &e.keys {
                    Some((keys, at)) if now.duration_since(*at) < self.times.cache => {
                        return Ok(Arc::clone(keys));
                    }
                    // A failed fetch is not retried within the interval.
                    None if now.duration_since(e.attempted) < self.times.refetch_interval => {
                        return Err(FetchError::TooSoon);
                    }
                    _ => {}
                }
            }
        }
        self.fetch(uri, now, false).await
    }

    /// The key set at `uri` fetched again, after an assertion named a `kid` the cached set
    /// lacks: [`FetchError::TooSoon`] within the refetch interval of the last fetch.
    pub async fn refetch(&self, uri: &str) -> Result<Arc<Vec<Jwk>>, FetchError> {
        self.fetch(uri, Instant::now(), true).await
    }

    async fn fetch(
        &self,
        uri: &str,
        now: Instant,
        only_after_interval: bool,
    ) -> Result<Arc<Vec<Jwk>>, FetchError> {
        {
            let mut entries = self.entries();
            if let Some(e) = entries.get_mut(uri) {
                if only_after_interval
                    && now.duration_since(e.attempted) < self.times.refetch_interval
                {
                    return Err(FetchError::TooSoon);
                }
                // Marked before the fetch, so that concurrent callers do not fetch too.
                e.attempted = now;
            } else {
                if entries.len() >= CAPACITY
                    && let Some(oldest) = entries
                        .iter()
                        .min_by_key(|(_, e)| e.attempted)
                        .map(|(k, _)| k.clone())
                {
                    entries.remove(&oldest);
                }
                entries.insert(
                    uri.to_owned(),
                    Entry {
                        keys: None,
                        attempted: now,
                    },
                );
            }
        }
        let fetched = self.fetcher.fetch(uri).await.and_then(|set| {
            if set.get("keys").is_some_and(serde_json::Value::is_array) {
                Ok(Arc::new(parse_key_set(&set)))
            } else {
                Err(FetchError::NotAKeySet)
            }
        });
        let mut entries = self.entries();
        let entry = entries.get_mut(uri);
        match (fetched, entry) {
            (Ok(keys), Some(e)) => {
                e.keys = Some((Arc::clone(&keys), Instant::now()));
                Ok(keys)
            }
            (Ok(keys), None) => Ok(keys),
            (Err(error), entry) => {
                tracing::warn!(%error, "a client's jwks_uri could not be fetched");
                // The set fetched before serves on while it is not too old.
                match entry.and_then(|e| e.keys.clone()) {
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
        // An unknown kid: the fetch just happened, so no refetch now.
        assert_eq!(keys.refetch(uri).await, Err(FetchError::TooSoon));
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
