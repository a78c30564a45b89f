//! The HTTP layer: the only place that knows actix-web. Handlers extract, call one core
//! function, and map the result.

pub mod admin;
mod error;
mod form;
mod introspect;
mod jwks;
mod metadata;
mod respond;
mod revoke;
mod token;

use actix_web::web;
use service_kit::http::{method_not_allowed, not_found};

pub use error::oauth_error_response;

/// HTTP settings the handlers need besides the protocol core.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    /// `Cache-Control: max-age` of the JWKS.
    pub jwks_max_age_secs: u64,
    /// RFC 7662 §4: introspection requests one client may make per second.
    pub introspection_per_second: u64,
    /// Proxies whose `X-Forwarded-For` names the client (the gateway).
    pub trusted_proxies: service_kit::proxies::TrustedProxies,
}

/// Registers every route under `context_path`.
pub fn configure(context_path: &str) -> impl FnOnce(&mut web::ServiceConfig) + Clone + '_ {
    move |cfg| {
        cfg.service(
            web::scope(context_path)
                .service(
                    web::resource("/oauth2/token")
                        .route(web::post().to(token::token))
                        .default_service(web::to(|| async { method_not_allowed("POST") })),
                )
                .service(
                    web::resource("/oauth2/introspect")
                        .route(web::post().to(introspect::introspect))
                        .default_service(web::to(|| async { method_not_allowed("POST") })),
                )
                .service(
                    web::resource("/oauth2/revoke")
                        .route(web::post().to(revoke::revoke))
                        .default_service(web::to(|| async { method_not_allowed("POST") })),
                )
                .service(
                    web::resource("/oauth2/jwks")
                        .route(web::get().to(jwks::jwks))
                        .default_service(web::to(|| async { method_not_allowed("GET") })),
                )
                .service(
                    web::resource("/.well-known/oauth-authorization-server")
                        .route(web::get().to(metadata::authorization_server))
                        .default_service(web::to(|| async { method_not_allowed("GET") })),
                )
                .service(
                    web::resource("/admin/keys")
                        .route(web::get().to(admin::keys))
                        .default_service(web::to(|| async { method_not_allowed("GET") })),
                )
                .service(
                    web::resource("/admin/keys/rotate")
                        .route(web::post().to(admin::rotate))
                        .default_service(web::to(|| async { method_not_allowed("POST") })),
                )
                .service(
                    web::resource("/admin/keys/{kid}/revoke")
                        .route(web::post().to(admin::revoke))
                        .default_service(web::to(|| async { method_not_allowed("POST") })),
                ),
        )
        .default_service(web::to(not_found));
    }
}
