//! `GET /health` (and `/health/live`, `/health/ready` for probes). Ready means every backend
//! the server needs answers (the SQL store; Redis once configured): while one does not, the
//! endpoints that need it answer 503 and readiness says so.

use actix_web::{HttpResponse, web};

use crate::store::Stores;

pub async fn health(stores: web::Data<Stores>) -> HttpResponse {
    service_kit::http::health(&stores.readiness().await)
}

pub async fn live() -> HttpResponse {
    service_kit::http::live()
}

pub async fn ready(stores: web::Data<Stores>) -> HttpResponse {
    service_kit::http::ready(&stores.readiness().await)
}
