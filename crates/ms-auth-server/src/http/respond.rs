//! Responses shared by the endpoints that authenticate clients.

use actix_web::{HttpResponse, HttpResponseBuilder, http::header};

use super::error::oauth_error_response;
use crate::oauth::server::TokenEndpointError;

/// `Cache-Control: no-store` and `Pragma: no-cache` on a response that carries token data.
pub(super) fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

/// The OAuth error for `e`; internal causes are logged, never sent.
pub(super) fn endpoint_error(e: &TokenEndpointError, endpoint: &'static str) -> HttpResponse {
    if let TokenEndpointError::Store(_) | TokenEndpointError::Signing(_) = e {
        tracing::error!(error = %e, endpoint, "request failed");
    }
    oauth_error_response(&e.to_oauth())
}
