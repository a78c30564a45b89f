//! JSON responses for plain HTTP outcomes shared by every service: health, 404, 405.

use actix_web::{HttpRequest, HttpResponse, http::header};
use serde_json::{Value, json};

/// `{"error": code, "error_description": description}` with `status`.
pub fn json_error(
    status: actix_web::http::StatusCode,
    code: &str,
    description: &str,
) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": code, "error_description": description }))
}

/// The default service of every app: a JSON 404 naming (a bounded part of) the path.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let shown: String = req.path().chars().take(200).collect();
    json_error(
        actix_web::http::StatusCode::NOT_FOUND,
        "not_found",
        &format!("no resource at {shown}"),
    )
}

/// A JSON 405 with `Allow`.
pub fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut res = json_error(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        &format!("use {allow}"),
    );
    res.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    res
}

/// `GET /health`: `{"status": "UP"|"DOWN", "checks": {name: "UP"|"DOWN"}}`, 503 when any
/// check is down. `live` is always up while the process answers.
pub fn health(checks: &[(&str, bool)]) -> HttpResponse {
    let ready = checks.iter().all(|(_, ok)| *ok);
    let mut map = serde_json::Map::new();
    map.insert("live".to_owned(), json!("UP"));
    for (name, ok) in checks {
        map.insert((*name).to_owned(), json!(if *ok { "UP" } else { "DOWN" }));
    }
    map.insert("ready".to_owned(), json!(if ready { "UP" } else { "DOWN" }));
    status_response(
        ready,
        json!({ "status": if ready { "UP" } else { "DOWN" }, "checks": Value::Object(map) }),
    )
}

/// `GET /health/live`: the process answers.
pub fn live() -> HttpResponse {
    status_response(true, json!({ "status": "UP" }))
}

/// `GET /health/ready`: 200 when every check is up, else 503.
pub fn ready(checks: &[(&str, bool)]) -> HttpResponse {
    let ready = checks.iter().all(|(_, ok)| *ok);
    status_response(
        ready,
        json!({ "status": if ready { "UP" } else { "DOWN" } }),
    )
}

fn status_response(ok: bool, body: Value) -> HttpResponse {
    let mut b = if ok {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    b.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}
