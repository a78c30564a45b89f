//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592), with no
//! HTTP: who may register ([`Registrar::registrant`]), a request in RFC 7591 §2's words turned
//! into [`ClientMetadata`] and checked by the one [`ClientMetadata::validate`] under
//! `[registration]`'s limits ([`request`]), the credential its method needs and a registration
//! access token ([`Registrar::register`], [`Registrar::update`]), the registration access
//! token checked ([`Registrar::managed`]), and the Client Information Response
//! ([`response`]). The operations that store and audit all this are in `ops::clients`.

pub mod request;
pub mod response;

use std::sync::Arc;

use auth_middleware::AuthError;
use subtle::ConstantTimeEq;

pub use request::RegistrationRequest;
pub use response::ClientInformation;

use super::{
    client::{
        AuthMethod, Client, ClientCredential, ClientId, ClientOrigin, DynamicLimits, GrantType,
        InlineKeys, JwksSource, MetadataError, Registration, RegistrationPolicy,
    },
    endpoints::{self, Endpoints},
    error::{EndpointError, ErrorCode, OAuthError},
    issuer::Issuer,
    random::{self, RandomError},
    resources::ScopeRegistry,
    scope::{Scope, ScopeSet},
    secret::{ClientSecret, SecretHash},
    server::AuthorizationServer,
};
use crate::{
    clock::UnixTime,
    settings::{MAX_ACCESS_TOKEN_TTL_SECS, RegistrationMode, RegistrationSettings},
    store::{HotState, StoreError, credential_hash, sealing::SealError, sealing::Sealer},
};

