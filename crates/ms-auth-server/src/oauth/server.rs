//! The authorization server's protocol core: state, and the token endpoint (RFC 6749 §3.2).

use std::sync::Arc;

use super::{
    brute_force::{Attempt, Guard, Refused},
    client::Client,
    client_auth::{self, AuthenticateError},
    error::{OAuthError, OAuthErrorCode},
    grants::{TokenRequest, client_credentials},
    keys::{KeyError, KeyRing},
    metadata::Metadata,
    params::Params,
    resources::ScopeRegistry,
    token::{ScopeClaimFormat, TokenResponse},
};
use crate::store::{AuditLog, ClientStore, GrantStore, StoreError, hot::Hot};

/// Everything the protocol needs, with no HTTP in sight.
pub struct AuthorizationServer {
    /// The issuer identifier (RFC 8414 §2): `iss` of every token, base of every endpoint URL.
    pub issuer: String,
    pub keys: KeyRing,
    pub clients: Arc<dyn ClientStore>,
    pub grants: Arc<dyn GrantStore>,
    pub audit: Arc<dyn AuditLog>,
    pub hot: Hot,
    pub scope_claim: ScopeClaimFormat,
    /// Tokens one client may be issued per second, across replicas.
    pub issuance_per_second: u64,
    /// Every scope this server grants and the resource it belongs to (`aud`).
    pub scopes: Arc<ScopeRegistry>,
    /// The RFC 8414 document, built once: it depends on configuration only.
    pub metadata: Arc<Metadata>,
    /// Failed client authentications, counted per source and client id (RFC 6749 §2.3.1).
    pub client_guard: Guard,
    /// How this server checks its own access tokens (introspection, revocation): the same
    /// rules as every resource server, against its own published keys, no leeway.
    pub own_tokens: auth_middleware::VerifierSettings,
}

/// What the token endpoint receives, already taken off the wire.
#[derive(Debug, Clone, Copy)]
pub struct TokenEndpointInput<'a> {
    /// The client's address (from trusted proxies only), for brute-force accounting.
    pub source: Option<std::net::IpAddr>,
    /// The raw `Authorization` header value, if any.
    pub authorization: Option<&'a [u8]>,
    /// The query string of the POST (without `?`).
    pub query: &'a str,
    /// The `application/x-www-form-urlencoded` body.
    pub body: &'a [u8],
}

/// Why a token request failed: a protocol answer for the client, or an internal failure that
/// the boundary turns into `server_error` / `temporarily_unavailable` and logs.
#[derive(Debug, thiserror::Error)]
pub enum TokenEndpointError {
    #[error(transparent)]
    Rejected(#[from] OAuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing failed: {0}")]
    Signing(#[from] KeyError),
    #[error("too many failed authentications")]
    Throttled { retry_after_secs: u64 },
}

impl TokenEndpointError {
    /// The error sent to the client. Internal causes are never echoed.
    pub fn to_oauth(&self) -> OAuthError {
        match self {
            Self::Rejected(e) => e.clone(),
            Self::Store(StoreError::Unavailable(_)) => OAuthError::temporarily_unavailable(),
            Self::Store(StoreError::Corrupt(_)) | Self::Signing(_) => OAuthError::server_error(),
            Self::Throttled { retry_after_secs } => OAuthError::slow_down(*retry_after_secs),
        }
    }
}

impl From<AuthenticateError> for TokenEndpointError {
    fn from(e: AuthenticateError) -> Self {
        match e {
            AuthenticateError::Rejected(e) => Self::Rejected(e),
            AuthenticateError::Store(e) => Self::Store(e),
        }
    }
}

impl From<Refused> for TokenEndpointError {
    fn from(e: Refused) -> Self {
        match e {
            Refused::Blocked { retry_after_secs } => Self::Throttled { retry_after_secs },
            Refused::Store(e) => Self::Store(e),
        }
    }
}

impl From<client_credentials::GrantError> for TokenEndpointError {
    fn from(e: client_credentials::GrantError) -> Self {
        match e {
            client_credentials::GrantError::Rejected(e) => Self::Rejected(e),
            client_credentials::GrantError::Signing(e) => Self::Signing(e),
        }
    }
}

/// A granted token, with what the boundary may record about it (never the token itself).
#[derive(Debug)]
pub struct Issued {
    pub response: TokenResponse,
    pub client_id: String,
    pub grant_type: &'static str,
}

impl AuthorizationServer {
    /// Authenticates the caller of the introspection or revocation endpoint as at the token
    /// endpoint (RFC 7662 §2.1, RFC 7009 §2.1) and returns it with the request's parameters.
    pub async fn authenticate_caller(
        &self,
        input: TokenEndpointInput<'_>,
        now: u64,
    ) -> Result<(Arc<Client>, Params), TokenEndpointError> {
        let params = Params::from_query_and_body(input.query, input.body)?;
        let client = self.authenticate_client(&input, &params, now).await?;
        Ok((client, params))
    }

    /// At most `issuance_per_second` tokens a second for one client. While the hot state is
    /// out the limit is not applied (issuance must not depend on Redis).
    async fn limit_issuance(&self, client: &Client, now: u64) -> Result<(), TokenEndpointError> {
        let key = format!("issue:{}", client.id);
        match self
            .hot
            .hit(&key, self.issuance_per_second, 1, now as i64)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => {
                metrics::counter!("token_issuance_throttled_total").increment(1);
                Err(OAuthError {
                    error_description: Some(
                        "this client is issued too many tokens a second; retry after a second"
                            .to_owned(),
                    ),
                    ..OAuthError::slow_down(1)
                }
                .into())
            }
            Err(e) => {
                tracing::warn!(error = %e, "issuance limit unavailable; not limiting");
                Ok(())
            }
        }
    }

    /// Client authentication behind the brute-force guard: a source or client id with too
    /// many recent failures is refused before anything is checked, and each failure counts.
    async fn authenticate_client(
        &self,
        input: &TokenEndpointInput<'_>,
        params: &Params,
        now: u64,
    ) -> Result<Arc<Client>, TokenEndpointError> {
        let presented = client_auth::extract(input.authorization, params)?;
        // The id only: the secret is not copied.
        let client_id = presented.as_ref().map(|p| p.client_id.clone());
        let attempt = Attempt {
            source: input.source,
            client_id: client_id.as_deref(),
        };
        let outcome = self
            .client_guard
            .guard(
                attempt,
                now as i64,
                client_auth::authenticate(self.clients.as_ref(), presented),
                |e| matches!(e, AuthenticateError::Rejected(_)),
            )
            .await?;
        Ok(outcome?)
    }

    /// The token endpoint: parse, authenticate the client, check the grant is allowed, dispatch.
    pub async fn token(
        &self,
        input: TokenEndpointInput<'_>,
        now: u64,
    ) -> Result<Issued, TokenEndpointError> {
        let params = Params::from_query_and_body(input.query, input.body)?;
        let request = TokenRequest::parse(&params)?;
        let client = self.authenticate_client(&input, &params, now).await?;
        let grant_type = request.grant_type();
        if !client.may_use_grant(grant_type) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                format!("this client may not use grant_type {}", grant_type.as_str()),
            )
            .into());
        }
        self.limit_issuance(&client, now).await?;
        let response = match &request {
            TokenRequest::ClientCredentials(r) => client_credentials::grant(self, &client, r, now)?,
        };
        Ok(Issued {
            response,
            client_id: client.id.to_string(),
            grant_type: grant_type.as_str(),
        })
    }
}
