//! Private keys at rest: sealed with AES-256-GCM (aws-lc-rs) under the configured
//! `store.encryption_key`, bound to their `kid` as associated data so a sealed key cannot be
//! moved to another row. Stored form: `v1.` + base64url(nonce ‖ ciphertext ‖ tag).

use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

const PREFIX: &str = "v1.";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("`store.encryption_key` must be 32 bytes, base64 encoded (`openssl rand -base64 32`)")]
    BadKey,
    #[error(
        "a sealed key could not be opened: wrong `store.encryption_key`, or the row was altered"
    )]
    Open,
    #[error("sealing failed")]
    Seal,
}

/// The data-encryption key. Its `Debug` shows nothing of it.
pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// From 32 bytes in standard or URL-safe base64, padded or not.
    pub fn from_base64(encoded: &str) -> Result<Self, SealError> {
        let encoded = encoded.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
            .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')))
            .map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SealError::BadKey)?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    pub fn seal(&self, plaintext: &[u8], bound_to: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Seal)?;
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(bound_to.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    pub fn open(&self, sealed: &str, bound_to: &str) -> Result<Vec<u8>, SealError> {
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|r| r.len() > NONCE_LEN)
            .ok_or(SealError::Open)?;
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(bound_to.as_bytes()), &mut buf)
            .map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn round_trip_bound_to_its_kid() {
        let s = Sealer::from_base64(KEY).unwrap();
        let sealed = s.seal(b"-----BEGIN PRIVATE KEY-----", "kid-1").unwrap();
        assert!(sealed.starts_with("v1.") && !sealed.contains("PRIVATE"));
        assert_eq!(
            s.open(&sealed, "kid-1").unwrap(),
            b"-----BEGIN PRIVATE KEY-----"
        );
        assert_eq!(
            s.open(&sealed, "kid-2"),
            Err(SealError::Open),
            "moved to another row"
        );
        let other = Sealer::from_base64("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=").unwrap();
        assert_eq!(
            other.open(&sealed, "kid-1"),
            Err(SealError::Open),
            "another key"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(s.open(&tampered, "kid-1"), Err(SealError::Open));
        assert_ne!(
            s.seal(b"x", "k").unwrap(),
            s.seal(b"x", "k").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn refuses_keys_of_the_wrong_size() {
        for bad in ["", "c2hvcnQ=", "not base64 at all!"] {
            assert_eq!(
                Sealer::from_base64(bad).unwrap_err(),
                SealError::BadKey,
                "{bad}"
            );
        }
    }
}
