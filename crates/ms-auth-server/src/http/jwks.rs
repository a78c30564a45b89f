//! `GET /oauth2/jwks`: the public signing keys as an RFC 7517 §5 JWK set: the active key and
//! the next and retired ones (see `keys::lifecycle` and `ops::keys`).

use actix_web::{HttpResponse, http::header, web};

use crate::oauth::server::AuthorizationServer;

/// How long caches may keep the JWKS (`keys.jwks_max_age_secs`).
#[derive(Debug, Clone, Copy)]
pub struct JwksMaxAge(pub u64);

/// Caches may keep the set for `keys.jwks_max_age_secs`: a new key is published longer than
/// that before it signs, so every cache that honours it knows the key first.
pub async fn jwks(
    server: web::Data<AuthorizationServer>,
    max_age: web::Data<JwksMaxAge>,
) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", max_age.0),
        ))
        .content_type("application/json")
        .body(server.issuer.keys.current().jwks_json().to_owned())
}
