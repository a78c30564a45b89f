//! `POST /consent`: the consent page's form (`decision` = `approve` or `deny`, with the
//! pending `interaction` and its `csrf_token`).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};

use super::{
    browser::{self, BrowserSite},
    form::RequestLimits,
    login::read_browser_form,
};
use crate::{
    clock::Clock,
    oauth::{
        authorize::{Authorizer, flow::ConsentForm},
        error::OAuthError,
    },
};

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
    let approve = match params.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => {
            let e = OAuthError::invalid_request("decision must be approve or deny");
            return browser::error_page(&site, StatusCode::BAD_REQUEST, &e);
        }
    };
    let form = ConsentForm {
        interaction: params.get("interaction").unwrap_or_default(),
        csrf_token: params.get("csrf_token").unwrap_or_default(),
        approve,
    };
    let cookies = browser::browser(&req);
    match authorizer
        .submit_consent(form, browser::as_browser(&cookies), clock.now())
        .await
    {
        Ok(outcome) => browser::respond(&site, outcome),
        Err(e) => browser::internal(&site, &e),
    }
}
