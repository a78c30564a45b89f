//! The account API (JSON, for the signed-in user, by the session cookie): `GET
//! /account/consents` lists the clients the user allowed, `DELETE /account/consents/{client_id}`
//! withdraws one. Cross-site requests are refused (a cross-site page cannot send DELETE
//! without a CORS preflight this server never grants, and `Sec-Fetch-Site`/`Origin` are
//! checked as for every form).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::{browser, error::ApiError, no_store};
use crate::{clock::Clock, oauth::authorize::Authorizer};

fn signed_out() -> actix_web::Error {
    ApiError::SignedOut.into()
}

pub async fn consents(
    req: HttpRequest,
    authorizer: web::Data<Authorizer>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    let cookies = browser::browser(&req);
    let Some((user, consents)) = authorizer
        .consents(browser::as_browser(&cookies), clock.now())
        .await?
    else {
        return Err(signed_out());
    };
    let list: Vec<_> = consents
        .iter()
        .map(|c| {
            json!({
                "client_id": c.client_id,
                "scope": c.scope,
                "granted_at": c.granted_at.secs(),
            })
        })
        .collect();
    Ok(no_store(HttpResponse::Ok()).json(json!({ "sub": user.id, "consents": list })))
}

pub async fn revoke(
    req: HttpRequest,
    path: web::Path<String>,
    authorizer: web::Data<Authorizer>,
    site: web::Data<browser::BrowserSite>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    if !site.same_origin(&req) {
        return Err(ApiError::Forbidden.into());
    }
    let cookies = browser::browser(&req);
    match authorizer
        .revoke_consent(browser::as_browser(&cookies), &path, clock.now())
        .await?
    {
        None => Err(signed_out()),
        Some(true) => Ok(no_store(HttpResponse::NoContent()).finish()),
        Some(false) => Err(ApiError::NotFound("no consent for this client").into()),
    }
}
