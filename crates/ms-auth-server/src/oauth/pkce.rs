//! Proof Key for Code Exchange (RFC 7636): the challenge sent to the authorization endpoint and
//! the verifier that must match it at the token endpoint.

use aws_lc_rs::digest::{SHA256, digest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// `code_challenge_method` (RFC 7636 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChallengeMethod {
    S256,
    /// Only for clients configured for it: it protects nothing against an attacker who can read
    /// the authorization request (RFC 9700 §2.1.1).
    #[serde(rename = "plain")]
    Plain,
}

impl ChallengeMethod {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`, unreserved = ALPHA / DIGIT / "-" / "." /
/// "_" / "~". A challenge has the same syntax (§4.2: S256's is 43 base64url characters).
pub fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `verifier` answers `challenge` (RFC 7636 §4.6), compared in constant time.
pub fn verify(challenge: &str, method: ChallengeMethod, verifier: &str) -> bool {
    if !well_formed(verifier) {
        return false;
    }
    let expected = match method {
        ChallengeMethod::S256 => URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes())),
        ChallengeMethod::Plain => verifier.to_owned(),
    };
    expected.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b() {
        assert!(verify(CHALLENGE, ChallengeMethod::S256, VERIFIER));
        assert!(!verify(
            CHALLENGE,
            ChallengeMethod::S256,
            &VERIFIER.replace('d', "e")
        ));
        assert!(!verify(CHALLENGE, ChallengeMethod::Plain, VERIFIER));
        assert!(verify(VERIFIER, ChallengeMethod::Plain, VERIFIER));
    }

    #[test]
    fn syntax() {
        assert!(well_formed(VERIFIER));
        assert!(!well_formed(&VERIFIER[..42]), "too short");
        assert!(!well_formed(&"a".repeat(129)), "too long");
        assert!(
            !well_formed(&format!("{}+", &VERIFIER[..43])),
            "not unreserved"
        );
        assert!(
            !verify("x", ChallengeMethod::Plain, "x"),
            "short verifiers never match"
        );
    }

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(ChallengeMethod::parse("S256"), Some(ChallengeMethod::S256));
        assert_eq!(ChallengeMethod::parse("s256"), None);
        assert_eq!(
            ChallengeMethod::parse("plain"),
            Some(ChallengeMethod::Plain)
        );
    }
}
