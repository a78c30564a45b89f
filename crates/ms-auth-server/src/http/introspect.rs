//! `POST /oauth2/introspect` (RFC 7662): the caller authenticates as a client; the token comes
//! from the form body only; callers are throttled per client across replicas (§4).

use actix_web::{HttpResponse, web};

use super::{
    error::ApiError,
    form::{ClientForm, RequestLimits, authenticated_token_param},
    no_store,
};
use crate::{
    clock::Clock,
    oauth::{error::EndpointError, introspection, server::AuthorizationServer},
};

pub async fn introspect(
    form: ClientForm,
    server: web::Data<AuthorizationServer>,
    limits: web::Data<RequestLimits>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    let now = clock.now();
    let (caller, _, token) =
        authenticated_token_param(&form, &server, crate::oauth::endpoints::INTROSPECT, now).await?;
    // RFC 7662 §2.1: the caller must be authorized to introspect; a public client proves
    // nothing about itself.
    if caller.is_public() {
        return Err(
            EndpointError::Rejected(crate::oauth::error::OAuthError::invalid_client()).into(),
        );
    }
    let key = format!("introspect:{}", caller.id);
    let allowed = server
        .hot
        .hit(&key, limits.introspection_per_second, 1, now)
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
    let answer =
        introspection::introspect(&server.issuer, server.hot.as_ref(), &caller, &token, now)
            .await?;
    Ok(no_store(HttpResponse::Ok()).json(answer))
}
