//! Errors on the wire. Each delivery is a type, and the status of each code is decided here,
//! in the HTTP layer, with no catch-all arm:
//! - [`EndpointError`] (token, introspection, revocation): RFC 6749 §5.2 JSON with its status,
//!   as an actix [`ResponseError`] so handlers use `?`;
//! - [`ApiError`] (the admin API): the same JSON shape, from a closed set of answers;
//! - [`BearerError`] (endpoints a bearer token opens, userinfo with OpenID Connect): the RFC
//!   6750 §3 challenge, written by the same code every resource server uses;
//! - plain HTTP errors (404, 405, 413) in the same shape.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};

use crate::oauth::error::{EndpointError, ErrorCode, OAuthError};

/// Realm named in `WWW-Authenticate` challenges.
pub const REALM: &str = "ms-auth-server";

/// The HTTP status RFC 6749 §5.2 (and the extensions' RFCs) give each code at the endpoints
/// that answer JSON.
pub fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidRequest
        | ErrorCode::InvalidGrant
        | ErrorCode::UnauthorizedClient
        | ErrorCode::UnsupportedGrantType
        | ErrorCode::InvalidScope
        // Authorization-endpoint codes travel in a redirect; JSON carrying one is a bad request.
        | ErrorCode::UnsupportedResponseType
        | ErrorCode::AccessDenied
        | ErrorCode::LoginRequired
        | ErrorCode::ConsentRequired
        | ErrorCode::InteractionRequired
        | ErrorCode::RequestNotSupported
        | ErrorCode::RequestUriNotSupported
        | ErrorCode::RegistrationNotSupported
        // RFC 7591 §3.2.2: "HTTP 400 status code unless otherwise specified".
        | ErrorCode::InvalidRedirectUri
        | ErrorCode::InvalidClientMetadata
        | ErrorCode::InvalidSoftwareStatement
        | ErrorCode::UnapprovedSoftwareStatement => StatusCode::BAD_REQUEST,
        ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        // "The authorization server MAY return an HTTP 401 (Unauthorized) status code to
        // indicate which HTTP authentication schemes are supported" — we always do.
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SlowDown => StatusCode::TOO_MANY_REQUESTS,
    }
}

/// The response for an OAuth error, with the status its code carries.
pub fn oauth_error_response(error: &OAuthError) -> HttpResponse {
    oauth_error_with_status(status(error.error), error)
}

/// The same body with a transport-level status (413 for an oversize body).
pub fn oauth_error_with_status(status: StatusCode, error: &OAuthError) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    match error.error {
        // RFC 6749 §5.2 asks for the challenge when the client used the Authorization header;
        // RFC 9110 §15.5.2 asks for one on every 401, so it is always sent.
        ErrorCode::InvalidClient => {
            res.insert_header((header::WWW_AUTHENTICATE, format!("Basic realm=\"{REALM}\"")));
        }
        ErrorCode::TemporarilyUnavailable => {
            res.insert_header((header::RETRY_AFTER, "5"));
        }
        ErrorCode::SlowDown => {
            let secs = error.retry_after_secs.unwrap_or(60).to_string();
            res.insert_header((header::RETRY_AFTER, secs));
        }
        ErrorCode::InvalidRequest
        | ErrorCode::InvalidGrant
        | ErrorCode::UnauthorizedClient
        | ErrorCode::UnsupportedGrantType
        | ErrorCode::InvalidScope
        | ErrorCode::ServerError
        | ErrorCode::UnsupportedResponseType
        | ErrorCode::AccessDenied
        | ErrorCode::LoginRequired
        | ErrorCode::ConsentRequired
        | ErrorCode::InteractionRequired
        | ErrorCode::RequestNotSupported
        | ErrorCode::RequestUriNotSupported
        | ErrorCode::RegistrationNotSupported
        | ErrorCode::InvalidToken
        | ErrorCode::InvalidRedirectUri
        | ErrorCode::InvalidClientMetadata
        | ErrorCode::InvalidSoftwareStatement
        | ErrorCode::UnapprovedSoftwareStatement => {}
    }
    res.json(error)
}

impl ResponseError for EndpointError {
    fn status_code(&self) -> StatusCode {
        status(self.to_oauth().error)
    }

    /// Internal causes are logged, never sent.
    fn error_response(&self) -> HttpResponse {
        if self.is_internal() {
            tracing::error!(error = %self, "request failed");
        }
        oauth_error_response(&self.to_oauth())
    }
}

/// The admin and JSON API's answers other than success. Closed: the wire code and status of
/// each are decided here.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The admin endpoints are off (no `[admin] token_hash`): they do not exist.
    #[error("the admin endpoints are off: set [admin] token_hash")]
    Off,
    #[error("an admin bearer token is required")]
    Unauthorized,
    /// The account API without a signed-in session.
    #[error("sign in first: no session cookie names a signed-in user")]
    SignedOut,
    #[error("not allowed for this caller")]
    Forbidden,
    #[error("too many failed admin authentications; retry after {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{1}")]
    Conflict(&'static str, &'static str),
    #[error("the store is unavailable, retry later")]
    Unavailable,
    /// A per-caller rate limit (RFC 7662 §4 at introspection).
    #[error("{message}")]
    TooManyRequests {
        message: &'static str,
        retry_after_secs: u64,
    },
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            Self::Off | Self::NotFound(_) => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::SignedOut => "login_required",
            Self::Forbidden => "forbidden",
            Self::Throttled { .. } => "slow_down",
            Self::Conflict(code, _) => code,
            Self::Unavailable => "temporarily_unavailable",
            Self::TooManyRequests { .. } => "too_many_requests",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Off | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthorized | Self::SignedOut => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Throttled { .. } | Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Conflict(..) => StatusCode::CONFLICT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res =
            service_kit::http::json_error(self.status_code(), self.code(), &self.to_string());
        let headers = res.headers_mut();
        match self {
            Self::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer realm=\"ms-auth-server-admin\""),
                );
            }
            Self::Throttled { retry_after_secs }
            | Self::TooManyRequests {
                retry_after_secs, ..
            } => {
                if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            // RFC 9110 §15.5.2: a 401 carries a challenge; the scheme here is the session
            // the sign-in page starts.
            Self::SignedOut => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Session realm=\"ms-auth-server\""),
                );
            }
            Self::Unavailable => {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            }
            Self::Off | Self::NotFound(_) | Self::Conflict(..) | Self::Forbidden => {}
        }
        res
    }
}

/// An RFC 6750 bearer-token refusal at an endpoint of this server, with this server's realm.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BearerError(#[from] pub auth_middleware::AuthError);

impl ResponseError for BearerError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.response(&auth_middleware::Challenge {
            realm: REALM.to_owned(),
            resource_metadata: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_rfc6749() {
        assert_eq!(status(ErrorCode::InvalidClient), 401);
        assert_eq!(status(ErrorCode::InvalidScope), 400);
        assert_eq!(status(ErrorCode::UnsupportedGrantType), 400);
        assert_eq!(status(ErrorCode::SlowDown), 429);
    }

    #[test]
    fn a_bearer_refusal_carries_the_rfc6750_challenge_with_this_realm() {
        let res = BearerError(auth_middleware::AuthError::Missing).error_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let challenge = res.headers().get(header::WWW_AUTHENTICATE).unwrap();
        assert_eq!(challenge, "Bearer realm=\"ms-auth-server\"");
    }
}
