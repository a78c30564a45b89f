//! `GET`/`POST /userinfo` (OIDC Core §5.3): the bearer token from the `Authorization` header
//! (RFC 6750 §2.1); errors are RFC 6750 §3 challenges.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{error::BearerError, no_store};
use crate::{
    clock::Clock,
    oauth::{error::EndpointError, server::AuthorizationServer},
    oidc::userinfo::{self, UserinfoError},
    store::UserStore,
};

/// The user store the endpoint reads.
pub struct Users(pub std::sync::Arc<dyn UserStore>);

pub async fn userinfo(
    req: HttpRequest,
    server: web::Data<AuthorizationServer>,
    users: web::Data<Users>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, actix_web::Error> {
    let token = auth_middleware::bearer_token(req.headers()).map_err(BearerError)?;
    match userinfo::userinfo(
        &server.issuer,
        server.hot.as_ref(),
        users.0.as_ref(),
        token,
        clock.now(),
    )
    .await
    {
        Ok(claims) => Ok(no_store(HttpResponse::Ok()).json(claims)),
        Err(UserinfoError::Bearer(e)) => Err(BearerError(e).into()),
        Err(UserinfoError::Store(e)) => Err(EndpointError::Store(e).into()),
    }
}
