//! `POST /oauth2/revoke` (RFC 7009): the caller authenticates as at the token endpoint; 200
//! with an empty body whether or not the token was one it could revoke (§2.2).

use actix_web::{HttpRequest, HttpResponse, web};

use super::{
    HttpSettings,
    form::authenticated_token_param,
    respond::{endpoint_error, no_store},
    token::unix_now,
};
use crate::oauth::server::AuthorizationServer;

pub async fn revoke(
    req: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthorizationServer>,
    settings: web::Data<HttpSettings>,
) -> HttpResponse {
    let (caller, params, token) =
        match authenticated_token_param(&req, payload, &server, &settings, "revocation").await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let hint = params.get("token_type_hint");
    match server.revoke(&caller, &token, hint, unix_now()).await {
        Ok(()) => no_store(HttpResponse::Ok()).finish(),
        Err(e) => endpoint_error(&e, "revocation"),
    }
}
