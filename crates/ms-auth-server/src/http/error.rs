//! Error responses on the wire: RFC 6749 §5.2 JSON for OAuth endpoints, the same shape for
//! plain HTTP errors (404, 405, 413).

use actix_web::{
    HttpResponse,
    http::{StatusCode, header},
};

use crate::oauth::error::{OAuthError, OAuthErrorCode};

/// Realm named in `WWW-Authenticate` challenges.
pub const REALM: &str = "ms-auth-server";

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
        OAuthErrorCode::InvalidClient => {
            res.insert_header((header::WWW_AUTHENTICATE, format!("Basic realm=\"{REALM}\"")));
        }
        OAuthErrorCode::TemporarilyUnavailable => {
            res.insert_header((header::RETRY_AFTER, "5"));
        }
        OAuthErrorCode::SlowDown => {
            let secs = error.retry_after_secs.unwrap_or(60).to_string();
            res.insert_header((header::RETRY_AFTER, secs));
        }
        OAuthErrorCode::InvalidRequest
        | OAuthErrorCode::InvalidGrant
        | OAuthErrorCode::UnauthorizedClient
        | OAuthErrorCode::UnsupportedGrantType
        | OAuthErrorCode::InvalidScope
        | OAuthErrorCode::ServerError => {}
    }
    res.json(error)
}

fn status(code: OAuthErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST)
}
