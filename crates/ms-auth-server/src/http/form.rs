//! The request of the token, introspection and revocation endpoints: a form body of bounded
//! size (RFC 6749 §3.2), and what the protocol core needs of the HTTP request. Reading it fails
//! with a [`BodyError`], which each surface answers in its own way (OAuth JSON here; a page for
//! browsers).

use std::sync::Arc;

use actix_web::{
    FromRequest, HttpRequest, HttpResponse, ResponseError,
    dev::Payload,
    http::{StatusCode, header},
    web,
};
use futures_util::StreamExt;
use service_kit::proxies::TrustedProxies;

use super::error::{oauth_error_response, oauth_error_with_status};
use crate::{
    clock::UnixTime,
    oauth::{
        client::Client,
        error::{EndpointError, OAuthError},
        params::Params,
        server::{AuthorizationServer, ClientRequest},
    },
};

/// Why a request body could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The body did not arrive at the minimum rate (F5).
    #[error("{}", service_kit::body::SLOW_BODY)]
    Slow,
    #[error("unreadable request body")]
    Unreadable,
    #[error("Content-Type must be application/x-www-form-urlencoded")]
    NotAForm,
    #[error("Content-Type must be application/json")]
    NotJson,
    #[error("more than one Authorization header")]
    TwoAuthorizations,
}

/// Machines get RFC 6749 §5.2 JSON, with the transport's status where there is one.
impl ResponseError for BodyError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Slow => StatusCode::REQUEST_TIMEOUT,
            Self::Unreadable | Self::NotAForm | Self::NotJson | Self::TwoAuthorizations => {
                StatusCode::BAD_REQUEST
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let error = OAuthError::invalid_request(self.to_string());
        match self {
            Self::TooLarge { .. } | Self::Slow => {
                oauth_error_with_status(self.status_code(), &error)
            }
            Self::Unreadable | Self::NotAForm | Self::NotJson | Self::TwoAuthorizations => {
                oauth_error_response(&error)
            }
        }
    }
}

/// The limits on what a client may send (`server.max_body_bytes`, RFC 7662 §4 throttling).
#[derive(Debug, Clone)]
pub struct RequestLimits {
    pub max_body_bytes: usize,
    /// Introspection requests one client may make per second.
    pub introspection_per_second: u64,
}

/// The client's address: the peer, or the client a trusted proxy (the gateway) names in
/// `X-Forwarded-For`.
pub(super) fn source(req: &HttpRequest) -> Option<std::net::IpAddr> {
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let peer = req.peer_addr().map(|a| a.ip());
    match req.app_data::<web::Data<TrustedProxies>>() {
        Some(trusted) => trusted.client_ip(peer, forwarded),
        None => peer,
    }
}

/// A token, introspection or revocation request taken off the wire: the bounded form body,
/// the one `Authorization` header allowed, the query, the client's address. An extractor, so
/// a handler receives it ready.
pub struct ClientForm {
    body: Vec<u8>,
    authorization: Option<Vec<u8>>,
    query: String,
    source: Option<std::net::IpAddr>,
}

impl ClientForm {
    async fn read(req: HttpRequest, payload: web::Payload) -> Result<Self, BodyError> {
        let body = read_form_body(&req, payload, body_limit(&req)).await?;
        let mut authorization = req.headers().get_all(header::AUTHORIZATION);
        let first = authorization.next().map(|v| v.as_bytes().to_vec());
        if authorization.next().is_some() {
            return Err(BodyError::TwoAuthorizations);
        }
        Ok(Self {
            body,
            authorization: first,
            query: req.query_string().to_owned(),
            source: source(&req),
        })
    }

    /// What the protocol core takes.
    pub fn request(&self) -> ClientRequest<'_> {
        ClientRequest {
            source: self.source,
            authorization: self.authorization.as_deref(),
            query: &self.query,
            body: &self.body,
        }
    }
}

impl FromRequest for ClientForm {
    type Error = BodyError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, BodyError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let payload = web::Payload::from_request(req, payload).into_inner();
        let req = req.clone();
        Box::pin(async move {
            match payload {
                Ok(payload) => Self::read(req, payload).await,
                Err(_) => Err(BodyError::Unreadable),
            }
        })
    }
}

/// The request body, if it is a form of at most `limit` bytes. An empty body needs no
/// content type: the docs' Basic example sends its parameters in the query string.
pub(super) async fn read_form_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let body = read_body(req, payload, limit).await?;
    if !body.is_empty() && !has_content_type(req, "application/x-www-form-urlencoded") {
        return Err(BodyError::NotAForm);
    }
    Ok(body)
}

/// The request body, if it is JSON (RFC 7591 §3.1) of at most `limit` bytes.
pub(super) async fn read_json_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if !has_content_type(req, "application/json") {
        return Err(BodyError::NotJson);
    }
    read_body(req, payload, limit).await
}

/// At most `limit` bytes of body, refused early when the declared length is beyond it.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if service_kit::body::is_slow_body(&e) {
                BodyError::Slow
            } else {
                BodyError::Unreadable
            }
        })?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn has_content_type(req: &HttpRequest, expected: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case(expected))
}

/// The body limit the app was configured with (`server.max_body_bytes`).
pub(super) fn body_limit(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<RequestLimits>>()
        .map_or(crate::settings::DEFAULT_MAX_BODY_BYTES, |l| {
            l.max_body_bytes
        })
}

/// The start of the introspection and revocation endpoints: authenticate the caller as at the
/// token endpoint, take the required `token` parameter (from the body: the query may not
/// carry it).
pub(super) async fn authenticated_token_param(
    form: &ClientForm,
    server: &AuthorizationServer,
    endpoint: &str,
    now: UnixTime,
) -> Result<(Arc<Client>, Params, String), EndpointError> {
    let (caller, params) = server
        .authenticate_caller(form.request(), endpoint, now)
        .await?;
    let token = params
        .get("token")
        .map(str::to_owned)
        .ok_or_else(|| OAuthError::invalid_request("the token parameter is required"))?;
    Ok((caller, params, token))
}
