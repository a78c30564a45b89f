//! The account API (JSON, for the signed-in user, by the session cookie): `GET
//! /account/consents` lists the clients the user allowed, `DELETE /account/consents/{client_id}`
//! withdraws one; `GET /account/sessions` lists where the user is signed in, `DELETE
//! /account/sessions/{sid}` ends one and `DELETE /account/sessions` all (as a logout does). Cross-site requests are refused (a cross-site page cannot send DELETE
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

pub async fn sessions(
    req: HttpRequest,
    authorizer: web::Data<Authorizer>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    let cookies = browser::browser(&req);
    let Some(own) = authorizer
        .own_sessions(browser::as_browser(&cookies), clock.now())
        .await?
    else {
        return Err(signed_out());
    };
    let list: Vec<_> = own
        .sessions
        .iter()
        .map(|(s, clients)| {
            json!({
                "sid": s.sid,
                "current": s.sid == own.current,
                "started_at": s.created_at.secs(),
                "last_seen_at": s.last_seen.secs(),
                "auth_time": s.auth_time.secs(),
                "expires_at": s.idle_expires_at.min(s.expires_at).secs(),
                "user_agent": s.user_agent,
                "address": s.address,
                "clients": clients
                    .iter()
                    .map(|(id, name)| json!({ "client_id": id, "client_name": name }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(no_store(HttpResponse::Ok()).json(json!({ "sub": own.user.id, "sessions": list })))
}

/// `DELETE /account/sessions/{sid}`.
pub async fn end_session(
    req: HttpRequest,
    path: web::Path<String>,
    authorizer: web::Data<Authorizer>,
    site: web::Data<browser::BrowserSite>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    end(&req, Some(&path), &authorizer, &site, &clock).await
}

/// `DELETE /account/sessions`.
pub async fn end_sessions(
    req: HttpRequest,
    authorizer: web::Data<Authorizer>,
    site: web::Data<browser::BrowserSite>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    end(&req, None, &authorizer, &site, &clock).await
}

async fn end(
    req: &HttpRequest,
    sid: Option<&str>,
    authorizer: &Authorizer,
    site: &browser::BrowserSite,
    clock: &Clock,
) -> Result<HttpResponse, actix_web::Error> {
    if !site.same_origin(req) {
        return Err(ApiError::Forbidden.into());
    }
    let cookies = browser::browser(req);
    match authorizer
        .end_own_sessions(browser::as_browser(&cookies), sid, clock.now())
        .await?
    {
        None => Err(signed_out()),
        Some((0, _)) if sid.is_some() => Err(ApiError::NotFound("no such session").into()),
        Some((_, current)) => {
            let mut res = no_store(HttpResponse::NoContent()).finish();
            if current {
                let _ = res.add_cookie(&site.removal(browser::SESSION_COOKIE));
            }
            Ok(res)
        }
    }
}
