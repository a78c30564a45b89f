//! `POST /oauth2/revoke` (RFC 7009): the caller authenticates as at the token endpoint; 200
//! with an empty body whether or not the token was one it could revoke (§2.2).

use actix_web::{HttpRequest, HttpResponse, web};

use super::{HttpSettings, form::authenticated_token_param, no_store};
use crate::{clock::Clock, oauth::server::AuthorizationServer};

pub async fn revoke(
    req: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthorizationServer>,
    settings: web::Data<HttpSettings>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    let now = clock.now();
    let (caller, params, token) =
        authenticated_token_param(&req, payload, &server, &settings, now).await?;
    let hint = params.get("token_type_hint");
    server.revoke(&caller, &token, hint, now).await?;
    Ok(no_store(HttpResponse::Ok()).finish())
}
