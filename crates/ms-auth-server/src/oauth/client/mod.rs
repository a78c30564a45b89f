//! Registered clients (RFC 6749 §2): who they are, how they authenticate, what they registered.
//!
//! A client is its identifier, its credential, its metadata in RFC 7591 §2's words (one type
//! for the config's `[[clients]]`, the store's metadata column, dynamic registration and, later,
//! the admin API), where the registration came from, whether it is active, and what dynamic
//! registration issued with it.

mod credential;
mod metadata;
mod redirect_uri;
mod registrable;
mod stored;
mod validate;

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};

pub use credential::{ClientCredential, InlineKeys, JwksSource};
pub use metadata::{ClientMetadata, DEFAULT_ACCESS_TOKEN_TTL_SECS};
pub use redirect_uri::{InvalidRedirectUri, RedirectUri};
pub use registrable::{AuthMethod, GrantType, ResponseType};
pub use stored::{ClientRow, RowError};
pub use validate::{DynamicLimits, MetadataError, RegistrationPolicy};

use super::{error::OAuthError, scope::ScopeSet};
use crate::clock::UnixTime;

/// A client identifier (RFC 6749 §2.2). Public, but never to be confused with other strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a registration comes from. The config is authoritative for its own clients (one
/// removed from it is disabled at the next start) and never touches the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientOrigin {
    #[default]
    Config,
    /// Dynamic client registration (RFC 7591).
    Registration,
    /// The admin API or CLI.
    Administration,
}

/// Whether a client may act at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientStatus {
    #[default]
    Active,
    /// Authenticates nowhere: as unknown as a client never registered.
    Disabled,
}

/// A registered client as the protocol core sees it. Secrets are held hashed or sealed only.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub credential: ClientCredential,
    pub metadata: ClientMetadata,
    pub origin: ClientOrigin,
    pub status: ClientStatus,
    /// What dynamic registration issued (RFC 7591 §3.2.1); none for every other origin.
    pub registration: Option<Registration>,
}

/// What dynamic registration issued with a client (RFC 7591 §3.2.1), kept for the management
/// protocol (RFC 7592).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// `client_id_issued_at`.
    pub issued_at: UnixTime,
    /// `client_secret_expires_at`: none when there is no secret or it never expires (`0` on
    /// the wire).
    pub secret_expires_at: Option<UnixTime>,
    /// The registration access token's [`credential_hash`](crate::store::credential_hash):
    /// the token itself is never stored.
    pub access_token_hash: String,
}

impl Client {
    /// An active client registered by the config.
    pub fn new(id: ClientId, credential: ClientCredential, metadata: ClientMetadata) -> Self {
        Self {
            id,
            credential,
            metadata,
            origin: ClientOrigin::Config,
            status: ClientStatus::Active,
            registration: None,
        }
    }

    /// The hash of its current registration access token (RFC 7592), if it registered itself.
    pub fn registration_token_hash(&self) -> Option<&str> {
        self.registration
            .as_ref()
            .map(|r| r.access_token_hash.as_str())
    }

    /// Whether its registered secret has expired at `now` (RFC 7591 §3.2.1
    /// `client_secret_expires_at`): it then authenticates nowhere.
    pub fn secret_expired(&self, now: UnixTime) -> bool {
        self.registration
            .as_ref()
            .and_then(|r| r.secret_expires_at)
            .is_some_and(|at| now >= at)
    }

    /// The name the pages show: its `client_name`, else its id.
    pub fn display_name(&self) -> String {
        self.metadata
            .client_name
            .clone()
            .unwrap_or_else(|| self.id.to_string())
    }

    pub fn may_use_grant(&self, grant: GrantType) -> bool {
        self.metadata.grant_types.contains(&grant)
    }

    /// A public client (RFC 6749 §2.1): it authenticates with nothing (`none`).
    pub fn is_public(&self) -> bool {
        self.may_use_method(AuthMethod::None)
    }

    pub fn may_use_method(&self, method: AuthMethod) -> bool {
        self.metadata.token_endpoint_auth_methods.contains(&method)
    }

    /// The scopes it registered: all it may ever be granted.
    pub fn scopes(&self) -> &ScopeSet {
        &self.metadata.scope
    }

    /// What a request without `scope` is granted; such a request is `invalid_scope` without.
    pub fn default_scopes(&self) -> Option<&ScopeSet> {
        self.metadata.default_scopes.as_ref()
    }

    /// What a request for `requested` (or, naming none, for the defaults) is granted: refused
    /// as `invalid_scope` beyond what the client registered (RFC 6749 §3.3).
    pub fn grantable(&self, requested: Option<&ScopeSet>) -> Result<ScopeSet, OAuthError> {
        ScopeSet::allowed(self.scopes(), self.default_scopes(), requested)
    }

    /// Audiences added to the `aud` of this client's access tokens, beside the resources of
    /// their scopes.
    pub fn audience(&self) -> &[String] {
        &self.metadata.audience
    }

    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.metadata.access_token_ttl_secs)
    }

    /// The RFC 9728 identifier of the resource server this client is: it may introspect the
    /// tokens whose `aud` names it (RFC 7662 §4). Other clients introspect only their own.
    pub fn resource_server(&self) -> Option<&str> {
        self.metadata.resource_server.as_deref()
    }

    /// A disabled client authenticates nowhere.
    pub fn enabled(&self) -> bool {
        self.status == ClientStatus::Active
    }
}
