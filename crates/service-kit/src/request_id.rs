//! A request id and a server span on every request. The id is taken from `X-Request-Id` when
//! the caller (or the gateway) sent a sane one, created otherwise; put on the request (so a
//! proxy passes it on), in the request's span, and echoed in the response. The span continues
//! the caller's W3C trace (`traceparent`) and carries route, method and status, never headers
//! or the query (they may hold credentials).

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::{Instrument, field::Empty};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, for handlers that want it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Accepted ids: 1 to 128 characters of `A-Z a-z 0-9 . _ : -`, so an id can never break a
/// log line or a header.
fn acceptable(value: &HeaderValue) -> Option<&str> {
    let s = value.to_str().ok()?;
    let ok = (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b));
    ok.then_some(s)
}

/// `App::wrap(from_fn(service_kit::request_id::middleware))`.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = match req.headers().get(&HEADER).and_then(acceptable) {
        Some(id) => id.to_owned(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    req.headers_mut().insert(HEADER, value.clone());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        otel.name = Empty,
        otel.kind = "server",
        otel.status_code = Empty,
        request_id = %id,
        http.request.method = %req.method(),
        url.path = %req.path(),
        http.route = Empty,
        http.response.status_code = Empty,
    );
    telemetry::propagation::continue_trace(&span, |name| {
        req.headers().get(name).and_then(|v| v.to_str().ok())
    });
    let mut res = next.call(req).instrument(span.clone()).await?;
    let route = crate::metrics::route_label(res.request());
    span.record("otel.name", format!("{} {route}", res.request().method()));
    span.record("http.route", route.as_str());
    span.record("http.response.status_code", res.status().as_u16());
    if res.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    res.headers_mut().insert(HEADER, value);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, HttpResponse, middleware::from_fn, test, web};

    #[actix_web::test]
    async fn keeps_a_sane_id_and_replaces_anything_else() {
        let app = test::init_service(App::new().wrap(from_fn(middleware)).route(
            "/",
            web::get().to(|req: actix_web::HttpRequest| async move {
                let seen = req
                    .headers()
                    .get(&HEADER)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                HttpResponse::Ok().body(seen)
            }),
        ))
        .await;
        let call = |id: Option<&'static str>| {
            let mut req = test::TestRequest::get().uri("/");
            if let Some(id) = id {
                req = req.insert_header(("X-Request-Id", id));
            }
            req.to_request()
        };
        let res = test::call_service(&app, call(Some("abc-123"))).await;
        assert_eq!(res.headers().get("x-request-id").unwrap(), "abc-123");
        assert_eq!(
            test::read_body(res).await,
            "abc-123",
            "the handler sees it on the request"
        );
        for bad in [None, Some("has space"), Some("a\"b")] {
            let res = test::call_service(&app, call(bad)).await;
            let id = res
                .headers()
                .get("x-request-id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} -> {id}");
            assert_eq!(test::read_body(res).await, id.as_str());
        }
    }
}
