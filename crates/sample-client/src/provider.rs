//! The OpenID Provider as this app sees it: its metadata (OpenID Connect Discovery 1.0 §4,
//! fetched on first use and kept, so the app starts before the provider answers), its keys
//! (refetched once when a token names an unknown `kid`), and its token endpoint (RFC 6749
//! §4.1.3, §6, client_secret_basic).

use std::{
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use auth_middleware::{AuthError, Jws, keys::KeySet};
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use serde_json::{Map, Value};

/// How large a token the app reads (ID tokens with many claims stay far below).
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Unknown `kid`s refetch the key set at most this often: a flood of forged tokens must not
/// become a flood of requests to the provider.
const MIN_REFETCH: Duration = Duration::from_secs(1);

/// The metadata fields the app uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// RFC 9207 §3: the provider puts `iss` in its authorization responses.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider at {0} cannot be reached: {1}")]
    Unreachable(String, String),
    #[error("the provider's metadata names issuer {0:?}, not the configured one")]
    WrongIssuer(String),
    #[error("the provider answered {0}: {1}")]
    Refused(u16, String),
    #[error("the token was refused: {0}")]
    BadToken(String),
}

/// A token endpoint response (RFC 6749 §5.1), the fields the app uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// A verified JWT: its header's `typ` and its claims.
pub struct Verified {
    pub typ: Option<String>,
    pub claims: Map<String, Value>,
}

pub struct Provider {
    issuer: String,
    http: reqwest::Client,
    metadata: RwLock<Option<Arc<Metadata>>>,
    keys: RwLock<Option<Arc<KeySet>>>,
    last_key_fetch: Mutex<Option<Instant>>,
}

impl Provider {
    pub fn new(issuer: &str) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            issuer: issuer.to_owned(),
            http,
            metadata: RwLock::new(None),
            keys: RwLock::new(None),
            last_key_fetch: Mutex::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The HTTP client, for the resource calls too.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The metadata, fetched on first use. Discovery §4.3: "The issuer value returned MUST be
    /// identical to the Issuer URL that was used as the prefix to /.well-known/openid-configuration".
    pub async fn metadata(&self) -> Result<Arc<Metadata>, ProviderError> {
        if let Some(m) = self.metadata.read().ok().and_then(|m| m.clone()) {
            return Ok(m);
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let metadata: Metadata = self.get_json(&url).await?;
        if metadata.issuer != self.issuer {
            return Err(ProviderError::WrongIssuer(metadata.issuer));
        }
        let metadata = Arc::new(metadata);
        if let Ok(mut slot) = self.metadata.write() {
            *slot = Some(Arc::clone(&metadata));
        }
        Ok(metadata)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, ProviderError> {
        let unreachable =
            |e: reqwest::Error| ProviderError::Unreachable(url.to_owned(), e.to_string());
        let res = self.http.get(url).send().await.map_err(unreachable)?;
        if !res.status().is_success() {
            return Err(ProviderError::Refused(
                res.status().as_u16(),
                url.to_owned(),
            ));
        }
        res.json().await.map_err(unreachable)
    }

    async fn fetch_keys(&self) -> Result<Arc<KeySet>, ProviderError> {
        if let Ok(mut last) = self.last_key_fetch.lock() {
            *last = Some(Instant::now());
        }
        let metadata = self.metadata().await?;
        let set: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        let keys = Arc::new(KeySet::from_jwks(&set));
        if let Ok(mut slot) = self.keys.write() {
            *slot = Some(Arc::clone(&keys));
        }
        Ok(keys)
    }

    /// Verifies `token`'s signature against the provider's keys (JWS, RFC 7515; `alg` from
    /// the allow-list and the key's own, so never `none` or HMAC), refetching the key set once
    /// when its `kid` is unknown: the provider may have rotated.
    pub async fn verify(&self, token: &str) -> Result<Verified, ProviderError> {
        let bad = |e: AuthError| ProviderError::BadToken(e.to_string());
        let jws = Jws::parse(token, MAX_TOKEN_BYTES).map_err(bad)?;
        let typ = jws.typ().map(str::to_owned);
        let cached = self.keys.read().ok().and_then(|k| k.clone());
        let keys = match cached {
            Some(keys) => keys,
            None => self.fetch_keys().await?,
        };
        // `verify` consumes the parsed token; an unknown kid parses it again after the refetch.
        match jws.verify(&keys) {
            Ok(claims) => Ok(Verified { typ, claims }),
            Err(AuthError::UnknownKid) if self.may_refetch() => {
                let keys = self.fetch_keys().await?;
                let claims = Jws::parse(token, MAX_TOKEN_BYTES)
                    .and_then(|jws| jws.verify(&keys))
                    .map_err(bad)?;
                Ok(Verified { typ, claims })
            }
            Err(e) => Err(bad(e)),
        }
    }

    fn may_refetch(&self) -> bool {
        self.last_key_fetch
            .lock()
            .map(|last| last.is_none_or(|at| at.elapsed() >= MIN_REFETCH))
            .unwrap_or(false)
    }

    /// The userinfo endpoint's claims for `access_token` (OIDC Core §5.3), when the provider
    /// has the endpoint.
    pub async fn userinfo(
        &self,
        access_token: &str,
    ) -> Result<Option<Map<String, Value>>, ProviderError> {
        let metadata = self.metadata().await?;
        let Some(url) = &metadata.userinfo_endpoint else {
            return Ok(None);
        };
        let unreachable =
            |e: reqwest::Error| ProviderError::Unreachable(url.clone(), e.to_string());
        let res = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(unreachable)?;
        if !res.status().is_success() {
            return Err(ProviderError::Refused(res.status().as_u16(), url.clone()));
        }
        res.json().await.map(Some).map_err(unreachable)
    }

    /// A token request authenticated with client_secret_basic (RFC 6749 §2.3.1: the id and
    /// secret form-encoded, then Basic).
    pub async fn token_request(
        &self,
        client_id: &str,
        client_secret: &str,
        form: &[(&str, &str)],
    ) -> Result<Tokens, ProviderError> {
        let metadata = self.metadata().await?;
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let res = self
            .http
            .post(&metadata.token_endpoint)
            .basic_auth(encode(client_id), Some(encode(client_secret)))
            .form(form)
            .send()
            .await
            .map_err(|e| {
                ProviderError::Unreachable(metadata.token_endpoint.clone(), e.to_string())
            })?;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if status != 200 {
            let error = body["error"].as_str().unwrap_or("no error code");
            let description = body["error_description"].as_str().unwrap_or_default();
            return Err(ProviderError::Refused(
                status,
                format!("{error} {description}").trim().to_owned(),
            ));
        }
        serde_json::from_value(body)
            .map_err(|e| ProviderError::Refused(status, format!("unreadable token response: {e}")))
    }
}
