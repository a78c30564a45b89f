//! The forwarding handler: route, check limits, read the body (buffered when small), take one
//! of the route's slots, send the request to an upstream, stream the response back. Every
//! failure is a JSON 4xx/5xx; nothing waits forever.

use std::{
    cell::Cell,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse,
    body::SizedStream,
    http::{
        ConnectionType, Method, StatusCode,
        header::{self, HeaderMap, HeaderValue},
    },
    web,
};
use awc::error::{ConnectError, SendRequestError};
use futures_util::Stream;
use service_kit::http::json_error;
use tokio::sync::OwnedSemaphorePermit;
use tracing::{Instrument, field::Empty};

use crate::{
    body::{self, Body, BodyError, BodyLimits},
    headers,
    routes::RouteTable,
    settings::Settings,
};

/// What every worker shares.
pub struct Gateway {
    pub routes: RouteTable,
    pub body: BodyLimits,
    pub max_header_bytes: usize,
    pub down_for: Duration,
    pub queue_timeout: Duration,
    pub trusted_proxies: headers::TrustedProxies,
    pub trust_incoming_trace_context: bool,
    /// `https` when the gateway terminates TLS, else `http`: the scheme clients used.
    pub scheme: &'static str,
    pub epoch: Instant,
}

impl Gateway {
    pub fn new(settings: &Settings) -> Self {
        Self {
            routes: RouteTable::new(&settings.routes, settings.upstream.max_requests_per_route),
            body: BodyLimits::new(&settings.server),
            max_header_bytes: settings.server.max_header_bytes,
            down_for: Duration::from_millis(settings.upstream.down_for_ms),
            queue_timeout: Duration::from_millis(settings.upstream.queue_timeout_ms),
            trusted_proxies: headers::TrustedProxies::new(&settings.server.trusted_proxies),
            trust_incoming_trace_context: settings.server.trust_incoming_trace_context,
            scheme: if settings.server.tls.is_some() {
                "https"
            } else {
                "http"
            },
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A per-worker HTTP client with its connection pool. The pool is never what a request waits
/// for: it has room for every route's slots at once (awc queues pool waits with no deadline of
/// their own), and the routes' slots, waited for at most `queue_timeout_ms`, bound it.
pub fn client(settings: &Settings) -> awc::Client {
    let room = settings
        .upstream
        .max_requests_per_route
        .saturating_mul(settings.routes.len())
        .max(1);
    let connector = awc::Connector::new()
        .timeout(Duration::from_millis(settings.upstream.connect_timeout_ms))
        .conn_keep_alive(Duration::from_secs(30))
        .limit(room);
    awc::Client::builder()
        .connector(connector)
        .timeout(Duration::from_millis(settings.upstream.response_timeout_ms))
        .disable_redirects()
        .no_default_headers()
        .finish()
}

/// Methods RFC 9110 §9.2.2 calls idempotent: only these may be retried on another upstream.
fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

pub async fn forward(
    req: HttpRequest,
    payload: web::Payload,
    gateway: web::Data<Gateway>,
    client: web::Data<awc::Client>,
) -> HttpResponse {
    // Routed and forwarded in the form the upstreams will match (F14).
    let path = match crate::path::normalise(req.path()) {
        Ok(path) => path,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, "bad_request", &e.to_string()),
    };
    let head_size: usize = req.uri().to_string().len()
        + req
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if head_size > gateway.max_header_bytes {
        return json_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            "request headers are too large",
        );
    }
    let Some((route, upstream_path)) = gateway.routes.find(&path) else {
        return service_kit::http::not_found(req).await;
    };
    req.extensions_mut()
        .insert(service_kit::metrics::RouteLabel(route.prefix.clone()));
    let declared_len = match req
        .headers()
        .get(header::CONTENT_LENGTH)
        .map(|v| v.to_str().map(str::parse::<u64>))
    {
        None => None,
        Some(Ok(Ok(n))) => Some(n),
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "malformed Content-Length",
            );
        }
    };
    if declared_len.is_some_and(|n| n > gateway.body.max_bytes) {
        return body_refused(BodyError::TooLarge, &gateway.body);
    }
    let has_body = declared_len.is_some_and(|n| n > 0)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    // Small bodies are all here before an upstream connection is taken (F5).
    let failed = Rc::new(Cell::new(None));
    let mut body = if has_body {
        match body::read(payload, declared_len, gateway.body, Rc::clone(&failed)).await {
            Ok(body) => Some(body),
            Err(e) => return body_refused(e, &gateway.body),
        }
    } else {
        None
    };
    let slot = match tokio::time::timeout(
        gateway.queue_timeout,
        std::sync::Arc::clone(&route.slots).acquire_owned(),
    )
    .await
    {
        Ok(Ok(slot)) => slot,
        Ok(Err(_)) | Err(_) => {
            metrics::counter!("upstream_errors_total", "kind" => "busy").increment(1);
            let mut res = json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "too many requests are waiting for this route; try again shortly",
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return res;
        }
    };
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut forwarded_headers = Some(upstream_headers(
        &req,
        &gateway.trusted_proxies,
        gateway.scheme,
    ));

    let candidates = route.pool.pick(gateway.now_ms());
    // A streamed body is sent once: it cannot be replayed; and only idempotent requests may
    // be retried at all.
    let replayable = !matches!(body, Some(Body::Streamed(_)));
    let attempts = if replayable && idempotent(req.method()) {
        candidates.len()
    } else {
        1
    };
    let mut last_error = None;
    for &i in candidates.iter().take(attempts) {
        let upstream = route.pool.get(i);
        let mut up = client.request(
            req.method().clone(),
            format!("{}{upstream_path}{query}", upstream.base),
        );
        // Moved on the first attempt; cloned only for a retry.
        let headers = if attempts > 1 {
            forwarded_headers.clone()
        } else {
            forwarded_headers.take()
        };
        *up.headers_mut() = headers.unwrap_or_default();
        // The upstream continues this client span's trace (when traces are exported; else a
        // trusted caller's `traceparent`, if any, passes through untouched).
        let span = tracing::info_span!(
            "upstream",
            otel.name = %format!("{} {}", req.method(), route.prefix),
            otel.kind = "client",
            server.address = %upstream.base,
            http.response.status_code = Empty,
        );
        telemetry::propagation::inject(&span, |name, value| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                up.headers_mut()
                    .insert(header::HeaderName::from_static(name), v);
            }
        });
        let sent = match body.take() {
            None => up.send().instrument(span.clone()).await,
            Some(Body::Buffered(bytes)) => {
                // Kept for a retry (a cheap reference-counted clone).
                body = Some(Body::Buffered(bytes.clone()));
                up.send_body(bytes).instrument(span.clone()).await
            }
            Some(Body::Streamed(stream)) => up.send_stream(stream).instrument(span.clone()).await,
        };
        if let Ok(res) = &sent {
            span.record("http.response.status_code", res.status().as_u16());
        }
        match sent {
            Ok(res) => return respond(res, slot),
            Err(e) => {
                if let Some(refused) = failed.get() {
                    return body_refused(refused, &gateway.body);
                }
                let kind = match &e {
                    SendRequestError::Timeout
                    | SendRequestError::Connect(ConnectError::Timeout) => "timeout",
                    SendRequestError::Connect(_) => "connect",
                    _ => "other",
                };
                metrics::counter!("upstream_errors_total", "kind" => kind).increment(1);
                if let SendRequestError::Connect(_) = e {
                    route
                        .pool
                        .mark_down(i, gateway.now_ms() + gateway.down_for.as_millis() as u64);
                }
                tracing::warn!(upstream = %upstream.base, error = %e, "upstream request failed");
                last_error = Some(e);
            }
        }
    }
    match last_error {
        Some(SendRequestError::Timeout | SendRequestError::Connect(ConnectError::Timeout)) => {
            json_error(
                StatusCode::GATEWAY_TIMEOUT,
                "gateway_timeout",
                "the upstream did not answer in time",
            )
        }
        _ => json_error(
            StatusCode::BAD_GATEWAY,
            "bad_gateway",
            "the upstream is unavailable",
        ),
    }
}

