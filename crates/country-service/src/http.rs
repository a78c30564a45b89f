//! Routes: `GET /countries` and `GET /countries/{code}` need `country.read`; other methods
//! there are a JSON 405 with `Allow`.

use actix_web::{HttpResponse, web};
use auth_middleware::{ResourceServer, require_scope};
use serde_json::json;
use service_kit::http::{json_error, method_not_allowed};

use crate::countries::Countries;

pub fn configure<'a>(
    context_path: &'a str,
    resource: &'a ResourceServer,
) -> impl FnOnce(&mut web::ServiceConfig) + 'a {
    move |cfg| {
        cfg.service(
            web::scope(context_path)
                .configure(|c| resource.configure(c))
                .service(
                    web::resource("/countries")
                        .route(web::get().to(list).wrap(require_scope("country.read")))
                        .default_service(web::to(|| async { method_not_allowed("GET") })),
                )
                .service(
                    web::resource("/countries/{code}")
                        .route(web::get().to(get).wrap(require_scope("country.read")))
                        .default_service(web::to(|| async { method_not_allowed("GET") })),
                ),
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
