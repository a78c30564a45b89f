//! Telemetry set-up shared by every service, in one call: logs (`tracing-subscriber`, text or
//! JSON lines), traces exported over OTLP/HTTP (`tracing-opentelemetry`, off unless an
//! endpoint is configured) and W3C trace-context propagation in and out of HTTP requests.

pub mod log;
pub mod propagation;
pub mod trace;

pub use log::{LogFormat, LogSettings};
pub use trace::{TraceSettings, TracingError};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::{Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// What `init` set up; `shutdown` (or drop) flushes the spans not yet exported.
#[must_use = "dropping the guard flushes and stops trace export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// True when spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports what is buffered and stops the exporter (bounded by the export timeout).
    pub fn shutdown(mut self) {
        self.flush();
    }

    fn flush(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("telemetry: flushing traces failed: {e}");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Installs the process-wide subscriber: logs to stderr filtered by `log.filter` (`RUST_LOG`
/// wins), and, when an OTLP endpoint is configured (`trace.otlp_endpoint` or the standard
/// `OTEL_EXPORTER_OTLP_*` variables), spans filtered by `trace.filter` exported as
/// `service_name` (`trace.service_name` or `OTEL_SERVICE_NAME` win). Call it outside any async
/// runtime: the exporter runs on its own thread with a blocking client. A second call installs
/// nothing and exports nothing.
pub fn init(
    log: &LogSettings,
    trace: &TraceSettings,
    service_name: &str,
) -> Result<Telemetry, TracingError> {
    let export = trace::resolve(trace, service_name, |k| std::env::var(k).ok())?;
    let provider = export.map(|e| e.provider()).transpose()?;
    let otel_layer = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("ms-auth-server-workspace"))
            .with_threads(false)
            .with_filter(trace::span_filter(&trace.filter))
    });
    let installed = tracing_subscriber::registry()
        .with(log::layer(log))
        .with(otel_layer)
        .try_init()
        .is_ok();
    Ok(Telemetry {
        provider: provider.filter(|_| installed),
    })
}
