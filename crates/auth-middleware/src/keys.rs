//! The issuer's public keys: the cache that fetches the snapshot ([`KeySet`], in `keyset.rs`)
//! — in the background, and once more for an unknown `kid`, rate-limited.

use std::{
    sync::{
        Arc, Mutex, RwLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use jsonwebtoken::jwk::JwkSet;
use tracing::Instrument;

pub use crate::keyset::{ALLOWED_ALGORITHMS, KeySet, VerifyKey};
use crate::{settings::VerifierSettings, transport, unknown_kids::UnknownKids};

/// Largest JWKS or metadata document read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("request to {url} failed: {reason}")]
    Http { url: String, reason: String },
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url} sent more than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge { url: String },
    #[error("{url} sent an unreadable document: {reason}")]
    Document { url: String, reason: String },
    #[error(
        "metadata at {url} names issuer {found:?}, not the configured {expected:?} (RFC 8414 §3.3)"
    )]
    IssuerMismatch {
        url: String,
        expected: String,
        found: String,
    },
    #[error("metadata at {url}, fetched over https, names a plain http jwks_uri {jwks_uri:?}")]
    Downgrade { url: String, jwks_uri: String },
    #[error("the JWKS at {url} holds no usable signing key")]
    NoUsableKey { url: String },
}

/// The key set in memory, refreshed in the background and on demand.
pub struct KeyCache {
    settings: Arc<VerifierSettings>,
    http: reqwest::Client,
    current: RwLock<Arc<KeySet>>,
    /// The JWKS URL once configured or discovered.
    jwks_url: RwLock<Option<String>>,
    /// Serialises fetches: concurrent requests for one unknown `kid` share a single fetch.
    fetch_lock: tokio::sync::Mutex<()>,
    last_fetch: Mutex<Option<Instant>>,
    /// Kids a refetch did not bring, refused without another fetch for a while.
    unknown_kids: Mutex<UnknownKids>,
    fetches: AtomicU64,
    failures: AtomicU64,
    /// The JWKS's `Cache-Control: max-age` at the last fetch (0: none given).
    max_age_secs: AtomicU64,
}

impl KeyCache {
    pub fn new(settings: Arc<VerifierSettings>) -> Result<Self, reqwest::Error> {
        let timeout = Duration::from_secs(settings.fetch_timeout_secs.max(1));
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(transport::redirect_policy())
            .build()?;
        let jwks_url = RwLock::new(settings.jwks_url.clone());
        let unknown_kids = Mutex::new(UnknownKids::new(settings.min_refetch_interval()));
        Ok(Self {
            settings,
            http,
            current: RwLock::new(Arc::new(KeySet::default())),
            jwks_url,
            fetch_lock: tokio::sync::Mutex::new(()),
            last_fetch: Mutex::new(None),
            unknown_kids,
            fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            max_age_secs: AtomicU64::new(0),
        })
    }

    /// The keys now in use (no network).
    pub fn current(&self) -> Arc<KeySet> {
        self.current
            .read()
            .map(|k| Arc::clone(&k))
            .unwrap_or_default()
    }

