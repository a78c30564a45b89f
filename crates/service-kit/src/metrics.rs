//! Prometheus metrics: one process-wide recorder (the `metrics` facade, rendered by
//! `metrics-exporter-prometheus`), a middleware counting requests and their latency by route
//! and status, and the `/metrics` page.

use std::{sync::OnceLock, time::Instant};

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

/// Installs the recorder once per process; later calls reuse it.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    BUCKETS,
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// A route label set by a handler that serves many paths without route patterns (the
/// gateway's proxy labels by route prefix).
#[derive(Debug, Clone)]
pub struct RouteLabel(pub String);

/// `App::wrap(from_fn(service_kit::metrics::middleware))`: `http_requests_total` and
/// `http_request_duration_seconds` by method, route pattern (never the raw path, so ids do not
/// explode the label set) and status.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .or_else(|| {
            res.request()
                .extensions()
                .get::<RouteLabel>()
                .map(|l| l.0.clone())
        })
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    Ok(res)
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
