//! `GET /.well-known/oauth-authorization-server` (RFC 8414 §3).

use actix_web::{HttpResponse, http::header, web};

use crate::oauth::server::AuthorizationServer;

pub async fn authorization_server(server: web::Data<AuthorizationServer>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .json(server.metadata.as_ref())
}