    /// Installs a key set obtained elsewhere (static keys, tests, benchmarks).
    pub fn install(&self, keys: KeySet) {
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(keys);
        }
    }

    /// How many fetches were attempted, and how many failed.
    pub fn fetch_counts(&self) -> (u64, u64) {
        (
            self.fetches.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed),
        )
    }

    /// Fetches the key set now and installs it.
    pub async fn refresh(&self) -> Result<(), FetchError> {
        let _guard = self.fetch_lock.lock().await;
        self.fetch_locked().await
    }

    async fn fetch_locked(&self) -> Result<(), FetchError> {
        if let Ok(mut last) = self.last_fetch.lock() {
            *last = Some(Instant::now());
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch_key_set().await;
        match result {
            Ok(set) => {
                tracing::debug!(keys = set.len(), "key set refreshed");
                metrics::counter!("jwks_fetches_total", "outcome" => "ok").increment(1);
                if let Ok(mut current) = self.current.write() {
                    // An unchanged set keeps its `Arc`: the token cache follows the pointer.
                    if !current.same_keys(&set) {
                        *current = Arc::new(set);
                    }
                }
                Ok(())
            }
            Err(e) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("jwks_fetches_total", "outcome" => "error").increment(1);
                tracing::warn!(error = %e, "fetching the issuer's keys failed");
                Err(e)
            }
        }
    }

    /// For a `kid` missing from `seen`: refetch once, unless another request already did
    /// since `seen` was read, or a fetch happened less than `min_refetch_interval` ago.
    /// True when a newer key set is now in place.
    pub async fn refetch_for(&self, seen: &Arc<KeySet>) -> bool {
        let _guard = self.fetch_lock.lock().await;
        if !Arc::ptr_eq(&self.current(), seen) {
            return true;
        }
        let recent = self
            .last_fetch
            .lock()
            .ok()
            .and_then(|l| *l)
            .is_some_and(|t| t.elapsed() < self.settings.min_refetch_interval());
        if recent {
            return false;
        }
        self.fetch_locked().await.is_ok() && !Arc::ptr_eq(&self.current(), seen)
    }

    /// [`KeyCache::refetch_for`] for a token whose `kid` is missing from `seen`. A kid that a
    /// refetch did not bring is remembered for `min_refetch_interval` and refused at once,
    /// without waiting on the fetch lock, so repeating it costs nothing.
    pub async fn refetch_for_kid(&self, seen: &Arc<KeySet>, kid: &str) -> bool {
        let known_absent = self
            .unknown_kids
            .lock()
            .is_ok_and(|u| u.contains(kid, Instant::now()));
        if known_absent {
            return false;
        }
        let found = self.refetch_for(seen).await;
        if !found && let Ok(mut unknown) = self.unknown_kids.lock() {
            unknown.insert(kid, Instant::now());
        }
        found
    }

    /// Refreshes in the background: every `refresh_interval`, and every second while no key
    /// set has been fetched yet. Stops when the cache is dropped.
    pub fn spawn_refresher(self: &Arc<Self>) {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(cache) = weak.upgrade() else { return };
                let _ = cache.refresh().await;
                let wait = if cache.current().is_empty() {
                    Duration::from_secs(1)
                } else {
                    cache.refresh_wait()
                };
                drop(cache);
                tokio::time::sleep(wait).await;
            }
        });
    }

    /// Until the next background refresh: the configured interval, or sooner when the issuer's
    /// `Cache-Control: max-age` says the set may change sooner (a key published ahead of its
    /// use is then known before it signs).
    pub fn refresh_wait(&self) -> Duration {
        let configured = self.settings.refresh_interval();
        match self.max_age_secs.load(Ordering::Relaxed) {
            0 => configured,
            max_age => configured.min(Duration::from_secs(max_age.max(1))),
        }
    }

    async fn fetch_key_set(&self) -> Result<KeySet, FetchError> {
        let url = match self.jwks_url.read().ok().and_then(|u| u.clone()) {
            Some(url) => url,
            None => {
                let url = self.discover_jwks_url().await?;
                if let Ok(mut slot) = self.jwks_url.write() {
                    *slot = Some(url.clone());
                }
                url
            }
        };
        let (body, max_age) = self.get(&url).await?;
        self.max_age_secs
            .store(max_age.unwrap_or(0), Ordering::Relaxed);
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| FetchError::Document {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let keys = KeySet::from_jwks(&set);
        if keys.is_empty() {
            return Err(FetchError::NoUsableKey { url });
        }
        Ok(keys)
    }

    async fn discover_jwks_url(&self) -> Result<String, FetchError> {
        let issuer = &self.settings.issuer;
        let url = self
            .settings
            .discovery_url
            .clone()
            .unwrap_or_else(|| format!("{issuer}/.well-known/oauth-authorization-server"));
        #[derive(serde::Deserialize)]
        struct Metadata {
            issuer: String,
            jwks_uri: String,
        }
        let (body, _) = self.get(&url).await?;
        let m: Metadata = serde_json::from_slice(&body).map_err(|e| FetchError::Document {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        if &m.issuer != issuer {
            return Err(FetchError::IssuerMismatch {
                url,
                expected: issuer.clone(),
                found: m.issuer,
            });
        }
        let downgrade = match (reqwest::Url::parse(&url), reqwest::Url::parse(&m.jwks_uri)) {
            (Ok(from), Ok(to)) => transport::is_downgrade(&from, &to),
            (_, Err(e)) => {
                return Err(FetchError::Document {
                    url,
                    reason: format!("jwks_uri is not a URL: {e}"),
                });
            }
            (Err(_), Ok(_)) => false,
        };
        if downgrade {
            return Err(FetchError::Downgrade {
                url,
                jwks_uri: m.jwks_uri,
            });
        }
        Ok(m.jwks_uri)
    }

    /// The document at `url` and its `Cache-Control: max-age`, if any.
    async fn get(&self, url: &str) -> Result<(Vec<u8>, Option<u64>), FetchError> {
        let http_err = |e: reqwest::Error| FetchError::Http {
            url: url.to_owned(),
            reason: e.to_string(),
        };
        // A client span: a fetch made for a request (an unknown `kid`) continues its trace.
        let span = tracing::info_span!(
            "key fetch",
            otel.name = "GET jwks",
            otel.kind = "client",
            url.full = %url,
            http.response.status_code = tracing::field::Empty,
        );
        let mut request = self.http.get(url).header("Accept", "application/json");
        let mut trace_headers = Vec::new();
        telemetry::propagation::inject(&span, |name, value| trace_headers.push((name, value)));
        for (name, value) in trace_headers {
            request = request.header(name, value);
        }
        let res = request
            .send()
            .instrument(span.clone())
            .await
            .map_err(http_err)?;
        span.record("http.response.status_code", res.status().as_u16());
        let max_age = res
            .headers()
            .get_all(reqwest::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|d| {
                d.trim()
                    .strip_prefix("max-age=")?
                    .trim_matches('"')
                    .parse()
                    .ok()
            });
        if !res.status().is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: res.status().as_u16(),
            });
        }
        if res
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
            });
        }
        let mut body = Vec::new();
        let mut stream = res.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(http_err)?;
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge {
                    url: url.to_owned(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, max_age))
    }
}
