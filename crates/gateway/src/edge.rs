//! What the edge refuses before anything else sees a request: a method outside RFC 9110 §9's
//! set (and RFC 5789's PATCH) is `501 Not Implemented` (§15.6.2: "the server does not support
//! the functionality required"), never routed, logged or put in a span, so an invented method
//! cannot cost memory anywhere behind the gateway.

use actix_web::{
    Error,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::StatusCode,
    middleware::Next,
};
use service_kit::http::json_error;

/// `App::wrap(from_fn(edge::refuse_unknown_methods))`, inside the metrics middleware (which
/// counts these as `_OTHER`) and outside everything else.
pub async fn refuse_unknown_methods<B: MessageBody + 'static>(
    req: ServiceRequest,
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
    Ok(next.call(req).await?.map_into_left_body())
}
