//! Routes: reading customers needs `customer.read`, changing them `customer.write`.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use auth_middleware::{Principal, ResourceServer, Verifier, require_scope};
use serde_json::{Value, json};
use service_kit::http::json_error;
use uuid::Uuid;

use crate::{
    customer::{CustomerInput, FieldError},
    store::{CustomerStore, StoreError},
};

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
                .route(
                    "/customers",
                    web::get().to(list).wrap(require_scope("customer.read")),
                )
                .route(
                    "/customers",
                    web::post().to(create).wrap(require_scope("customer.write")),
                )
                .route(
                    "/customers/{id}",
                    web::get().to(get).wrap(require_scope("customer.read")),
                )
                .route(
                    "/customers/{id}",
                    web::put().to(update).wrap(require_scope("customer.write")),
                )
                .route(
                    "/customers/{id}",
                    web::delete()
                        .to(delete)
                        .wrap(require_scope("customer.write")),
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

type Store = web::Data<dyn CustomerStore>;

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

#[derive(serde::Deserialize)]
struct Page {
    limit: Option<String>,
    offset: Option<String>,
}

async fn list(req: HttpRequest, store: Store) -> HttpResponse {
    let page = match web::Query::<Page>::from_query(req.query_string()) {
        Ok(p) => p.into_inner(),
        Err(_) => {
            return invalid(&FieldError {
                field: "$query".into(),
                message: "malformed query string".into(),
            });
        }
    };
    let limit = match number(page.limit.as_deref(), "limit", DEFAULT_LIMIT, 1..=MAX_LIMIT) {
        Ok(n) => n,
        Err(e) => return invalid(&e),
    };
    let offset = match number(page.offset.as_deref(), "offset", 0, 0..=usize::MAX) {
        Ok(n) => n,
        Err(e) => return invalid(&e),
    };
    match store.list(limit, offset).await {
        Ok((items, total)) => HttpResponse::Ok()
            .json(json!({ "items": items, "limit": limit, "offset": offset, "total": total })),
        Err(e) => unavailable(&e),
    }
}

async fn get(id: web::Path<String>, store: Store) -> HttpResponse {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    match store.get(id).await {
        Ok(Some(c)) => HttpResponse::Ok().json(c),
        Ok(None) => not_found(),
        Err(e) => unavailable(&e),
    }
}

async fn create(
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    store: Store,
    base: web::Data<ContextPath>,
    caller: Principal,
) -> HttpResponse {
    let input = match input(&req, body) {
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

async fn update(
    req: HttpRequest,
    id: web::Path<String>,
    body: Result<web::Bytes, actix_web::Error>,
    store: Store,
) -> HttpResponse {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let input = match input(&req, body) {
        Ok(i) => i,
        Err(e) => return e.response(),
    };
    match store.update(id, input).await {
        Ok(Some(c)) => HttpResponse::Ok().json(c),
        Ok(None) => not_found(),
        Err(e) => unavailable(&e),
    }
}

async fn delete(id: web::Path<String>, store: Store) -> HttpResponse {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    match store.delete(id).await {
        Ok(true) => HttpResponse::NoContent().finish(),
        Ok(false) => not_found(),
        Err(e) => unavailable(&e),
    }
}

/// What can be wrong with a request body.
enum BodyError {
    TooLarge,
    Unreadable,
    NotJson,
    Malformed(String),
    Field(FieldError),
}

impl BodyError {
    fn response(&self) -> HttpResponse {
        match self {
            Self::TooLarge => json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            ),
            Self::Unreadable => json_error(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "the request body could not be read",
            ),
            Self::NotJson => json_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send application/json",
            ),
            Self::Malformed(e) => json_error(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                &format!("malformed JSON: {e}"),
            ),
            Self::Field(e) => invalid(e),
        }
    }
}

/// The JSON body as validated input.
fn input(
    req: &HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<CustomerInput, BodyError> {
    let body = body.map_err(|e| match e.as_response_error().status_code() {
        StatusCode::PAYLOAD_TOO_LARGE => BodyError::TooLarge,
        _ => BodyError::Unreadable,
    })?;
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(BodyError::NotJson);
    }
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| BodyError::Malformed(e.to_string()))?;
    CustomerInput::from_json(&value).map_err(BodyError::Field)
}

fn number(
    raw: Option<&str>,
    field: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, FieldError> {
    let Some(raw) = raw else { return Ok(default) };
    let bad = || FieldError {
        field: field.to_owned(),
        message: format!(
            "must be a whole number from {} to {}",
            range.start(),
            range.end()
        ),
    };
    let n: usize = raw.parse().map_err(|_| bad())?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

/// Ids are UUIDs; anything else names no customer.
fn parse_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw).ok()
}

fn invalid(e: &FieldError) -> HttpResponse {
    HttpResponse::BadRequest().json(
        json!({ "error": "invalid_field", "field": e.field, "error_description": e.to_string() }),
    )
}

fn not_found() -> HttpResponse {
    json_error(StatusCode::NOT_FOUND, "not_found", "no such customer")
}

fn unavailable(e: &StoreError) -> HttpResponse {
    tracing::error!(error = %e, "customer store failed");
    let mut res = json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the customer store is unavailable",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    res
}

async fn health(verifier: web::Data<Verifier>) -> HttpResponse {
    service_kit::http::health(&[("keys", verifier.has_keys())])
}

async fn ready(verifier: web::Data<Verifier>) -> HttpResponse {
    service_kit::http::ready(&[("keys", verifier.has_keys())])
}
