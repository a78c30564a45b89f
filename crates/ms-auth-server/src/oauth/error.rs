//! OAuth 2.0 error responses (RFC 6749 §5.2): the wire error code is the type.

use serde::Serialize;

/// The error codes of RFC 6749 §5.2 that the token endpoint answers with.
///
/// Serde names are the wire strings. The HTTP status of each code is decided in one place,
/// [`OAuthErrorCode::status`], with no catch-all arm: a new code does not compile until it is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
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
}

impl OAuthErrorCode {
    /// The HTTP status code RFC 6749 §5.2 gives each error.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest
            | Self::InvalidGrant
            | Self::UnauthorizedClient
            | Self::UnsupportedGrantType
            | Self::InvalidScope => 400,
            // "The authorization server MAY return an HTTP 401 (Unauthorized) status code to
            // indicate which HTTP authentication schemes are supported" — we always do.
            Self::InvalidClient => 401,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            Self::SlowDown => 429,
        }
    }

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
        }
    }
}

/// An OAuth error as sent on the wire: `{"error": …, "error_description": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    pub error: OAuthErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// `Retry-After`, in seconds, when the error says when to come back.
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl OAuthError {
    pub fn new(error: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: Some(description.into()),
            retry_after_secs: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidScope, description)
    }

    /// Every client-authentication failure reads the same from outside, so that an unknown
    /// client cannot be told from a wrong secret or a method the client may not use.
    pub fn invalid_client() -> Self {
        Self::new(
            OAuthErrorCode::InvalidClient,
            "client authentication failed",
        )
    }

    pub fn server_error() -> Self {
        Self::new(OAuthErrorCode::ServerError, "internal error")
    }

    /// Too many failed authentications: come back in `retry_after_secs`.
    pub fn slow_down(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                OAuthErrorCode::SlowDown,
                format!(
                    "too many failed client authentications; retry after {retry_after_secs} seconds"
                ),
            )
        }
    }

    pub fn temporarily_unavailable() -> Self {
        Self::new(
            OAuthErrorCode::TemporarilyUnavailable,
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
            error: OAuthErrorCode::UnsupportedGrantType,
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
        for code in [
            OAuthErrorCode::InvalidRequest,
            OAuthErrorCode::InvalidClient,
            OAuthErrorCode::InvalidGrant,
            OAuthErrorCode::UnauthorizedClient,
            OAuthErrorCode::UnsupportedGrantType,
            OAuthErrorCode::InvalidScope,
            OAuthErrorCode::ServerError,
            OAuthErrorCode::TemporarilyUnavailable,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn statuses_follow_rfc6749() {
        assert_eq!(OAuthErrorCode::InvalidClient.status(), 401);
        assert_eq!(OAuthErrorCode::InvalidScope.status(), 400);
        assert_eq!(OAuthErrorCode::UnsupportedGrantType.status(), 400);
    }
}
