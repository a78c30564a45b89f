//! `POST /oauth2/introspect` (RFC 7662): the caller authenticates as a client; the token comes
//! from the form body only; callers are throttled per client across replicas (§4).

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use service_kit::http::json_error;

use super::{
    HttpSettings,
    form::authenticated_token_param,
    respond::{endpoint_error, no_store},
    token::unix_now,
};
use crate::oauth::server::AuthorizationServer;

pub async fn introspect(
    req: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthorizationServer>,
    settings: web::Data<HttpSettings>,
) -> HttpResponse {
    let (caller, _, token) =
        match authenticated_token_param(&req, payload, &server, &settings, "introspection").await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let now = unix_now();
    let key = format!("introspect:{}", caller.id);
    match server
        .hot
        .hit(&key, settings.introspection_per_second, 1, now as i64)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            metrics::counter!("introspection_throttled_total").increment(1);
            let mut res = json_error(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "introspection is limited per client; retry after a second",
            );
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static("1"),
            );
            return res;
        }
        Err(e) => return endpoint_error(&e.into(), "introspection"),
    }
    match server.introspect(&caller, &token, now).await {
        Ok(answer) => no_store(HttpResponse::Ok()).json(answer),
        Err(e) => endpoint_error(&e, "introspection"),
    }
}
