//! `POST /oauth2/revoke` (RFC 7009): the caller authenticates as at the token endpoint; 200
//! with an empty body whether or not the token was one it could revoke (§2.2).

use actix_web::{HttpRequest, HttpResponse, web};

use super::{
    HttpSettings,
    form::FormRequest,
    respond::{endpoint_error, no_store},
    token::unix_now,
};
use crate::oauth::{error::OAuthError, server::AuthorizationServer};

pub async fn revoke(
    req: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthorizationServer>,
    settings: web::Data<HttpSettings>,
) -> HttpResponse {
    let form = match FormRequest::read(&req, payload, settings.max_body_bytes).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let (caller, params) = match server.authenticate_caller(form.input(&req)).await {
        Ok(found) => found,
        Err(e) => return endpoint_error(&e, "revocation"),
    };
    let Some(token) = params.get("token") else {
        return endpoint_error(
            &OAuthError::invalid_request("the token parameter is required").into(),
            "revocation",
        );
    };
    let hint = params.get("token_type_hint");
    match server.revoke(&caller, token, hint, unix_now()).await {
        Ok(()) => no_store(HttpResponse::Ok()).finish(),
        Err(e) => endpoint_error(&e, "revocation"),
    }
}
