//! The authorization server's protocol core: state, and the token endpoint (RFC 6749 §3.2).
use crate::clock::UnixTime;

use std::sync::Arc;

use super::{
    brute_force::{Attempt, Guard, Refused},
    client::{Client, GrantType},
    client_auth::{self, AuthenticateError, ClientAuthenticator},
    client_keys::{ClientKeys, JwksFetcher},
    endpoints::{self, Endpoints},
    error::{EndpointError, ErrorCode, OAuthError},
    grants::{
        GrantContext, TokenRequest, authorization_code, client_credentials, password, refresh_token,
    },
    issuer::Issuer,
    metadata::Metadata,
    params::Params,
    token_response::TokenResponse,
};
use crate::{identity::sign_in::SignIn, keys::KeyRing};
use crate::{
    settings::TokenSettings,
    store::{AuditLog, ClientStore, CodeStore, RefreshTokenStore, hot::Hot, sealing::Sealer},
};

/// Everything the protocol needs, with no HTTP in sight.
pub struct AuthorizationServer {
    /// Signs every token; holds the issuer identifier, the keys and the scope registry.
    pub issuer: Issuer,
    pub clients: Arc<dyn ClientStore>,
    pub codes: Arc<dyn CodeStore>,
    pub refresh: Arc<dyn RefreshTokenStore>,
    pub audit: Arc<dyn AuditLog>,
    pub hot: Hot,
    /// Tokens one client may be issued per second, across replicas.
    pub issuance_per_second: u64,
    /// The RFC 8414 document, built once: it depends on configuration only.
    pub metadata: Arc<Metadata>,
    /// Failed client authentications, counted per source and client id (RFC 6749 §2.3.1).
    pub client_guard: Guard,
    /// Refresh-token lifetimes and grace, ID-token lifetime.
    pub tokens: TokenSettings,
    /// Seals a refresh rotation's response for its retry (the store's key: replicas share it).
    pub sealer: Arc<Sealer>,
    /// The sign-in page's password check, for the password grant.
    pub sign_in: Arc<SignIn>,
    /// Checks clients' secrets and assertions.
    pub client_auth: ClientAuthenticator,
}

impl AuthorizationServer {
    /// The core as configured, over `stores`, signing with `keys`.
    pub fn new(
        settings: &crate::settings::Settings,
        stores: &crate::store::Stores,
        keys: KeyRing,
        sealer: Arc<Sealer>,
        sign_in: Arc<SignIn>,
        jwks: Arc<dyn JwksFetcher>,
    ) -> Self {
        let scopes = settings.scope_registry();
        let client_auth = ClientAuthenticator {
            clients: stores.clients.clone(),
            hot: stores.hot.clone(),
            sealer: Arc::clone(&sealer),
            keys: Arc::new(ClientKeys::new(jwks, settings.client_auth.key_set_times())),
            issuer: settings.issuer.clone(),
            token_endpoint: Endpoints::new(&settings.issuer).url(endpoints::TOKEN),
            settings: settings.client_auth.clone(),
        };
        let metadata = Metadata::new(
            &settings.issuer,
            &scopes,
            super::metadata::Advertised {
                id_token_alg: settings.keys.algorithm,
                plain_pkce: settings.clients.iter().any(|c| c.metadata.allow_plain_pkce),
                implicit: settings
                    .clients
                    .iter()
                    .any(|c| c.metadata.grant_types.contains(&GrantType::Implicit)),
                password: settings
                    .clients
                    .iter()
                    .any(|c| c.metadata.grant_types.contains(&GrantType::Password)),
                registration: settings.registration.policy
                    != crate::settings::RegistrationMode::Off,
            },
        );
        Self {
            client_auth,
            tokens: settings.tokens.clone(),
            sealer,
            sign_in,
            codes: stores.codes.clone(),
            client_guard: Guard {
                settings: settings.brute_force.clone(),
                hot: stores.hot.clone(),
                realm: "client",
            },
            metadata: Arc::new(metadata),
            issuer: Issuer {
                iss: settings.issuer.clone(),
                keys,
                scope_claim: settings.tokens.scope_claim,
                scopes: Arc::new(scopes),
                own_tokens: auth_middleware::VerifierSettings {
                    issuer: settings.issuer.clone(),
                    leeway_secs: 0,
                    token_cache_size: 0,
                    ..auth_middleware::VerifierSettings::default()
                },
            },
            clients: stores.clients.clone(),
            refresh: stores.refresh.clone(),
            audit: stores.audit.clone(),
            hot: stores.hot.clone(),
            issuance_per_second: settings.tokens.max_per_client_per_second,
        }
    }
}

/// What an endpoint that authenticates clients receives (token, introspection, revocation,
/// later registration and PAR), already taken off the wire.
#[derive(Debug, Clone, Copy)]
pub struct ClientRequest<'a> {
    /// The client's address (from trusted proxies only), for brute-force accounting.
    pub source: Option<std::net::IpAddr>,
    /// The raw `Authorization` header value, if any.
    pub authorization: Option<&'a [u8]>,
    /// The query string of the POST (without `?`).
    pub query: &'a str,
    /// The `application/x-www-form-urlencoded` body.
    pub body: &'a [u8],
}

