//! `POST /oauth2/introspect` (RFC 7662): the caller authenticates as a client; the token comes
//! from the form body only; callers are throttled per client across replicas (§4).

use actix_web::{HttpRequest, HttpResponse, web};

use super::{HttpSettings, error::ApiError, form::authenticated_token_param, no_store};
use crate::{clock::Clock, oauth::error::EndpointError, oauth::server::AuthorizationServer};

pub async fn introspect(
    req: HttpRequest,
    payload: web::Payload,
    server: web::Data<AuthorizationServer>,
    settings: web::Data<HttpSettings>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    let now = clock.now();
    let (caller, _, token) =
        authenticated_token_param(&req, payload, &server, &settings, now).await?;
    let key = format!("introspect:{}", caller.id);
    let allowed = server
        .hot
        .hit(&key, settings.introspection_per_second, 1, now)
        .await
        .map_err(EndpointError::from)?;
    if !allowed {
        metrics::counter!("introspection_throttled_total").increment(1);
        return Err(ApiError::TooManyRequests {
            message: "introspection is limited per client; retry after a second",
            retry_after_secs: 1,
        }
        .into());
    }
    let answer = server.introspect(&caller, &token, now).await?;
    Ok(no_store(HttpResponse::Ok()).json(answer))
}
