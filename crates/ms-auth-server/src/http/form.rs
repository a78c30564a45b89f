//! The request of the token, introspection and revocation endpoints: a form body of bounded
//! size (RFC 6749 §3.2), and what the protocol core needs of the HTTP request.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use futures_util::StreamExt;

use std::sync::Arc;

use super::{
    HttpSettings,
    error::{oauth_error_response, oauth_error_with_status},
    respond::endpoint_error,
};
use crate::oauth::{
    client::Client,
    error::OAuthError,
    params::Params,
    server::{AuthorizationServer, TokenEndpointInput},
};

/// What the protocol core needs of a token, introspection or revocation request.
pub(super) struct FormRequest {
    body: Vec<u8>,
    authorization: Option<Vec<u8>>,
}

impl FormRequest {
    /// Reads the body and the one `Authorization` header allowed; the error response otherwise.
    pub(super) async fn read(
        req: &HttpRequest,
        payload: web::Payload,
        limit: usize,
    ) -> Result<Self, HttpResponse> {
        let body = read_form_body(req, payload, limit).await?;
        let mut authorization = req.headers().get_all(header::AUTHORIZATION);
        let first = authorization.next().map(|v| v.as_bytes().to_vec());
        if authorization.next().is_some() {
            return Err(oauth_error_response(&OAuthError::invalid_request(
                "more than one Authorization header",
            )));
        }
        Ok(Self {
            body,
            authorization: first,
        })
    }

    pub(super) fn input<'a>(
        &'a self,
        req: &'a HttpRequest,
        trusted: &service_kit::proxies::TrustedProxies,
    ) -> TokenEndpointInput<'a> {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        TokenEndpointInput {
            source: trusted.client_ip(req.peer_addr().map(|a| a.ip()), forwarded),
            authorization: self.authorization.as_deref(),
            query: req.query_string(),
            body: &self.body,
        }
    }
}

/// The request body, if it is a form of at most `limit` bytes. An empty body needs no
/// content type: the docs' Basic example sends its parameters in the query string.
pub(super) async fn read_form_body(
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
        let chunk = chunk.map_err(|e| {
            if service_kit::body::is_slow_body(&e) {
                return oauth_error_with_status(
                    StatusCode::REQUEST_TIMEOUT,
                    &OAuthError::invalid_request(service_kit::body::SLOW_BODY),
                );
            }
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

/// The start of the introspection and revocation endpoints: read the form, authenticate the
/// caller as at the token endpoint, take the required `token` parameter (from the body: the
/// query may not carry it). The error response otherwise.
pub(super) async fn authenticated_token_param(
    req: &HttpRequest,
    payload: web::Payload,
    server: &AuthorizationServer,
    settings: &HttpSettings,
    endpoint: &'static str,
) -> Result<(Arc<Client>, Params, String), HttpResponse> {
    let form = FormRequest::read(req, payload, settings.max_body_bytes).await?;
    let (caller, params) = server
        .authenticate_caller(
            form.input(req, &settings.trusted_proxies),
            super::token::unix_now(),
        )
        .await
        .map_err(|e| endpoint_error(&e, endpoint))?;
    let token = params.get("token").map(str::to_owned).ok_or_else(|| {
        endpoint_error(
            &OAuthError::invalid_request("the token parameter is required").into(),
            endpoint,
        )
    })?;
    Ok((caller, params, token))
}