impl From<AuthenticateError> for EndpointError {
    fn from(e: AuthenticateError) -> Self {
        match e {
            AuthenticateError::Rejected(e) => Self::Rejected(e),
            AuthenticateError::Store(e) => Self::Store(e),
        }
    }
}

impl From<Refused> for EndpointError {
    fn from(e: Refused) -> Self {
        match e {
            Refused::Blocked { retry_after_secs } => Self::Throttled { retry_after_secs },
            Refused::Store(e) => Self::Store(e),
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
    /// `endpoint` is the endpoint's path ([`endpoints::INTROSPECT`], [`endpoints::REVOKE`]):
    /// an assertion may name its URL as `aud`.
    pub async fn authenticate_caller(
        &self,
        input: ClientRequest<'_>,
        endpoint: &str,
        now: UnixTime,
    ) -> Result<(Arc<Client>, Params), EndpointError> {
        let params = Params::from_query_and_body(input.query, input.body)?;
        let client = self
            .authenticate_client(&input, &params, endpoint, now)
            .await?;
        Ok((client, params))
    }

    /// What the grants may use at `now`.
    pub(crate) fn grant_context(&self, now: UnixTime) -> GrantContext<'_> {
        GrantContext {
            issuer: &self.issuer,
            now,
            codes: self.codes.as_ref(),
            refresh: self.refresh.as_ref(),
            hot: self.hot.as_ref(),
            audit: self.audit.as_ref(),
            sealer: &self.sealer,
            tokens: &self.tokens,
        }
    }

    /// At most `issuance_per_second` tokens a second for one client. While the hot state is
    /// out the limit is not applied (issuance must not depend on Redis).
    async fn limit_issuance(&self, client: &Client, now: UnixTime) -> Result<(), EndpointError> {
        let key = format!("issue:{}", client.id);
        match self.hot.hit(&key, self.issuance_per_second, 1, now).await {
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
        input: &ClientRequest<'_>,
        params: &Params,
        endpoint: &str,
        now: UnixTime,
    ) -> Result<Arc<Client>, EndpointError> {
        let presented = client_auth::extract(input.authorization, params)?;
        let endpoint_url = Endpoints::new(&self.issuer.iss).url(endpoint);
        // The id only: the secret is not copied. An assertion's failures are counted per source
        // only: a signature (or a 512-bit HMAC key) cannot be guessed, so counting them under
        // the client id it names would only let anyone slow down or lock out that client.
        let client_id = presented
            .as_ref()
            .filter(|p| !matches!(p.proof, client_auth::Proof::Assertion { .. }))
            .map(|p| p.client_id.clone());
        let attempt = Attempt {
            source: input.source,
            client_id: client_id.as_deref(),
        };
        let outcome = self
            .client_guard
            .guard(
                attempt,
                now,
                self.client_auth.authenticate(presented, &endpoint_url, now),
                |e| matches!(e, AuthenticateError::Rejected(_)),
            )
            .await?;
        let client = outcome?;
        // RFC 7591 §3.2.1: a registered secret is good until its `client_secret_expires_at`.
        if client.secret_expired(now) {
            tracing::info!(client_id = %client.id, reason = "secret_expired", "client authentication failed");
            return Err(OAuthError::invalid_client().into());
        }
        Ok(client)
    }

    /// The token endpoint: parse, authenticate the client, check the grant is allowed, dispatch.
    pub async fn token(
        &self,
        input: ClientRequest<'_>,
        now: UnixTime,
    ) -> Result<Issued, EndpointError> {
        let params = Params::from_query_and_body(input.query, input.body)?;
        let request = TokenRequest::parse(&params, &self.metadata.grant_types_supported)?;
        let client = self
            .authenticate_client(&input, &params, endpoints::TOKEN, now)
            .await?;
        let grant_type = request.grant_type();
        // RFC 9700 §2.1.1 and the registration rules: a public client may never use
        // client_credentials or password, whatever it registered.
        let public_refused = client.is_public()
            && matches!(
                grant_type,
                GrantType::ClientCredentials | GrantType::Password
            );
        if !client.may_use_grant(grant_type) || public_refused {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                format!("this client may not use grant_type {}", grant_type.as_str()),
            )
            .into());
        }
        self.limit_issuance(&client, now).await?;
        let cx = self.grant_context(now);
        let response = match &request {
            TokenRequest::ClientCredentials(r) => client_credentials::grant(&cx, &client, r)?,
            TokenRequest::AuthorizationCode(r) => {
                authorization_code::grant(&cx, &client, r).await?
            }
            TokenRequest::RefreshToken(r) => refresh_token::grant(&cx, &client, r).await?,
            TokenRequest::Password(r) => {
                password::grant(&cx, &self.sign_in, input.source, &client, r).await?
            }
        };
        Ok(Issued {
            response,
            client_id: client.id.to_string(),
            grant_type: grant_type.as_str(),
        })
    }
}
