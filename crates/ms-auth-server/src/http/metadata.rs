//! `GET /.well-known/oauth-authorization-server` (RFC 8414 §3).

use actix_web::{HttpResponse, http::header, web};

use super::error::oauth_error_response;
use crate::oauth::{error::OAuthError, server::AuthorizationServer};

pub async fn authorization_server(server: web::Data<AuthorizationServer>) -> HttpResponse {
    match server.metadata().await {
        Ok(metadata) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
            .json(metadata),
        Err(e) => {
            tracing::error!(error = %e, "metadata unavailable");
            oauth_error_response(&OAuthError::temporarily_unavailable())
        }
    }
}
