//! What is signed and how: the JWS algorithms (RFC 7518 §3.1) and the kinds of JWT, each with
//! its own `typ`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// JWS algorithms this server signs with (RFC 7518 §3.1 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    RS256,
    ES256,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl SigningAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The inverse of [`Self::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        [Self::RS256, Self::ES256, Self::EdDSA]
            .into_iter()
            .find(|a| a.as_str() == name)
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of JWT this server signs, each with its own `typ` header so that one kind can never
/// be taken for another (RFC 8725 §3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typ {
    /// RFC 9068 §2.1: `at+jwt`.
    AccessToken,
    /// OpenID Connect Core §2: an ID token; `JWT` is the conventional `typ`.
    IdToken,
    /// OpenID Connect Back-Channel Logout 1.0 §2.4: `logout+jwt`.
    LogoutToken,
}

impl Typ {
    pub const ALL: [Typ; 3] = [Typ::AccessToken, Typ::IdToken, Typ::LogoutToken];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "at+jwt",
            Self::IdToken => "JWT",
            Self::LogoutToken => "logout+jwt",
        }
    }

    pub(super) fn index(self) -> usize {
        match self {
            Self::AccessToken => 0,
            Self::IdToken => 1,
            Self::LogoutToken => 2,
        }
    }
}
