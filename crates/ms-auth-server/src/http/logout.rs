//! `GET`/`POST /connect/logout` (OpenID Connect RP-Initiated Logout 1.0 §2: "The OP MUST
//! support the use of the HTTP GET and POST methods"). A relying party's request, or the
//! confirmation page's form (`confirm`, `csrf_token`), which must come from this site.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};

use super::{
    authorize::request_params,
    browser::{self, BrowserSite, SESSION_COOKIE},
    form::RequestLimits,
    pages::render_page,
};
use crate::{
    clock::Clock,
    oauth::{authorize::Authorizer, endpoints, error::OAuthError},
    oidc::logout::{Confirmation, LogoutOutcome},
    pages,
};

pub async fn logout(
    req: HttpRequest,
    payload: web::Payload,
    authorizer: web::Data<Authorizer>,
    site: web::Data<BrowserSite>,
    limits: web::Data<RequestLimits>,
    clock: web::Data<Clock>,
) -> HttpResponse {
    let params = match request_params(&req, payload, &limits).await {
        Ok(p) => p,
        Err(e) => return refused(&site, &e),
    };
    let confirmation = match params.get("confirm") {
        Some(answer) if req.method() == actix_web::http::Method::POST => Confirmation::Answered {
            sign_out: answer == "yes",
            csrf_token: params.get("csrf_token").unwrap_or_default(),
            same_origin: site.same_origin(&req),
        },
        _ => Confirmation::None,
    };
    let cookies = browser::browser(&req);
    let outcome = authorizer
        .logout(
            &params,
            confirmation,
            browser::as_browser(&cookies),
            clock.now(),
        )
        .await;
    match outcome {
        Ok(outcome) => respond(&site, outcome),
        Err(e) => browser::internal(&site, &e),
    }
}

fn respond(site: &BrowserSite, outcome: LogoutOutcome) -> HttpResponse {
    let (mut res, ended) = match outcome {
        LogoutOutcome::Redirect { location, ended } => (
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::REFERRER_POLICY, "no-referrer"))
                .finish(),
            ended,
        ),
        LogoutOutcome::SignedOut { ended } => (
            render_page(
                StatusCode::OK,
                &pages::SignedOut {
                    context_path: site.context_path.clone(),
                },
                None,
            ),
            ended,
        ),
        LogoutOutcome::Confirm(prompt) => (
            render_page(
                StatusCode::OK,
                &pages::SignOut {
                    context_path: site.context_path.clone(),
                    action: site.url(endpoints::LOGOUT),
                    csrf_token: prompt.csrf_token,
                    client_name: prompt.client_name,
                    username: prompt.username,
                    fields: prompt.fields,
                },
                None,
            ),
            false,
        ),
        LogoutOutcome::StillSignedIn { username } => (
            render_page(
                StatusCode::OK,
                &pages::SignedIn {
                    context_path: site.context_path.clone(),
                    username,
                },
                None,
            ),
            false,
        ),
        LogoutOutcome::Refused(e) => (refused(site, &e), false),
    };
    if ended {
        let _ = res.add_cookie(&site.removal(SESSION_COOKIE));
    }
    res
}

fn refused(site: &BrowserSite, e: &OAuthError) -> HttpResponse {
    browser::error_page_titled(site, StatusCode::BAD_REQUEST, "Sign-out cannot continue", e)
}
