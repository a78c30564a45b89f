//! `GET`/`POST /oauth2/authorize` (RFC 6749 §3.1: "MUST support the use of the HTTP GET
//! method ... MAY support the use of the POST method as well"; OIDC Core §3.1.2.1: both).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};

use super::{
    browser::{self, BrowserSite},
    form::{RequestLimits, read_form_body},
};
use crate::{
    clock::Clock,
    oauth::{authorize::Authorizer, error::OAuthError, params::Params},
};

pub async fn authorize(
    req: HttpRequest,
    payload: web::Payload,
    authorizer: web::Data<Authorizer>,
    site: web::Data<BrowserSite>,
    limits: web::Data<RequestLimits>,
    clock: web::Data<Clock>,
) -> HttpResponse {
    let params = match request_params(&req, payload, &limits).await {
        Ok(p) => p,
        Err(e) => return browser::error_page(&site, StatusCode::BAD_REQUEST, &e),
    };
    let cookies = browser::browser(&req);
    match authorizer
        .authorize(&params, browser::as_browser(&cookies), clock.now())
        .await
    {
        Ok(outcome) => browser::respond(&site, outcome),
        Err(e) => browser::internal(&site, &e),
    }
}

/// A browser endpoint's parameters: the query's, and on a POST the form body's (bounded).
pub(super) async fn request_params(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &RequestLimits,
) -> Result<Params, OAuthError> {
    let body = if req.method() == actix_web::http::Method::POST {
        read_form_body(req, payload, limits.max_body_bytes)
            .await
            .map_err(|e| OAuthError::invalid_request(e.to_string()))?
    } else {
        Vec::new()
    };
    Params::from_query_and_body(req.query_string(), &body)
}
