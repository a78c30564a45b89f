//! `GET /oauth2/jwks`: the public signing keys as an RFC 7517 §5 JWK set.

use actix_web::{HttpResponse, http::header, web};

use crate::oauth::server::AuthorizationServer;

/// How long caches may keep the key set. Short, so that a key published ahead of use
/// reaches every resource server before it signs.
pub const JWKS_MAX_AGE_SECS: u32 = 300;

pub async fn jwks(server: web::Data<AuthorizationServer>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={JWKS_MAX_AGE_SECS}"),
        ))
        .content_type("application/json")
        .body(server.keys.jwks_json().to_owned())
}
