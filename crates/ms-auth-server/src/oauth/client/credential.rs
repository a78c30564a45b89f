//! How a client proves who it is at the token endpoint (RFC 6749 §2.3, RFC 7591 §2
//! `token_endpoint_auth_method`): nothing (a public client), a secret, or a key.

use super::{
    super::secret::{ClientSecret, SecretHash},
    ClientId,
};
use crate::store::sealing::{SealError, Sealer};

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
    Inline(InlineKeys),
    Uri(String),
}

/// A JWK set registered by value: as registered (stored and shown back), and its keys read
/// once, when the client is loaded, rather than at each assertion.
#[derive(Debug, Clone)]
pub struct InlineKeys {
    set: serde_json::Value,
    keys: std::sync::Arc<Vec<jsonwebtoken::jwk::Jwk>>,
}

impl InlineKeys {
    pub fn new(set: serde_json::Value) -> Self {
        let keys = std::sync::Arc::new(crate::oauth::client_assertion::parse_key_set(&set));
        Self { set, keys }
    }

    /// The set as registered.
    pub fn set(&self) -> &serde_json::Value {
        &self.set
    }

    /// The keys of it this server can read.
    pub fn keys(&self) -> std::sync::Arc<Vec<jsonwebtoken::jwk::Jwk>> {
        std::sync::Arc::clone(&self.keys)
    }
}

impl PartialEq for InlineKeys {
    fn eq(&self, other: &Self) -> bool {
        self.set == other.set
    }
}

impl ClientCredential {
    /// The secret's hash, for the methods that present the secret itself.
    pub fn secret_hash(&self) -> Option<&SecretHash> {
        match self {
            Self::SecretHash(hash) => Some(hash),
            Self::None | Self::SealedSecret(_) | Self::Jwks(_) => None,
        }
    }

    /// `secret` sealed under the store's key for `client_id` (`client_secret_jwt`).
    pub fn seal_secret(
        sealer: &Sealer,
        client_id: &ClientId,
        secret: &ClientSecret,
    ) -> Result<Self, SealError> {
        sealer
            .seal(secret.expose().as_bytes(), &secret_aad(client_id))
            .map(Self::SealedSecret)
    }

    /// The secret of a sealed credential (`None` for every other kind): an error when it was
    /// sealed under another key or for another client (a row copied across).
    pub fn open_secret(
        &self,
        sealer: &Sealer,
        client_id: &ClientId,
    ) -> Option<Result<ClientSecret, SealError>> {
        let Self::SealedSecret(sealed) = self else {
            return None;
        };
        Some(
            sealer
                .open(sealed, &secret_aad(client_id))
                .and_then(|plain| String::from_utf8(plain).map_err(|_| SealError::Open))
                .map(ClientSecret::new),
        )
    }
}

/// What a sealed secret is bound to: its client, so that it opens in no other client's row.
fn secret_aad(client_id: &ClientId) -> Vec<u8> {
    format!("client-secret:{client_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_for_its_client_only() {
        let sealer = Sealer::random().unwrap();
        let secret = ClientSecret::new("s3cret-of-the-client");
        let a = ClientId::new("a");
        let sealed = ClientCredential::seal_secret(&sealer, &a, &secret).unwrap();
        let ClientCredential::SealedSecret(text) = &sealed else {
            panic!("{sealed:?}");
        };
        assert!(!text.contains("s3cret"), "sealed, not encoded");
        let opened = sealed.open_secret(&sealer, &a).unwrap().unwrap();
        assert_eq!(opened.expose(), secret.expose());
        assert!(
            sealed
                .open_secret(&sealer, &ClientId::new("b"))
                .unwrap()
                .is_err()
        );
        let other = Sealer::random().unwrap();
        assert!(sealed.open_secret(&other, &a).unwrap().is_err());
        assert!(ClientCredential::None.open_secret(&sealer, &a).is_none());
    }
}
