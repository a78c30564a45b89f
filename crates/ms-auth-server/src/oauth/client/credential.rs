//! How a client proves who it is at the token endpoint (RFC 6749 §2.3, RFC 7591 §2
//! `token_endpoint_auth_method`): nothing (a public client), a secret, or a key.

use super::super::secret::SecretHash;

/// What the server holds to check a client's authentication.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "a SecretHash keeps its HMAC key ready (a microsecond per check); a client is built once and shared behind an Arc"
)]
pub enum ClientCredential {
    /// A public client (RFC 6749 §2.1): it has no secret, and never authenticates with one.
    None,
    /// A secret, held as a salted hash only (`client_secret_basic`, `client_secret_post`).
    SecretHash(SecretHash),
    /// A secret in recoverable form, sealed under the store's key: `client_secret_jwt` signs
    /// with the secret itself (HMAC), which no hash can verify.
    SealedSecret(String),
    /// Public keys the client signs with (`private_key_jwt`).
    Jwks(JwksSource),
}

/// Where a client's JWK set is: registered by value or by URL (RFC 7591 §2 `jwks`,
/// `jwks_uri`; "MUST NOT both be present").
#[derive(Debug, Clone, PartialEq)]
pub enum JwksSource {
    Inline(serde_json::Value),
    Uri(String),
}

impl ClientCredential {
    /// The secret's hash, for the methods that present the secret itself.
    pub fn secret_hash(&self) -> Option<&SecretHash> {
        match self {
            Self::SecretHash(hash) => Some(hash),
            Self::None | Self::SealedSecret(_) | Self::Jwks(_) => None,
        }
    }
}