/// The answer to a body that was not passed on. The connection is closed: what is left of the
/// body was not read.
fn body_refused(e: BodyError, limits: &BodyLimits) -> HttpResponse {
    let mut res = match e {
        BodyError::TooLarge => json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            &format!("request bodies are limited to {} bytes", limits.max_bytes),
        ),
        BodyError::TooSlow => json_error(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time",
        ),
        BodyError::Unreadable => json_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read",
        ),
    };
    res.head_mut().set_connection_type(ConnectionType::Close);
    res
}

/// The request headers for the upstream: end-to-end fields kept (the client's `Host` among
/// them, so absolute URLs come out right), hop-by-hop ones dropped, forwarding fields set for
/// this hop: replacing the client's own, or after a trusted proxy's.
fn upstream_headers(
    req: &HttpRequest,
    trusted: &headers::TrustedProxies,
    proto: &str,
) -> HeaderMap {
    let drop = headers::HopByHop::of(req.headers());
    let mut out = HeaderMap::with_capacity(req.headers().len() + 5);
    for (name, value) in req.headers() {
        if !drop.contains(name) && name != header::EXPECT {
            out.append(name.clone(), value.clone());
        }
    }
    let peer_ip = req.peer_addr().map(|a| a.ip());
    let peer = peer_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_canonical().to_string());
    let from_trusted = peer_ip.is_some_and(|ip| trusted.contains(ip));
    // Every line of a field, as one list (RFC 9110 §5.3); none unless the peer is trusted.
    let earlier = |name: &str| {
        let values: Vec<&str> = req
            .headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect();
        (from_trusted && !values.is_empty()).then(|| values.join(", "))
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let values = [
        (
            "x-forwarded-for",
            Some(headers::x_forwarded_for(
                earlier("x-forwarded-for").as_deref(),
                &peer,
            )),
        ),
        (
            "forwarded",
            Some(headers::forwarded(
                earlier("forwarded").as_deref(),
                &peer,
                host.as_deref(),
                proto,
            )),
        ),
        // A trusted proxy in front knows the client's scheme, host and address better.
        (
            "x-forwarded-proto",
            earlier("x-forwarded-proto").or_else(|| Some(proto.to_owned())),
        ),
        ("x-forwarded-host", earlier("x-forwarded-host").or(host)),
        (
            "x-real-ip",
            earlier("x-real-ip").or_else(|| Some(peer.clone())),
        ),
    ];
    for (name, value) in values {
        let name = header::HeaderName::from_static(name);
        out.remove(&name);
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            out.insert(name, v);
        }
    }
    out
}

/// The client's response: status and end-to-end headers as the upstream sent them, body
/// streamed (with its length when the upstream gave one).
fn respond<S>(res: awc::ClientResponse<S>, slot: OwnedSemaphorePermit) -> HttpResponse
where
    S: Stream<Item = Result<web::Bytes, awc::error::PayloadError>> + Unpin + 'static,
{
    let drop = headers::HopByHop::of(res.headers());
    let mut builder = HttpResponse::build(res.status());
    for (name, value) in res.headers() {
        if !drop.contains(name) && name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    let length = res
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = Held {
        inner: res,
        _slot: slot,
    };
    match length {
        Some(n) => builder.body(SizedStream::new(n, body)),
        None => builder.streaming(body),
    }
}

/// A response body that keeps its route slot until it is done: the upstream connection is busy
/// until then.
struct Held<S> {
    inner: S,
    _slot: OwnedSemaphorePermit,
}

impl<S: Stream + Unpin> Stream for Held<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_methods() {
        assert!(
            idempotent(&Method::GET) && idempotent(&Method::PUT) && idempotent(&Method::DELETE)
        );
        assert!(!idempotent(&Method::POST) && !idempotent(&Method::PATCH));
    }
}
