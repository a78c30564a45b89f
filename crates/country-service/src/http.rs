//! Routes: `/countries` and `/countries/{code}` need `country.read`.

use actix_web::{HttpResponse, web};
use auth_middleware::{ResourceServer, Verifier, require_scope};
use serde_json::json;
use service_kit::http::json_error;

use crate::countries::Countries;

pub fn configure<'a>(
    context_path: &'a str,
    resource: &'a ResourceServer,
) -> impl FnOnce(&mut web::ServiceConfig) + 'a {
    move |cfg| {
        cfg.service(
            web::scope(context_path)
                .configure(|c| resource.configure(c))
                .route(
                    "/countries",
                    web::get().to(list).wrap(require_scope("country.read")),
                )
                .route(
                    "/countries/{code}",
                    web::get().to(get).wrap(require_scope("country.read")),
                )
                .route("/health", web::get().to(health))
                .route(
                    "/health/live",
                    web::get().to(|| async { service_kit::http::live() }),
                )
                .route("/health/ready", web::get().to(ready)),
        )
        .default_service(web::to(service_kit::http::not_found));
    }
}

async fn list(countries: web::Data<Countries>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "items": countries.all(), "total": countries.all().len() }))
}

async fn get(code: web::Path<String>, countries: web::Data<Countries>) -> HttpResponse {
    match countries.find(&code) {
        Some(country) => HttpResponse::Ok().json(country),
        None => {
            let shown: String = code.chars().take(8).collect();
            json_error(
                actix_web::http::StatusCode::NOT_FOUND,
                "not_found",
                &format!("no country with code {shown}"),
            )
        }
    }
}

async fn health(verifier: web::Data<Verifier>) -> HttpResponse {
    service_kit::http::health(&[("keys", verifier.has_keys())])
}

async fn ready(verifier: web::Data<Verifier>) -> HttpResponse {
    service_kit::http::ready(&[("keys", verifier.has_keys())])
}
