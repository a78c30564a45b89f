//! `POST /oauth2/token` (RFC 6749 §3.2).

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use futures_util::StreamExt;
use tracing::{Instrument, field::Empty};

use super::{
    HttpSettings,
    error::{oauth_error_response, oauth_error_with_status},
};
use crate::oauth::{
    error::OAuthError,
    server::{AuthorizationServer, TokenEndpointError, TokenEndpointInput},
};

pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthorizationServer>,
    settings: web::Data<HttpSettings>,
) -> HttpResponse {
    let body = match read_form_body(&req, payload, settings.max_body_bytes).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let mut authorization = req.headers().get_all(header::AUTHORIZATION);
    let first = authorization.next().map(|v| v.as_bytes());
    if authorization.next().is_some() {
        return oauth_error_response(&OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    let input = TokenEndpointInput {
        authorization: first,
        query: req.query_string(),
        body: &body,
    };
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
            metrics::counter!("tokens_issued_total", "grant_type" => issued.grant_type, "client_id" => issued.client_id.clone())
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

/// The request body, if it is a form of at most `limit` bytes. An empty body needs no
/// content type: the docs' Basic example sends its parameters in the query string.
async fn read_form_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, HttpResponse> {
    let too_large = || {
        oauth_error_with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            &OAuthError::invalid_request(format!("request body is larger than {limit} bytes")),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            oauth_error_response(&OAuthError::invalid_request("unreadable request body"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    if !body.is_empty() && !is_form(req) {
        return Err(oauth_error_response(&OAuthError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        )));
    }
    Ok(body)
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
