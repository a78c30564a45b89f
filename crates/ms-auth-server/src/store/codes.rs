//! Authorization codes (RFC 6749 §4.1.2): stored by their hash ([`super::credential_hash`]),
//! consumed once. "If an authorization code is used more than once, the authorization server
//! MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based
//! on that authorization code": a second use revokes the refresh family the first started and
//! names the access tokens issued from it, for the caller to deny.
use super::{StoreError, refresh::IssuedAccess};
use crate::clock::UnixTime;

/// What an authorization code stands for until it is exchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeGrant {
    /// The family the exchange starts (its refresh tokens and access tokens); revoked if the
    /// code is used twice.
    pub family_id: String,
    pub client_id: String,
    pub subject: String,
    pub scope: String,
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri`: then the token request must
    /// name the same (RFC 6749 §4.1.3).
    pub redirect_uri_given: bool,
    pub code_challenge: Option<String>,
    /// `S256` or `plain` (RFC 7636 §4.3), with `code_challenge`.
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    /// The signed-in user the code was issued to.
    pub user_id: Option<String>,
    /// The session it was issued in (`sid`; logout ends what it produced).
    pub session_id: Option<String>,
    /// How the user authenticated (OIDC Core §2 `acr` and `amr`).
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub auth_time: UnixTime,
    /// When the session it was issued in ends at the latest: the session-bound refresh
    /// family it starts ends then too.
    pub session_expires_at: Option<UnixTime>,
    pub expires_at: UnixTime,
}

/// The outcome of presenting a code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per exchange and matched at once: a box would only add an allocation"
)]
pub enum CodeUse {
    /// First use, in time: the grant it stood for.
    Fresh(CodeGrant),
    /// Already used: its family has been revoked; `access` are the access tokens issued from
    /// it that are still live, for the denylist.
    Replayed {
        family_id: String,
        access: Vec<IssuedAccess>,
    },
    /// Unknown or expired.
    Invalid,
}

#[async_trait::async_trait]
pub trait CodeStore: Send + Sync {
    async fn put_code(&self, code_hash: &str, grant: &CodeGrant) -> Result<(), StoreError>;

    /// Consumes the code atomically: of concurrent callers exactly one gets `Fresh`.
    async fn consume_code(&self, code_hash: &str, now: UnixTime) -> Result<CodeUse, StoreError>;

    /// Removes the codes that can change no outcome any more: unused ones past their expiry,
    /// and used ones once nothing of their family is live (until then a replay still revokes
    /// it). How many.
    async fn prune_expired(&self, now: UnixTime) -> Result<u64, StoreError>;
}
