//! Private keys at rest: sealed with AES-256-GCM (aws-lc-rs) under the configured
//! `store.encryption_key`. The associated data binds a sealed key to its row: since seal
//! version 2 to every column that says what the key may do — kid, algorithm, state and its
//! times — so a row edited in the database (a retired key made active again, a publication
//! stretched, F13) no longer opens; version 1 bound the `kid` alone. Stored form: `v1.` +
//! base64url(nonce ‖ ciphertext ‖ tag); the prefix names that form, not the associated data.

use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::store::StoredKey;

const PREFIX: &str = "v1.";

/// What the seal of a signing-key row is bound to (the `seal_version` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealVersion {
    /// The `kid` alone: rows written before migration 4, re-sealed when the store opens.
    KidOnly,
    /// The whole row.
    Row,
}

impl SealVersion {
    pub fn column(self) -> i64 {
        match self {
            Self::KidOnly => 1,
            Self::Row => 2,
        }
    }

    pub fn from_column(v: i64) -> Option<Self> {
        [Self::KidOnly, Self::Row]
            .into_iter()
            .find(|s| s.column() == v)
    }
}

/// The associated data of `key`'s row under `version`. Version 2 is a JSON array (one
/// unambiguous encoding of strings, numbers and nulls); changing it makes every stored row
/// unreadable, which the unit test below pins.
pub fn key_row_aad(version: SealVersion, key: &StoredKey) -> Vec<u8> {
    match version {
        SealVersion::KidOnly => key.kid.as_bytes().to_vec(),
        SealVersion::Row => serde_json::json!([
            "ms-auth-server signing_keys v2",
            key.kid,
            key.algorithm.as_str(),
            key.state.as_str(),
            key.created_at,
            key.activates_at,
            key.publish_until,
        ])
        .to_string()
        .into_bytes(),
    }
}

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

    /// A key of this process's own: for what needs sealing when no store key is configured
    /// (the in-memory store, whose data dies with the process anyway).
    pub fn random() -> Result<Self, SealError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SealError::Seal)?;
        Self::from_base64(&URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Seals `plaintext`, bound to the associated data `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Seal)?;
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// The plaintext of `sealed`, if it was sealed under this key bound to exactly `aad`.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, SealError> {
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
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clock::UnixTime, keys::SigningAlgorithm, store::KeyState};

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn round_trip_bound_to_its_kid() {
        let s = Sealer::from_base64(KEY).unwrap();
        let sealed = s.seal(b"-----BEGIN PRIVATE KEY-----", b"kid-1").unwrap();
        assert!(sealed.starts_with("v1.") && !sealed.contains("PRIVATE"));
        assert_eq!(
            s.open(&sealed, b"kid-1").unwrap(),
            b"-----BEGIN PRIVATE KEY-----"
        );
        assert_eq!(
            s.open(&sealed, b"kid-2"),
            Err(SealError::Open),
            "moved to another row"
        );
        let other = Sealer::from_base64("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=").unwrap();
        assert_eq!(
            other.open(&sealed, b"kid-1"),
            Err(SealError::Open),
            "another key"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(s.open(&tampered, b"kid-1"), Err(SealError::Open));
        assert_ne!(
            s.seal(b"x", b"k").unwrap(),
            s.seal(b"x", b"k").unwrap(),
            "fresh nonce"
        );
    }

    fn row() -> StoredKey {
        StoredKey {
            kid: "kid-1".to_owned(),
            algorithm: SigningAlgorithm::ES256,
            state: KeyState::Retired,
            private_key_pem: String::new(),
            created_at: UnixTime::from_secs(10),
            activates_at: Some(UnixTime::from_secs(20)),
            publish_until: Some(UnixTime::from_secs(30)),
        }
    }

    #[test]
    fn the_row_associated_data_is_pinned() {
        assert_eq!(
            String::from_utf8(key_row_aad(SealVersion::Row, &row())).unwrap(),
            r#"["ms-auth-server signing_keys v2","kid-1","ES256","retired",10,20,30]"#
        );
        let next = StoredKey {
            state: KeyState::Next,
            publish_until: None,
            ..row()
        };
        assert_eq!(
            String::from_utf8(key_row_aad(SealVersion::Row, &next)).unwrap(),
            r#"["ms-auth-server signing_keys v2","kid-1","ES256","next",10,20,null]"#
        );
        assert_eq!(key_row_aad(SealVersion::KidOnly, &row()), b"kid-1");
    }

    #[test]
    fn a_seal_bound_to_its_row_refuses_any_other_column() {
        let s = Sealer::from_base64(KEY).unwrap();
        let sealed = s
            .seal(b"pem", &key_row_aad(SealVersion::Row, &row()))
            .unwrap();
        assert_eq!(
            s.open(&sealed, &key_row_aad(SealVersion::Row, &row())),
            Ok(b"pem".to_vec())
        );
        let edits = [
            StoredKey {
                kid: "kid-2".to_owned(),
                ..row()
            },
            StoredKey {
                algorithm: SigningAlgorithm::RS256,
                ..row()
            },
            StoredKey {
                state: KeyState::Active,
                ..row()
            },
            StoredKey {
                created_at: UnixTime::from_secs(11),
                ..row()
            },
            StoredKey {
                activates_at: None,
                ..row()
            },
            StoredKey {
                publish_until: Some(UnixTime::from_secs(i64::MAX)),
                ..row()
            },
        ];
        for edited in edits {
            assert_eq!(
                s.open(&sealed, &key_row_aad(SealVersion::Row, &edited)),
                Err(SealError::Open),
                "{edited:?}"
            );
        }
        assert_eq!(
            s.open(&sealed, &key_row_aad(SealVersion::KidOnly, &row())),
            Err(SealError::Open),
            "no downgrade to the kid-only form"
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
