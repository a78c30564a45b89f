//! `POST /oauth2/revoke` (RFC 7009): the caller authenticates as at the token endpoint; 200
//! with an empty body whether or not the token was one it could revoke (§2.2).

use actix_web::{HttpResponse, web};

use super::{
    form::{ClientForm, authenticated_token_param},
    no_store,
};
use crate::{
    clock::Clock,
    oauth::{error::EndpointError, revocation::Revocation, server::AuthorizationServer},
};

pub async fn revoke(
    form: ClientForm,
    server: web::Data<AuthorizationServer>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, EndpointError> {
    let now = clock.now();
    let (caller, params, token) =
        authenticated_token_param(&form, &server, crate::oauth::endpoints::REVOKE, now).await?;
    let hint = params.get("token_type_hint");
    let revocation = Revocation {
        issuer: &server.issuer,
        refresh: server.refresh.as_ref(),
        denylist: server.hot.as_ref(),
        audit: server.audit.as_ref(),
    };
    revocation.revoke(&caller, &token, hint, now).await?;
    Ok(no_store(HttpResponse::Ok()).finish())
}
