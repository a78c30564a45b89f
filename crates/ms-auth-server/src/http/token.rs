//! `POST /oauth2/token` (RFC 6749 §3.2).

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use tracing::{Instrument, field::Empty};

use super::{HttpSettings, error::oauth_error_response, form::FormRequest};
use crate::oauth::server::{AuthorizationServer, TokenEndpointError};

pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthorizationServer>,
    settings: web::Data<HttpSettings>,
) -> HttpResponse {
    let form = match FormRequest::read(&req, payload, settings.max_body_bytes).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let input = form.input(&req, &settings.trusted_proxies);
    // Client id and grant type once the client authenticated; the error code otherwise. Never
    // the request's credentials or the token.
    let span = tracing::info_span!(
        "token request",
        client_id = Empty,
        grant_type = Empty,
        error = Empty
    );
    match server
        .token(input, unix_now())
        .instrument(span.clone())
        .await
    {
        Ok(issued) => {
            span.record("client_id", issued.client_id.as_str());
            span.record("grant_type", issued.grant_type);
            tracing::debug!(client_id = %issued.client_id, grant_type = issued.grant_type, "token issued");
            // No client id as a label: label values come from closed sets only (per-client
            // figures belong in the store, not in a series per client).
            metrics::counter!("tokens_issued_total", "grant_type" => issued.grant_type)
                .increment(1);
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::PRAGMA, "no-cache"))
                .json(issued.response)
        }
        Err(e) => {
            if let TokenEndpointError::Store(_) | TokenEndpointError::Signing(_) = &e {
                tracing::error!(error = %e, "token request failed");
            }
            let error = e.to_oauth();
            span.record("error", error.error.as_str());
            metrics::counter!("token_errors_total", "error" => error.error.as_str()).increment(1);
            oauth_error_response(&error)
        }
    }
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
