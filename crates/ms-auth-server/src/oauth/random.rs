//! Unguessable values: codes, refresh tokens, session and interaction tokens, CSRF tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// The system's random source failed (never seen in practice; answered as `server_error`).
#[derive(Debug, thiserror::Error)]
#[error("the system random source failed")]
pub struct RandomError;

/// 256 random bits, base64url (43 characters): beyond guessing (RFC 6749 §10.10 asks for
/// 2^-128 at most; RFC 9700 §4.14 the same of refresh tokens).
pub fn token() -> Result<String, RandomError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| RandomError)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_43_base64url_characters_and_differ() {
        let a = super::token().unwrap();
        let b = super::token().unwrap();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
    }
}
