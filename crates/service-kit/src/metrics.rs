//! Prometheus metrics: one process-wide recorder (the `metrics` facade, rendered by
//! `metrics-exporter-prometheus`), a middleware counting requests and their latency by route
//! and status, and the `/metrics` page (served on the management listener only).
//!
//! Every label value comes from a closed set: a client chooses none of them (a free-form
//! method or path as a label would grow memory without bound), and the recorder's upkeep runs
//! on its own thread, so histogram samples do not pile up between scrapes.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use actix_web::{
    Error, HttpMessage, HttpResponse,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets, in seconds: from a cached-token GET to a slow upstream.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Store latency buckets, in seconds: from an in-memory map to a slow database round trip.
const STORE_BUCKETS: &[f64] = &[
    0.000_01, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0,
];

/// Installs the recorder once per process; later calls reuse it.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    BUCKETS,
                )
                .ok()?
                .set_buckets_for_metric(
                    Matcher::Full("store_operation_duration_seconds".to_owned()),
                    STORE_BUCKETS,
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    spawn_upkeep(handle.clone());
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// How often buffered histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// `install_recorder` runs no upkeep by itself: without it every histogram sample stays
/// buffered until the next render, so memory grows with traffic on a service nobody scrapes.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "metrics upkeep thread not started");
    }
}

/// The method label: the standard methods by name, anything else `_OTHER` (the OpenTelemetry
/// HTTP semantic conventions), so a client cannot mint new series with invented methods.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}

/// Whether `method` is one of RFC 9110's (and RFC 5789's PATCH): what a gateway forwards.
pub fn is_standard_method(method: &actix_web::http::Method) -> bool {
    method_label(method) != "_OTHER"
}

/// A route label set by a handler that serves many paths without route patterns (the
/// gateway's proxy labels by route prefix).
#[derive(Debug, Clone)]
pub struct RouteLabel(pub String);

/// The route of a served request for labels and span names: its pattern, the label a handler
/// set, or `unmatched` — never the raw path, so ids do not explode the label set.
pub fn route_label(req: &actix_web::HttpRequest) -> String {
    req.match_pattern()
        .or_else(|| req.extensions().get::<RouteLabel>().map(|l| l.0.clone()))
        .unwrap_or_else(|| "unmatched".to_owned())
}

/// `App::wrap(from_fn(service_kit::metrics::middleware))`: `http_requests_total` and
/// `http_request_duration_seconds` by method, route pattern (never the raw path, so ids do not
/// explode the label set) and status.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let res = next.call(req).await?;
    let route = route_label(res.request());
    let status = res.status().as_u16().to_string();
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// Awaits one store operation and records `store_operation_duration_seconds{store,op,outcome}`
/// and, when it failed, `store_errors_total{store,op}`.
pub async fn time_store<T, E>(
    store: &'static str,
    op: &'static str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = call.await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::histogram!("store_operation_duration_seconds", "store" => store, "op" => op, "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
    if result.is_err() {
        metrics::counter!("store_errors_total", "store" => store, "op" => op).increment(1);
    }
    result
}

/// `GET /metrics` in the Prometheus text format.
pub async fn page() -> HttpResponse {
    match install() {
        Some(handle) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4")
            .body(handle.render()),
        None => HttpResponse::ServiceUnavailable().body("metrics are not available"),
    }
}

/// The value of the series `name` carrying all of `labels` in a rendered page (for tests and
/// smoke checks); the sum when several series match.
pub fn sample(page: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in page.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with('{') || rest.starts_with(' ')) {
            continue;
        }
        let (series, value) = rest.rsplit_once(' ')?;
        if labels
            .iter()
            .all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
        {
            *found.get_or_insert(0.0) += value.parse::<f64>().ok()?;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn store_operations_are_timed_and_failures_counted() {
        let handle = install().expect("recorder");
        let ok: Result<u8, &str> = time_store("unit", "get", async { Ok(1) }).await;
        let failed: Result<u8, &str> = time_store("unit", "get", async { Err("down") }).await;
        assert_eq!((ok, failed), (Ok(1), Err("down")));
        let page = handle.render();
        let count = |outcome| {
            sample(
                &page,
                "store_operation_duration_seconds_count",
                &[("store", "unit"), ("op", "get"), ("outcome", outcome)],
            )
        };
        assert_eq!(
            (count("ok"), count("error")),
            (Some(1.0), Some(1.0)),
            "{page}"
        );
        let errors = sample(&page, "store_errors_total", &[("store", "unit")]);
        assert_eq!(errors, Some(1.0), "{page}");
    }

    #[test]
    fn method_labels_are_a_closed_set() {
        use actix_web::http::Method;
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"RVWMETHODA1").unwrap();
        assert_eq!(method_label(&invented), "_OTHER");
        assert!(!is_standard_method(&invented) && is_standard_method(&Method::DELETE));
    }

    #[test]
    fn sample_reads_series_by_labels() {
        let page =
            "# TYPE a counter\na{x=\"1\",y=\"2\"} 3\na{x=\"1\",y=\"3\"} 4\nab{x=\"1\"} 9\nb 5\n";
        assert_eq!(sample(page, "a", &[("x", "1")]), Some(7.0));
        assert_eq!(sample(page, "a", &[("y", "3")]), Some(4.0));
        assert_eq!(sample(page, "b", &[]), Some(5.0));
        assert_eq!(sample(page, "a", &[("x", "2")]), None);
    }
}
