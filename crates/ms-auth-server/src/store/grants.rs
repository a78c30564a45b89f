//! Grant state with the atomicity the protocol needs: an authorization code is consumed once
//! (RFC 6749 §4.1.2; a second use revokes what the first produced), a refresh token rotates
//! only while it is current, and a reused one revokes its whole family (RFC 9700 §4.14.2).
//! Codes and tokens are looked up by their SHA-256 ([`credential_hash`]), never stored as
//! they are.
use crate::clock::UnixTime;

use aws_lc_rs::digest::{SHA256, digest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::StoreError;

/// The stored form of a code or refresh token: base64url(SHA-256(value)). A high-entropy
/// credential needs no salt or slow hash; the hash makes a leaked row useless.
pub fn credential_hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, value.as_bytes()))
}

/// What an authorization code stands for until it is exchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeGrant {
    /// The refresh-token family the exchange starts; revoked if the code is used twice.
    pub family_id: String,
    pub client_id: String,
    pub subject: String,
    pub scope: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: UnixTime,
    pub expires_at: UnixTime,
}

/// The outcome of presenting a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeUse {
    /// First use, in time: the grant it stood for.
    Fresh(CodeGrant),
    /// Already used: its family has been revoked.
    Replayed { family_id: String },
    /// Unknown or expired.
    Invalid,
}

/// A refresh token's grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    pub family_id: String,
    pub client_id: String,
    pub subject: String,
    pub scope: String,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was current: it is spent now, and the new token (stored) carries this grant.
    Rotated(RefreshGrant),
    /// It had been rotated already: someone holds a copy, so the whole family is revoked.
    Reused { family_id: String },
    /// Unknown, expired or revoked.
    Invalid,
}

#[async_trait::async_trait]
pub trait GrantStore: Send + Sync {
    async fn put_code(&self, code_hash: &str, grant: &CodeGrant) -> Result<(), StoreError>;

    /// Consumes the code atomically: of concurrent callers exactly one gets `Fresh`.
    async fn consume_code(&self, code_hash: &str, now: UnixTime) -> Result<CodeUse, StoreError>;

    async fn put_refresh(&self, token_hash: &str, grant: &RefreshGrant) -> Result<(), StoreError>;

    /// Spends `old_hash` and stores `new_hash` in its family with `new_expires_at`, if
    /// `old_hash` is current; of concurrent callers exactly one gets `Rotated`.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError>;

    /// Revokes every token of a family; how many were still live.
    async fn revoke_family(&self, family_id: &str, now: UnixTime) -> Result<u64, StoreError>;

    /// The grant of a live (current, unexpired, unrevoked) refresh token.
    async fn refresh(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<RefreshGrant>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_hash_is_sha256_base64url() {
        // SHA-256("abc"), FIPS 180-2 Appendix B.1.
        assert_eq!(
            credential_hash("abc"),
            URL_SAFE_NO_PAD.encode([
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
                0xf2, 0x00, 0x15, 0xad
            ])
        );
    }
}
