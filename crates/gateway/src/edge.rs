//! What the edge does before anything else sees a request.
//!
//! - A method outside RFC 9110 §9's set (and RFC 5789's PATCH) is `501 Not Implemented`
//!   (§15.6.2: "the server does not support the functionality required"), never routed,
//!   logged or put in a span, so an invented method cannot cost memory anywhere behind the
//!   gateway (review F1).
//! - The caller's W3C Trace Context (`traceparent`, `tracestate`) is dropped unless
//!   `server.trust_incoming_trace_context` says otherwise: the gateway starts a new root, so a
//!   caller can neither force sampling with the `sampled` flag nor graft spans onto a trace id
//!   of its choosing (review F17). Upstreams continue the gateway's trace.

use actix_web::{
    Error,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header::HeaderName},
    middleware::Next,
    web,
};
use service_kit::http::json_error;

use crate::proxy::Gateway;

/// `App::wrap(from_fn(edge::middleware))`, inside the metrics middleware (which counts
/// refusals as `_OTHER`) and outside the request-id middleware (which continues a trace).
pub async fn middleware<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    if !service_kit::metrics::is_standard_method(req.method()) {
        let res = json_error(
            StatusCode::NOT_IMPLEMENTED,
            "not_implemented",
            "the request method is not supported",
        );
        return Ok(req.into_response(res).map_into_right_body());
    }
    let trusted = req
        .app_data::<web::Data<Gateway>>()
        .is_some_and(|g| g.trust_incoming_trace_context);
    if !trusted {
        for name in telemetry::propagation::FIELDS {
            req.headers_mut().remove(HeaderName::from_static(name));
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}
