//! Routes: reading customers needs `customer.read`, changing them `customer.write`, each with
//! a token the issuer has not revoked (asked by introspection, answers cached briefly per
//! `jti`): every route here returns or changes personal data, so a revoked token stops at
//! once everywhere (RFC 9700 §4.14). Other methods on a customer resource are a JSON 405 with
//! `Allow`.

mod customers;
mod input;

pub use input::MAX_OFFSET;

use actix_web::{Resource, web};
use auth_middleware::{ResourceServer, require_active_scope};
use service_kit::http::method_not_allowed;

/// Where this app is mounted, for `Location` headers.
#[derive(Debug, Clone)]
pub struct ContextPath(pub String);

pub fn configure<'a>(
    context_path: &'a str,
    resource: &'a ResourceServer,
) -> impl FnOnce(&mut web::ServiceConfig) + 'a {
    move |cfg| {
        cfg.service(
            web::scope(context_path)
                .configure(|c| resource.configure(c))
                .service(collection())
                .service(item()),
        )
        .default_service(web::to(service_kit::http::not_found));
    }
}

/// `/customers`: list (`customer.read`), create (`customer.write`).
fn collection() -> Resource {
    web::resource("/customers")
        .route(
            web::get()
                .to(customers::list)
                .wrap(require_active_scope("customer.read")),
        )
        .route(
            web::post()
                .to(customers::create)
                .wrap(require_active_scope("customer.write")),
        )
        .default_service(web::to(|| async { method_not_allowed("GET, POST") }))
}

/// `/customers/{id}`: read (`customer.read`), replace and delete (`customer.write`).
fn item() -> Resource {
    web::resource("/customers/{id}")
        .route(
            web::get()
                .to(customers::get)
                .wrap(require_active_scope("customer.read")),
        )
        .route(
            web::put()
                .to(customers::update)
                .wrap(require_active_scope("customer.write")),
        )
        .route(
            web::delete()
                .to(customers::delete)
                .wrap(require_active_scope("customer.write")),
        )
        .default_service(web::to(|| async { method_not_allowed("GET, PUT, DELETE") }))
}
