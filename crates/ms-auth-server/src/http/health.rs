//! `GET /health` (and `/health/live`, `/health/ready` for probes).
//!
//! The server only starts serving once its keys and clients are loaded, so while it answers
//! it is live and ready; the storage issue adds real readiness checks.

use actix_web::HttpResponse;

pub async fn health() -> HttpResponse {
    service_kit::http::health(&[])
}

pub async fn live() -> HttpResponse {
    service_kit::http::live()
}

pub async fn ready() -> HttpResponse {
    service_kit::http::ready(&[])
}
