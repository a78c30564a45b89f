//! Client secrets (RFC 6749 §2.3.1) and how they are stored and checked.
//!
//! Client secrets are not passwords: the server generates them with high entropy, so a slow
//! password hash buys nothing but latency (bcrypt also ignores bytes past 72). A secret is kept
//! as a salted HMAC-SHA256 in a self-describing, versioned PHC-style string
//! `$hmac-sha256$v=1$<salt>$<hash>` (unpadded standard base64), so the algorithm can change
//! later without breaking stored values. Verification costs about a microsecond and compares
//! in constant time.

use std::fmt;

use aws_lc_rs::{hmac, rand::SecureRandom};
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use serde::Deserialize;
use subtle::ConstantTimeEq;

const ALGORITHM_ID: &str = "hmac-sha256";
const VERSION: &str = "v=1";
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

/// A client secret in clear text, as presented by a client or written in a config file.
/// Its `Debug` never shows the value.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// A new secret of 256 random bits, base64url (43 characters).
    pub fn generate() -> Result<Self, SecretHashError> {
        Self::generate_bytes::<32>()
    }

    /// A new secret of 512 random bits, base64url (86 characters): an HMAC key for HS512 too
    /// (RFC 7518 §3.2: "A key of the same size as the hash output … or larger MUST be used").
    pub fn generate_hmac_key() -> Result<Self, SecretHashError> {
        Self::generate_bytes::<64>()
    }

    fn generate_bytes<const N: usize>() -> Result<Self, SecretHashError> {
        let mut bytes = [0u8; N];
        aws_lc_rs::rand::SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SecretHashError::Random)?;
        Ok(Self(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        ))
    }

    /// Whether it carries at least 128 bits (RFC 6749 §10.10: guessing must be infeasible).
    pub fn is_strong(&self) -> bool {
        auth_middleware::secret_strength_bits(&self.0) >= auth_middleware::MIN_SECRET_BITS
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretHashError {
    #[error("unsupported secret hash algorithm {0:?} (supported: \"{ALGORITHM_ID}\")")]
    UnsupportedAlgorithm(String),
    #[error("malformed secret hash: expected $hmac-sha256$v=1$<salt>$<hash> in unpadded base64")]
    Malformed,
    #[error("no randomness available")]
    Random,
}

/// A stored client secret: salt and salted HMAC-SHA256 of the secret.
#[derive(Clone)]
pub struct SecretHash {
    salt: Vec<u8>,
    hash: [u8; HASH_LEN],
    key: hmac::Key,
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

impl SecretHash {
    /// Hashes a secret under a fresh random salt.
    pub fn generate(secret: &ClientSecret) -> Result<Self, aws_lc_rs::error::Unspecified> {
        let mut salt = [0u8; SALT_LEN];
        aws_lc_rs::rand::SystemRandom::new().fill(&mut salt)?;
        Ok(Self::with_salt(secret.expose().as_bytes(), &salt))
    }

    fn with_salt(secret: &[u8], salt: &[u8]) -> Self {
        let key = hmac::Key::new(hmac::HMAC_SHA256, salt);
        let mut hash = [0u8; HASH_LEN];
        hash.copy_from_slice(hmac::sign(&key, secret).as_ref());
        Self {
            salt: salt.to_vec(),
            hash,
            key,
        }
    }

    /// Parses the stored form `$hmac-sha256$v=1$<salt>$<hash>`.
    pub fn parse(stored: &str) -> Result<Self, SecretHashError> {
        let mut parts = stored.split('$');
        if parts.next() != Some("") {
            return Err(SecretHashError::Malformed);
        }
        match parts.next() {
            Some(ALGORITHM_ID) => {}
            Some(other) => return Err(SecretHashError::UnsupportedAlgorithm(other.to_owned())),
            None => return Err(SecretHashError::Malformed),
        }
        let (Some(VERSION), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SecretHashError::Malformed);
        };
        let salt = STANDARD_NO_PAD
            .decode(salt)
            .map_err(|_| SecretHashError::Malformed)?;
        let hash: [u8; HASH_LEN] = STANDARD_NO_PAD
            .decode(hash)
            .map_err(|_| SecretHashError::Malformed)?
            .try_into()
            .map_err(|_| SecretHashError::Malformed)?;
        if salt.len() < 8 {
            return Err(SecretHashError::Malformed);
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, &salt);
        Ok(Self { salt, hash, key })
    }

    /// The stored form, e.g. for the `hash-secret` command.
    pub fn to_phc(&self) -> String {
        format!(
            "${ALGORITHM_ID}${VERSION}${}${}",
            STANDARD_NO_PAD.encode(&self.salt),
            STANDARD_NO_PAD.encode(self.hash)
        )
    }

    /// Checks a presented secret in constant time. Every byte counts: unlike bcrypt there is
    /// no 72-byte cut-off.
    pub fn verify(&self, presented: &[u8]) -> bool {
        let tag = hmac::sign(&self.key, presented);
        tag.as_ref().ct_eq(&self.hash).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_stored_form() {
        let h = SecretHash::generate(&ClientSecret::new("s3cret")).unwrap();
        let stored = h.to_phc();
        assert!(stored.starts_with("$hmac-sha256$v=1$"), "{stored}");
        let parsed = SecretHash::parse(&stored).unwrap();
        assert!(parsed.verify(b"s3cret"));
        assert!(!parsed.verify(b"s3cre"));
        assert!(!parsed.verify(b""));
    }

    #[test]
    fn same_secret_different_salt_gives_different_hash() {
        let s = ClientSecret::new("same");
        assert_ne!(
            SecretHash::generate(&s).unwrap().to_phc(),
            SecretHash::generate(&s).unwrap().to_phc()
        );
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256(key = salt "saltsalt", msg = "secret"), computed independently with
        // `printf secret | openssl dgst -sha256 -hmac saltsalt -binary | base64`.
        let h = SecretHash::with_salt(b"secret", b"saltsalt");
        assert_eq!(
            h.to_phc(),
            "$hmac-sha256$v=1$c2FsdHNhbHQ$6qAgNDB0yN5SJra59JsHPTs/CUf8ixHpZYUbky1VKGg"
        );
    }

    #[test]
    fn secrets_longer_than_72_bytes_differing_only_after_byte_72_are_told_apart() {
        let base = "x".repeat(72);
        let h = SecretHash::generate(&ClientSecret::new(format!("{base}-one"))).unwrap();
        assert!(h.verify(format!("{base}-one").as_bytes()));
        assert!(!h.verify(format!("{base}-two").as_bytes()));
        assert!(!h.verify(base.as_bytes()));
    }

    #[test]
    fn parse_errors_name_the_problem() {
        assert_eq!(
            SecretHash::parse("$2b$12$abcdefghijklmnopqrstuv").unwrap_err(),
            SecretHashError::UnsupportedAlgorithm("2b".into())
        );
        for bad in [
            "",
            "plain",
            "$hmac-sha256$v=2$c2FsdHNhbHQ$6qAgNDB0yN5SJra59JsHPTs/CUf8ixHpZYUbky1VKGg",
            "$hmac-sha256$v=1$c2FsdHNhbHQ$short",
            "$hmac-sha256$v=1$c2FsdA$6qAgNDB0yN5SJra59JsHPTs/CUf8ixHpZYUbky1VKGg",
            "$hmac-sha256$v=1$c2FsdHNhbHQ$6qAgNDB0yN5SJra59JsHPTs/CUf8ixHpZYUbky1VKGg$extra",
        ] {
            assert_eq!(
                SecretHash::parse(bad).unwrap_err(),
                SecretHashError::Malformed,
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", ClientSecret::new("hunter2")),
            "ClientSecret(<redacted>)"
        );
        let h = SecretHash::generate(&ClientSecret::new("hunter2")).unwrap();
        assert_eq!(format!("{h:?}"), "SecretHash(<redacted>)");
    }
}
