//! Routes: `/countries` and `/countries/{code}` need `country.read`.

use actix_web::{HttpResponse, web};
use auth_middleware::{ProtectedResourceMetadata, Verifier, require_scope};
use serde_json::json;
use service_kit::http::json_error;

use crate::countries::Countries;

pub fn configure(context_path: &str) -> impl FnOnce(&mut web::ServiceConfig) + '_ {
    move |cfg| {
        cfg.service(
            web::scope(context_path)
                .route(
                    "/countries",
                    web::get().to(list).wrap(require_scope("country.read")),
                )
                .route(
                    "/countries/{code}",
                    web::get().to(get).wrap(require_scope("country.read")),
                )
                .route(
                    "/.well-known/oauth-protected-resource",
                    web::get().to(resource_metadata),
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

async fn resource_metadata(doc: web::Data<ProtectedResourceMetadata>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}

fn keys_loaded(verifier: &Verifier) -> bool {
    !verifier.keys().current().is_empty()
}

async fn health(verifier: web::Data<Verifier>) -> HttpResponse {
    service_kit::http::health(&[("keys", keys_loaded(&verifier))])
}

async fn ready(verifier: web::Data<Verifier>) -> HttpResponse {
    service_kit::http::ready(&[("keys", keys_loaded(&verifier))])
}
