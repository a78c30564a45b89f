//! `/customers` and `/customers/{id}`: list, read, create, replace, delete.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use auth_middleware::Principal;
use serde_json::json;
use uuid::Uuid;

use super::{
    ContextPath,
    input::{self, invalid, not_found, unavailable},
};
use crate::store::CustomerStore;

type Store = web::Data<dyn CustomerStore>;

pub(super) async fn list(req: HttpRequest, store: Store) -> HttpResponse {
    let page = match input::page(req.query_string()) {
        Ok(p) => p,
        Err(e) => return invalid(&e),
    };
    match store.list(page.limit, page.offset).await {
        Ok((items, total)) => HttpResponse::Ok().json(
            json!({ "items": items, "limit": page.limit, "offset": page.offset, "total": total }),
        ),
        Err(e) => unavailable(&e),
    }
}

pub(super) async fn get(id: web::Path<String>, store: Store) -> HttpResponse {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    match store.get(id).await {
        Ok(Some(c)) => HttpResponse::Ok().json(c),
        Ok(None) => not_found(),
        Err(e) => unavailable(&e),
    }
}

pub(super) async fn create(
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    store: Store,
    base: web::Data<ContextPath>,
    caller: Principal,
) -> HttpResponse {
    let input = match input::customer(&req, body) {
        Ok(i) => i,
        Err(e) => return e.response(),
    };
    match store.create(input).await {
        Ok(c) => {
            tracing::info!(customer = %c.id, by = %caller.subject, "customer created");
            HttpResponse::Created()
                .insert_header((header::LOCATION, format!("{}/customers/{}", base.0, c.id)))
                .json(c)
        }
        Err(e) => unavailable(&e),
    }
}

pub(super) async fn update(
    req: HttpRequest,
    id: web::Path<String>,
    body: Result<web::Bytes, actix_web::Error>,
    store: Store,
) -> HttpResponse {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let input = match input::customer(&req, body) {
        Ok(i) => i,
        Err(e) => return e.response(),
    };
    match store.update(id, input).await {
        Ok(Some(c)) => HttpResponse::Ok().json(c),
        Ok(None) => not_found(),
        Err(e) => unavailable(&e),
    }
}

pub(super) async fn delete(id: web::Path<String>, store: Store) -> HttpResponse {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    match store.delete(id).await {
        Ok(true) => HttpResponse::NoContent().finish(),
        Ok(false) => not_found(),
        Err(e) => unavailable(&e),
    }
}

/// Ids are UUIDs; anything else names no customer, so it is a 404 like an unknown id.
fn parse_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw).ok()
}
