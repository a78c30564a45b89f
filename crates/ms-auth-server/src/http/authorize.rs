//! `GET`/`POST /oauth2/authorize` (RFC 6749 §3.1: "MUST support the use of the HTTP GET
//! method ... MAY support the use of the POST method as well"; OIDC Core §3.1.2.1: both).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};

use super::{
    browser::{self, BrowserSite},
    form::{RequestLimits, read_form_body},
};
use crate::{
    clock::Clock,
    oauth::{authorize::Authorizer, params::Params},
};

pub async fn authorize(
    req: HttpRequest,
    payload: web::Payload,
    authorizer: web::Data<Authorizer>,
    site: web::Data<BrowserSite>,
    limits: web::Data<RequestLimits>,
    clock: web::Data<Clock>,
) -> HttpResponse {
    let body = if req.method() == actix_web::http::Method::POST {
        match read_form_body(&req, payload, limits.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => {
                let e = crate::oauth::error::OAuthError::invalid_request(e.to_string());
                return browser::error_page(&site, StatusCode::BAD_REQUEST, &e);
            }
        }
    } else {
        Vec::new()
    };
    let params = match Params::from_query_and_body(req.query_string(), &body) {
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
