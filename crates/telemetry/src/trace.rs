//! Trace export over OTLP/HTTP with protobuf bodies: which endpoint and service name (config,
//! then the standard `OTEL_*` variables), and the tracer provider with a batch exporter.

use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// The `[telemetry]` table of every service's config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceSettings {
    /// Base URL of an OTLP/HTTP receiver (`http://collector:4318`); `/v1/traces` is appended.
    /// When unset, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is
    /// used; with none of them, no trace is exported.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the exported spans; `OTEL_SERVICE_NAME`, then the binary's name, when
    /// unset.
    pub service_name: Option<String>,
    /// Which spans are exported, as an `EnvFilter` directive.
    pub filter: String,
    /// Bound on one export, and so on the flush at shutdown.
    pub export_timeout_ms: u64,
}

impl Default for TraceSettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: None,
            filter: "info".to_owned(),
            export_timeout_ms: 5_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TracingError {
    #[error("telemetry: {0}")]
    Config(String),
    #[error("telemetry: the OTLP exporter cannot start: {0}")]
    Exporter(String),
}

/// Where and as what spans are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The full URL spans are posted to.
    pub traces_url: String,
    pub service_name: String,
    pub timeout: Duration,
}

/// Export settings from `settings` and the environment (`env` reads a variable), or `None`
/// when nothing asks for export or `OTEL_SDK_DISABLED=true` / `OTEL_TRACES_EXPORTER=none`.
pub fn resolve(
    settings: &TraceSettings,
    default_service_name: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Export>, TracingError> {
    let set = |k: &str| {
        env(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if set("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || set("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"))
    {
        return Ok(None);
    }
    let from_base = |base: &str| format!("{}/v1/traces", base.trim_end_matches('/'));
    let traces_url = match (
        settings.otlp_endpoint.as_deref().filter(|s| !s.is_empty()),
        set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        set("OTEL_EXPORTER_OTLP_ENDPOINT"),
    ) {
        (Some(base), _, _) => from_base(base),
        (None, Some(full), _) => full,
        (None, None, Some(base)) => from_base(&base),
        (None, None, None) => return Ok(None),
    };
    if !(traces_url.starts_with("http://") || traces_url.starts_with("https://")) {
        return Err(TracingError::Config(format!(
            "the OTLP endpoint {traces_url:?} (`telemetry.otlp_endpoint` or OTEL_EXPORTER_OTLP_*) must be an http:// or https:// URL"
        )));
    }
    let protocol =
        set("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| set("OTEL_EXPORTER_OTLP_PROTOCOL"));
    if let Some(p) = protocol.filter(|p| p != "http/protobuf") {
        return Err(TracingError::Config(format!(
            "OTEL_EXPORTER_OTLP_PROTOCOL={p} is not supported: traces are sent as http/protobuf"
        )));
    }
    let service_name = settings
        .service_name
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| set("OTEL_SERVICE_NAME"))
        .unwrap_or_else(|| default_service_name.to_owned());
    Ok(Some(Export {
        traces_url,
        service_name,
        timeout: Duration::from_millis(settings.export_timeout_ms.max(1)),
    }))
}

impl Export {
    /// A tracer provider exporting in batches from its own thread (the SDK reads the
    /// `OTEL_BSP_*` variables for batch size and delay).
    pub fn provider(&self) -> Result<SdkTracerProvider, TracingError> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(&self.traces_url)
            .with_timeout(self.timeout)
            .build()
            .map_err(|e| TracingError::Exporter(e.to_string()))?;
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(self.service_name.clone())
                    .build(),
            )
            .build())
    }
}

/// The filter of exported spans; a bad directive falls back to `info`.
pub(crate) fn span_filter(directive: &str) -> EnvFilter {
    EnvFilter::try_new(directive).unwrap_or_else(|_| EnvFilter::new("info"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn off_without_an_endpoint_or_when_disabled() {
        let s = TraceSettings::default();
        assert_eq!(resolve(&s, "svc", env(&[])).unwrap(), None);
        let disabled = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ]);
        assert_eq!(resolve(&s, "svc", disabled).unwrap(), None);
        let none = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ]);
        assert_eq!(resolve(&s, "svc", none).unwrap(), None);
    }

    #[test]
    fn config_then_signal_variable_then_base_variable() {
        let mut s = TraceSettings::default();
        let vars = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318/"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://signal:4318/custom",
            ),
            ("OTEL_SERVICE_NAME", "from-env"),
        ]);
        let e = resolve(&s, "svc", &vars).unwrap().unwrap();
        assert_eq!(e.traces_url, "http://signal:4318/custom");
        assert_eq!(e.service_name, "from-env");
        let base = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318/")]);
        let e = resolve(&s, "svc", base).unwrap().unwrap();
        assert_eq!(
            (e.traces_url.as_str(), e.service_name.as_str()),
            ("http://base:4318/v1/traces", "svc")
        );
        s.otlp_endpoint = Some("http://conf:4318".to_owned());
        s.service_name = Some("conf-name".to_owned());
        let e = resolve(&s, "svc", &vars).unwrap().unwrap();
        assert_eq!(e.traces_url, "http://conf:4318/v1/traces");
        assert_eq!(e.service_name, "conf-name");
    }

    #[test]
    fn refuses_what_it_cannot_send() {
        let grpc = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        let e = resolve(&TraceSettings::default(), "svc", grpc).unwrap_err();
        assert!(e.to_string().contains("http/protobuf"), "{e}");
        let s = TraceSettings {
            otlp_endpoint: Some("collector:4318".to_owned()),
            ..TraceSettings::default()
        };
        let e = resolve(&s, "svc", env(&[])).unwrap_err();
        assert!(e.to_string().contains("telemetry.otlp_endpoint"), "{e}");
    }
}
