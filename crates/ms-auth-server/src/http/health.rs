//! `GET /health` (and `/health/live`, `/health/ready` for probes).
//!
//! The server only starts serving once its keys and clients are loaded, so while it answers
//! it is live and ready; the storage issue adds real readiness checks.

use actix_web::{HttpResponse, http::header};
use serde_json::json;

pub async fn health() -> HttpResponse {
    no_cache(HttpResponse::Ok())
        .json(json!({ "status": "UP", "checks": { "live": "UP", "ready": "UP" } }))
}

pub async fn live() -> HttpResponse {
    no_cache(HttpResponse::Ok()).json(json!({ "status": "UP" }))
}

pub async fn ready() -> HttpResponse {
    no_cache(HttpResponse::Ok()).json(json!({ "status": "UP" }))
}

fn no_cache(mut b: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::CACHE_CONTROL, "no-store"));
    b
}
