//! The protocol's errors: one closed vocabulary of wire codes ([`ErrorCode`]), the wire body
//! ([`OAuthError`], RFC 6749 §5.2), and what an endpoint can fail with ([`EndpointError`]).
//!
//! How an error is delivered is the HTTP layer's business, decided by type: the JSON of the
//! token, introspection and revocation endpoints with its status (`http/error.rs`, every code
//! mapped, no catch-all arm); later an authorize error that is a page or a redirect
//! ([`AuthorizeError`]). The core never names an HTTP status.

use serde::Serialize;

use crate::{keys::KeyError, store::StoreError};

/// Every error code this server sends (RFC 6749 §5.2 and §4.1.2.1, RFC 8628 §3.5, RFC 7591
/// §3.2.2). Serde names
/// are the wire strings. A code is added here when a feature first sends it, and each
/// delivery must then decide what it means for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 6749 §4.1.2.1; also used at the boundary for internal failures, whose cause is logged, never echoed.
    ServerError,
    /// RFC 6749 §4.1.2.1: a dependency (store, key set) is unavailable for a while.
    TemporarilyUnavailable,
    /// RFC 8628 §3.5 (OAuth Extensions Error registry): the caller is going too fast — here, too
    /// many failed client authentications from its address or on its client id (RFC 6749
    /// §2.3.1's brute-force protection). 429 with `Retry-After`.
    SlowDown,
    /// RFC 6749 §4.1.2.1: the authorization endpoint does not answer this `response_type`.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: the user (or the server's policy) refused.
    AccessDenied,
    /// OIDC Core §3.1.2.6: `prompt=none` and nobody is signed in (or not as asked).
    LoginRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` and the user has not allowed this yet.
    ConsentRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` and the user would have to do something.
    InteractionRequired,
    /// OIDC Core §3.1.2.6: request objects (`request`) are not supported.
    RequestNotSupported,
    /// OIDC Core §3.1.2.6: `request_uri` is not supported (until PAR).
    RequestUriNotSupported,
    /// OIDC Core §3.1.2.6: the `registration` parameter is not supported.
    RegistrationNotSupported,
    /// RFC 6750 §3.1: the bearer token presented (userinfo) is not valid.
    InvalidToken,
    /// RFC 7591 §3.2.2: a redirect URI of a registration is refused.
    InvalidRedirectUri,
    /// RFC 7591 §3.2.2: another metadata value of a registration is refused.
    InvalidClientMetadata,
    /// RFC 7591 §3.2.2: the software statement is not a valid signed JWT.
    InvalidSoftwareStatement,
    /// RFC 7591 §3.2.2: the software statement is not one this server accepts.
    UnapprovedSoftwareStatement,
}

impl ErrorCode {
    /// Every code, for tests that pin the vocabulary.
    pub const ALL: [ErrorCode; 22] = [
        Self::InvalidRequest,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnauthorizedClient,
        Self::UnsupportedGrantType,
        Self::InvalidScope,
        Self::ServerError,
        Self::TemporarilyUnavailable,
        Self::SlowDown,
        Self::UnsupportedResponseType,
        Self::AccessDenied,
        Self::LoginRequired,
        Self::ConsentRequired,
        Self::InteractionRequired,
        Self::RequestNotSupported,
        Self::RequestUriNotSupported,
        Self::RegistrationNotSupported,
        Self::InvalidToken,
        Self::InvalidRedirectUri,
        Self::InvalidClientMetadata,
        Self::InvalidSoftwareStatement,
        Self::UnapprovedSoftwareStatement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::SlowDown => "slow_down",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::RegistrationNotSupported => "registration_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidSoftwareStatement => "invalid_software_statement",
            Self::UnapprovedSoftwareStatement => "unapproved_software_statement",
        }
    }
}

/// An OAuth error as sent on the wire: `{"error": …, "error_description": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    pub error: ErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// `Retry-After`, in seconds, when the error says when to come back.
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl OAuthError {
    pub fn new(error: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: Some(description.into()),
            retry_after_secs: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// Every client-authentication failure reads the same from outside, so that an unknown
    /// client cannot be told from a wrong secret or a method the client may not use.
    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "client authentication failed")
    }

    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, "internal error")
    }

    /// Too many failed authentications: come back in `retry_after_secs`.
    pub fn slow_down(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                ErrorCode::SlowDown,
                format!(
                    "too many failed client authentications; retry after {retry_after_secs} seconds"
                ),
            )
        }
    }

    pub fn temporarily_unavailable() -> Self {
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "service temporarily unavailable, retry later",
        )
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.error.as_str())?;
        if let Some(d) = &self.error_description {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for OAuthError {}

/// Why an endpoint's request failed: a protocol answer for the client, or an internal failure
/// that the boundary turns into `server_error` / `temporarily_unavailable` and logs.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error(transparent)]
    Rejected(#[from] OAuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing failed: {0}")]
    Signing(#[from] KeyError),
    #[error("too many failed authentications")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Random(#[from] super::random::RandomError),
}

impl EndpointError {
    /// The error sent to the client. Internal causes are never echoed.
    pub fn to_oauth(&self) -> OAuthError {
        match self {
            Self::Rejected(e) => e.clone(),
            Self::Store(StoreError::Unavailable(_)) => OAuthError::temporarily_unavailable(),
            Self::Store(StoreError::Corrupt(_)) | Self::Signing(_) | Self::Random(_) => {
                OAuthError::server_error()
            }
            Self::Throttled { retry_after_secs } => OAuthError::slow_down(*retry_after_secs),
        }
    }

    /// Whether the cause is the server's (logged at the boundary), not the client's.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Store(_) | Self::Signing(_) | Self::Random(_))
    }
}

/// How an authorization endpoint error reaches the user (RFC 6749 §4.1.2.1): as a page when
/// the client or its redirect URI cannot be trusted — "the authorization server SHOULD inform
/// the resource owner of the error and MUST NOT automatically redirect the user-agent to the
/// invalid redirection URI" — else by redirect to the client, with `state` and, per RFC 9207,
/// `iss`, in the response mode the request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    ShowPage(OAuthError),
    Redirect {
        redirect_uri: String,
        mode: super::authorize::ResponseMode,
        state: Option<String>,
        error: OAuthError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_rfc6749_section_5_2_shape() {
        let e = OAuthError::invalid_request("missing grant_type");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"error":"invalid_request","error_description":"missing grant_type"}"#
        );
        let bare = OAuthError {
            error: ErrorCode::UnsupportedGrantType,
            error_description: None,
            retry_after_secs: None,
        };
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"error":"unsupported_grant_type"}"#
        );
    }

    #[test]
    fn wire_names_match_as_str() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