/// Why a registration request was not done. Closed: the HTTP layer maps every variant.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// `[registration] policy = "off"`: the endpoints do not exist.
    #[error("dynamic client registration is off")]
    Off,
    /// RFC 7591 §3.2.2 (and RFC 6749 §5.2's `invalid_request`, `slow_down`).
    #[error(transparent)]
    Rejected(#[from] OAuthError),
    /// RFC 6750 §3.1: the initial access token or the registration access token.
    #[error(transparent)]
    Bearer(#[from] AuthError),
    /// The store or the random source failed: answered without the cause.
    #[error(transparent)]
    Failed(#[from] EndpointError),
    #[error("sealing the client secret: {0}")]
    Seal(#[from] SealError),
}

impl From<StoreError> for RegistrationError {
    fn from(e: StoreError) -> Self {
        Self::Failed(EndpointError::Store(e))
    }
}

impl From<RandomError> for RegistrationError {
    fn from(e: RandomError) -> Self {
        Self::Failed(EndpointError::Random(e))
    }
}

/// RFC 7591 §3.2.2's answer for a refused metadata value, naming the field in the RFC's
/// words: `invalid_redirect_uri` for the redirect URIs, `invalid_client_metadata` otherwise.
pub fn refused(field: &str, message: impl std::fmt::Display) -> RegistrationError {
    let field = match field {
        // The config's names for what RFC 7591 calls otherwise.
        "scopes" => "scope",
        "token_endpoint_auth_methods" => "token_endpoint_auth_method",
        other => other,
    };
    let code = if field == "redirect_uris" {
        ErrorCode::InvalidRedirectUri
    } else {
        ErrorCode::InvalidClientMetadata
    };
    RegistrationError::Rejected(OAuthError::new(code, format!("{field}: {message}")))
}

impl From<MetadataError> for RegistrationError {
    fn from(e: MetadataError) -> Self {
        refused(e.field, e.message)
    }
}

/// RFC 7592 §2.1: an unknown client is answered as a wrong token is ("the authorization
/// server MUST respond with HTTP 401 Unauthorized"), so neither tells anything.
fn not_this_clients_token() -> RegistrationError {
    AuthError::InvalidToken("the registration access token is not valid for this client".into())
        .into()
}

/// A client just registered or updated, with what its response carries once.
pub struct Registered {
    pub client: Client,
    /// The new secret, when one was issued (never stored in the clear).
    pub secret: Option<ClientSecret>,
    /// The new registration access token (stored hashed).
    pub access_token: String,
}

/// Dynamic registration as configured: the policy, its limits, and what issuing needs.
pub struct Registrar {
    pub mode: RegistrationMode,
    pub initial_access_scope: Scope,
    /// What a registration may ask for, and gets when it names no `scope`.
    pub scopes: ScopeSet,
    pub registry: Arc<ScopeRegistry>,
    /// The grant types the server advertises.
    pub grant_types: Vec<GrantType>,
    /// Registrations one source address may make per minute.
    pub max_per_source_per_minute: u64,
    /// `[registration] max_clients`.
    pub max_clients: u64,
    /// 0: a registered secret never expires.
    pub secret_ttl_secs: u64,
    endpoints: Endpoints,
    /// Seals `client_secret_jwt` secrets (the store's key: replicas share it).
    sealer: Arc<Sealer>,
}

impl Registrar {
    /// Registration as `settings` configure it, for `server` (its issuer, registry, offered
    /// grant types and sealing key).
    pub fn new(settings: &RegistrationSettings, server: &AuthorizationServer) -> Self {
        let offered = &server.metadata.grant_types_supported;
        Self {
            mode: settings.policy,
            initial_access_scope: settings.initial_access_scope.clone(),
            scopes: settings.scopes.clone(),
            registry: Arc::clone(&server.issuer.scopes),
            // The legacy grants stay the operator's to give: a self-registered client with the
            // password grant would be a ready-made phishing client (RFC 9700 §2.4: "MUST NOT
            // be used"), and the implicit flows put tokens in URLs (§2.1.2).
            grant_types: GrantType::ALL
                .iter()
                .copied()
                .filter(|g| !matches!(g, GrantType::Password | GrantType::Implicit))
                .filter(|g| offered.contains(&g.as_str()))
                .collect(),
            max_per_source_per_minute: settings.max_per_source_per_minute,
            max_clients: settings.max_clients,
            secret_ttl_secs: settings.client_secret_ttl_secs,
            endpoints: Endpoints::new(&server.issuer.iss),
            sealer: Arc::clone(&server.sealer),
        }
    }

    /// Every registration endpoint answers 404 while registration is off (the management
    /// ones too: see docs/client-registration.md).
    pub fn ensure_on(&self) -> Result<(), RegistrationError> {
        match self.mode {
            RegistrationMode::Off => Err(RegistrationError::Off),
            RegistrationMode::Open | RegistrationMode::InitialAccessToken => Ok(()),
        }
    }

    /// Who registers: nobody in particular while registration is open; with an initial access
    /// token (RFC 7591 §3), the client it was issued to, when it is an access token of this
    /// server's, unrevoked, carrying `initial_access_scope` (else RFC 6750 §3.1's
    /// `invalid_token`, or `insufficient_scope` for a good token without it).
    pub async fn registrant(
        &self,
        issuer: &Issuer,
        denylist: &dyn HotState,
        bearer: Result<&str, AuthError>,
        now: UnixTime,
    ) -> Result<Option<String>, RegistrationError> {
        match self.mode {
            RegistrationMode::Off => Err(RegistrationError::Off),
            RegistrationMode::Open => Ok(None),
            RegistrationMode::InitialAccessToken => {
                let invalid =
                    || AuthError::InvalidToken("the initial access token is not valid".into());
                let principal = issuer.verify_own(bearer?, now).ok_or_else(invalid)?;
                let revoked = match principal.claims.get("jti").and_then(|j| j.as_str()) {
                    Some(jti) => denylist.is_denied(jti, now).await?,
                    None => true,
                };
                if revoked {
                    return Err(invalid().into());
                }
                let scope = self.initial_access_scope.as_str();
                if !principal.has_scope(scope) {
                    return Err(AuthError::InsufficientScope(scope.to_owned()).into());
                }
                Ok(Some(principal.client_id.unwrap_or(principal.subject)))
            }
        }
    }

    /// What a registration is checked against: the config's rules, held to `[registration]`,
    /// and never the playground's plain http beyond loopback (DESIGN.md: "loopback redirect
    /// URIs") — anyone may register, so only what RFC 8252 §7.3 allows anywhere.
    fn policy(&self) -> RegistrationPolicy<'_> {
        RegistrationPolicy {
            playground: false,
            max_access_token_ttl_secs: MAX_ACCESS_TOKEN_TTL_SECS,
            scopes: &self.registry,
            dynamic: Some(DynamicLimits {
                scopes: &self.scopes,
                grant_types: &self.grant_types,
            }),
        }
    }

    /// A new client for `request` at `now`: a server-generated id, the credential its
    /// method needs, a registration access token.
    pub fn register(
        &self,
        request: RegistrationRequest,
        now: UnixTime,
    ) -> Result<Registered, RegistrationError> {
        request.metadata.validate(&self.policy())?;
        // 122 random bits: unguessable, and never one the config chose.
        let id = ClientId::new(uuid::Uuid::new_v4().to_string());
        let (credential, secret) = self.credential(&id, &request, None)?;
        let access_token = random::token()?;
        let client = Client {
            registration: Some(Registration {
                issued_at: now,
                secret_expires_at: self.secret_expiry(secret.is_some(), now),
                access_token_hash: credential_hash(&access_token),
            }),
            origin: ClientOrigin::Registration,
            ..Client::new(id, credential, request.metadata)
        };
        Ok(Registered {
            client,
            secret,
            access_token,
        })
    }

    /// `current`'s registration replaced by `request` (RFC 7592 §2.2), checked as a new one
    /// is; its credential kept when it suits the method and has not expired, a new one issued
    /// otherwise; and a new registration access token. "The authorization server MAY issue a
    /// new registration access token": this one always does, so a token dies with each update.
    pub fn update(
        &self,
        current: &Client,
        request: RegistrationRequest,
        now: UnixTime,
    ) -> Result<Registered, RegistrationError> {
        request.metadata.validate(&self.policy())?;
        // An expired secret is not kept: the update issues a new one.
        let kept = Some(current).filter(|c| !c.secret_expired(now));
        let (credential, secret) = self.credential(&current.id, &request, kept)?;
        let previous = current.registration.as_ref();
        let secret_expires_at = match (&secret, previous) {
            (Some(_), _) => self.secret_expiry(true, now),
            (None, Some(r)) if has_secret(&credential) => r.secret_expires_at,
            (None, _) => None,
        };
        let access_token = random::token()?;
        let client = Client {
            id: current.id.clone(),
            credential,
            metadata: request.metadata,
            origin: ClientOrigin::Registration,
            // An update never changes whether the client may act (only an active one gets here).
            status: current.status,
            registration: Some(Registration {
                issued_at: previous.map_or(now, |r| r.issued_at),
                secret_expires_at,
                access_token_hash: credential_hash(&access_token),
            }),
        };
        Ok(Registered {
            client,
            secret,
            access_token,
        })
    }

    fn secret_expiry(&self, has_secret: bool, now: UnixTime) -> Option<UnixTime> {
        (has_secret && self.secret_ttl_secs > 0)
            .then(|| now.plus_secs(i64::try_from(self.secret_ttl_secs).unwrap_or(i64::MAX)))
    }

    /// The credential `request`'s method needs: `current`'s when it is of that kind, else a
    /// new one — a generated secret, hashed for the methods that present it and sealed for
    /// `client_secret_jwt` (it keys the HMAC); the client's keys for `private_key_jwt`.
    fn credential(
        &self,
        id: &ClientId,
        request: &RegistrationRequest,
        current: Option<&Client>,
    ) -> Result<(ClientCredential, Option<ClientSecret>), RegistrationError> {
        let kept = current.map(|c| &c.credential);
        let new_secret =
            || ClientSecret::generate().map_err(|_| RegistrationError::from(RandomError));
        Ok(match request.method {
            AuthMethod::None => (ClientCredential::None, None),
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => match kept {
                Some(c @ ClientCredential::SecretHash(_)) => (c.clone(), None),
                _ => {
                    let secret = new_secret()?;
                    let hash = SecretHash::generate(&secret).map_err(|_| RandomError)?;
                    (ClientCredential::SecretHash(hash), Some(secret))
                }
            },
            AuthMethod::ClientSecretJwt => match kept {
                Some(c @ ClientCredential::SealedSecret(_)) => (c.clone(), None),
                _ => {
                    // Its octets key the HMAC: as long as HS512's hash.
                    let secret = ClientSecret::generate_hmac_key().map_err(|_| RandomError)?;
                    let sealed = ClientCredential::seal_secret(&self.sealer, id, &secret)?;
                    (sealed, Some(secret))
                }
            },
            AuthMethod::PrivateKeyJwt => {
                let m = &request.metadata;
                let source = match (&m.jwks, &m.jwks_uri) {
                    (Some(jwks), None) => JwksSource::Inline(InlineKeys::new(jwks.clone())),
                    (None, Some(uri)) => JwksSource::Uri(uri.clone()),
                    // Both: validate has refused it already.
                    _ => return Err(refused("jwks", "private_key_jwt needs jwks or jwks_uri")),
                };
                (ClientCredential::Jwks(source), None)
            }
        })
    }

    /// The registered client `found` if `presented` is its registration access token,
    /// compared by hash in constant time; an unknown client, one registered otherwise or a
    /// disabled one is answered exactly as a wrong token.
    pub fn managed(
        found: Option<Arc<Client>>,
        presented: &str,
    ) -> Result<Arc<Client>, RegistrationError> {
        let presented = credential_hash(presented);
        let matches = |c: &Client| {
            c.enabled()
                && c.origin == ClientOrigin::Registration
                && c.registration.as_ref().is_some_and(|r| {
                    bool::from(r.access_token_hash.as_bytes().ct_eq(presented.as_bytes()))
                })
        };
        match found {
            Some(client) if matches(&client) => Ok(client),
            _ => Err(not_this_clients_token()),
        }
    }

    /// An update that lost to another one (or to a delete) after its token was checked: its
    /// token is spent.
    pub fn token_spent() -> RegistrationError {
        not_this_clients_token()
    }

    /// The Client Information Response (RFC 7591 §3.2.1, RFC 7592 §3) for `client`, with
    /// `access_token` (just issued, or the one the caller presented: RFC 7592 §3 requires it
    /// in every answer) and the secret when one was just issued.
    pub fn information(
        &self,
        client: &Client,
        access_token: &str,
        secret: Option<&ClientSecret>,
    ) -> ClientInformation {
        let uri = self
            .endpoints
            .url(endpoints::REGISTRATION)
            .replace("{client_id}", client.id.as_str());
        ClientInformation::new(client, access_token.to_owned(), uri, secret)
    }

    /// The registration request in `body` (RFC 7591 §3.1), given `[registration] scopes`
    /// when it names no `scope`.
    pub fn request(&self, body: &[u8]) -> Result<RegistrationRequest, RegistrationError> {
        RegistrationRequest::parse(body, &self.scopes)
    }

    /// The update request in `body` for `current` (RFC 7592 §2.2).
    pub fn update_request(
        &self,
        body: &[u8],
        current: &Client,
    ) -> Result<RegistrationRequest, RegistrationError> {
        RegistrationRequest::parse_update(body, current, &self.scopes, &self.sealer)
    }
}

/// Whether `c` is a secret (hashed or sealed): `client_secret_expires_at` is then due.
fn has_secret(c: &ClientCredential) -> bool {
    matches!(
        c,
        ClientCredential::SecretHash(_) | ClientCredential::SealedSecret(_)
    )
}

#[cfg(test)]
mod tests;
