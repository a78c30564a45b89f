//! `GET /login` (the sign-in page) and `POST /login` (its form: `username`, `password`, the
//! pending `interaction` and its `csrf_token`).

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};

use super::{
    browser::{self, BrowserSite, SESSION_COOKIE},
    form::{RequestLimits, read_form_body, source},
};
use crate::{
    clock::Clock,
    identity::Device,
    oauth::{
        authorize::{
            Authorizer,
            flow::{SignInForm, SignInResult},
        },
        error::OAuthError,
        params::Params,
    },
};

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    interaction: Option<String>,
}

pub async fn page(
    req: HttpRequest,
    query: web::Query<LoginQuery>,
    authorizer: web::Data<Authorizer>,
    site: web::Data<BrowserSite>,
    clock: web::Data<Clock>,
) -> HttpResponse {
    let cookies = browser::browser(&req);
    match authorizer
        .sign_in_page(
            query.interaction.as_deref(),
            browser::as_browser(&cookies),
            clock.now(),
        )
        .await
    {
        Ok(outcome) => browser::respond(&site, outcome),
        Err(e) => browser::internal(&site, &e),
    }
}

pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    authorizer: web::Data<Authorizer>,
    site: web::Data<BrowserSite>,
    limits: web::Data<RequestLimits>,
    clock: web::Data<Clock>,
) -> HttpResponse {
    if !site.same_origin(&req) {
        return browser::cross_site(&site);
    }
    let params = match read_browser_form(&req, payload, &limits).await {
        Ok(p) => p,
        Err(e) => return browser::error_page(&site, StatusCode::BAD_REQUEST, &e),
    };
    let field = |name| params.get(name).unwrap_or_default();
    let form = SignInForm {
        interaction: field("interaction"),
        csrf_token: field("csrf_token"),
        username: field("username"),
        password: field("password"),
    };
    let device = Device {
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        address: source(&req).map(|ip| ip.to_string()),
    };
    let cookies = browser::browser(&req);
    let result = authorizer
        .submit_sign_in(
            form,
            browser::as_browser(&cookies),
            device,
            source(&req),
            clock.now(),
        )
        .await;
    match result {
        Ok(SignInResult::Done {
            session_token,
            outcome,
        }) => {
            let mut res = browser::respond(&site, outcome);
            let _ = res.add_cookie(&site.cookie(SESSION_COOKIE, session_token));
            res
        }
        Ok(SignInResult::Again(prompt)) => browser::sign_in_page(&site, StatusCode::OK, prompt),
        Ok(SignInResult::Refused(e)) => browser::error_page(&site, StatusCode::BAD_REQUEST, &e),
        Ok(SignInResult::Busy { retry_after_secs }) => browser::retry_later(
            &site,
            StatusCode::SERVICE_UNAVAILABLE,
            retry_after_secs,
            "Too many people are signing in right now. Try again in a moment.",
        ),
        Ok(SignInResult::Throttled { retry_after_secs }) => browser::retry_later(
            &site,
            StatusCode::TOO_MANY_REQUESTS,
            retry_after_secs,
            "Too many failed sign-ins. Wait a little before trying again.",
        ),
        Err(e) => browser::internal(&site, &e),
    }
}

/// A form posted by one of the pages: bounded, `application/x-www-form-urlencoded`, each
/// field once.
pub(super) async fn read_browser_form(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &RequestLimits,
) -> Result<Params, OAuthError> {
    let body = read_form_body(req, payload, limits.max_body_bytes)
        .await
        .map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    Params::from_query_and_body("", &body)
}
