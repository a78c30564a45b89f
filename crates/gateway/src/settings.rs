//! Gateway configuration: listener, limits, upstream timeouts and the route table.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use service_kit::{config::LoadError, management::ManagementSettings};
use telemetry::{LogSettings, TraceSettings};

pub const ENV_PREFIX: &str = "GATEWAY";
pub const CONFIG_FILE_ENV: &str = "GATEWAY_CONFIG";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    /// `[management]`: health and metrics, on their own listener (loopback:9085 by default),
    /// never on the public one and never routed.
    pub management: ManagementSettings,
    pub upstream: UpstreamSettings,
    pub log: LogSettings,
    /// Trace export over OTLP (`[telemetry]`); off unless an endpoint is configured.
    pub telemetry: TraceSettings,
    pub routes: Vec<RouteSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        let local = |port: u16| vec![format!("http://127.0.0.1:{port}")];
        Self {
            server: ServerSettings::default(),
            management: ManagementSettings::default(),
            upstream: UpstreamSettings::default(),
            log: LogSettings::default(),
            telemetry: TraceSettings::default(),
            routes: vec![
                RouteSettings::prefix("/ms-auth-server/", local(9000)),
                RouteSettings::prefix("/customer-service/", local(8081)),
                RouteSettings::prefix("/country-service/", local(8082)),
                // RFC 8414 §3.1 path insertion: the issuer's path after the well-known name.
                RouteSettings::inserted(
                    "/.well-known/oauth-authorization-server/ms-auth-server",
                    "/ms-auth-server/.well-known/oauth-authorization-server",
                    local(9000),
                ),
                // RFC 9728 §3.1, the same insertion for each resource's metadata.
                RouteSettings::inserted(
                    "/.well-known/oauth-protected-resource/customer-service",
                    "/customer-service/.well-known/oauth-protected-resource",
                    local(8081),
                ),
                RouteSettings::inserted(
                    "/.well-known/oauth-protected-resource/country-service",
                    "/country-service/.well-known/oauth-protected-resource",
                    local(8082),
                ),
            ],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Largest request body forwarded; larger is 413.
    pub max_body_bytes: u64,
    /// Largest request head (request line and headers); larger is 431.
    pub max_header_bytes: usize,
    /// Bodies up to this size (by `Content-Length`, or by where a chunked body ends) are read
    /// completely before an upstream connection is taken; larger ones are streamed.
    pub buffer_body_bytes: u64,
    /// Time allowed for a buffered body, and the first window of a streamed one; 408 past it.
    pub body_timeout_ms: u64,
    /// After that first window, a streamed body must average at least this rate; 408 if not.
    pub min_body_bytes_per_sec: u64,
    pub workers: Option<usize>,
    /// Peers (IP addresses or CIDR ranges) whose `X-Forwarded-*`, `Forwarded` and `X-Real-IP`
    /// are kept and appended to; anyone else's are replaced. Empty: the gateway is the edge.
    pub trusted_proxies: Vec<String>,
    /// Whether a caller's W3C `traceparent`/`tracestate` is continued (its trace id and
    /// sampled flag honoured). Off: every request starts a new trace at the gateway.
    pub trust_incoming_trace_context: bool,
    /// `[server.tls]`: the gateway terminates TLS itself when set.
    pub tls: Option<TlsSettings>,
}

/// A PEM certificate chain and its private key, reloaded when the files change or on SIGHUP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// How often the files' modification times are looked at.
    #[serde(default = "default_reload_interval")]
    pub reload_interval_secs: u64,
}

fn default_reload_interval() -> u64 {
    5
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8085,
            max_body_bytes: 10 * 1024 * 1024,
            max_header_bytes: 32 * 1024,
            buffer_body_bytes: 64 * 1024,
            body_timeout_ms: 10_000,
            min_body_bytes_per_sec: 8 * 1024,
            workers: None,
            trusted_proxies: Vec::new(),
            trust_incoming_trace_context: false,
            tls: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamSettings {
    pub connect_timeout_ms: u64,
    /// Time allowed for the upstream's response head; 504 past it.
    pub response_timeout_ms: u64,
    /// How long an upstream that refused a connection is skipped.
    pub down_for_ms: u64,
    /// Requests in flight to one route's upstreams at once (all workers together), so that a
    /// flood on one route cannot take every upstream connection.
    pub max_requests_per_route: usize,
    /// How long a request waits for one of those slots; 503 past it. Shorter than
    /// `response_timeout_ms`, so a full route answers fast instead of queueing.
    pub queue_timeout_ms: u64,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 2_000,
            response_timeout_ms: 30_000,
            down_for_ms: 5_000,
            max_requests_per_route: 256,
            queue_timeout_ms: 1_000,
        }
    }
}

/// One route: requests whose path is `prefix` or starts with it go to one of `upstreams`,
/// path unchanged, or with `prefix` replaced by `upstream_prefix` when set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSettings {
    pub prefix: String,
    #[serde(default)]
    pub upstream_prefix: Option<String>,
    pub upstreams: Vec<String>,
}

impl RouteSettings {
    fn prefix(prefix: &str, upstreams: Vec<String>) -> Self {
        Self {
            prefix: prefix.to_owned(),
            upstream_prefix: None,
            upstreams,
        }
    }

    /// A well-known URL with the path inserted (RFC 8414 §3.1, RFC 9728 §3.1), served by the
    /// upstream at its own path.
    fn inserted(prefix: &str, upstream_prefix: &str, upstreams: Vec<String>) -> Self {
        Self {
            prefix: prefix.to_owned(),
            upstream_prefix: Some(upstream_prefix.to_owned()),
            upstreams,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("`{key}`: {message}")]
    Invalid { key: String, message: String },
}

impl Settings {
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let settings: Settings = service_kit::config::load(file, ENV_PREFIX)?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key: String, message: &str| {
            Err(SettingsError::Invalid {
                key,
                message: message.to_owned(),
            })
        };
        if self.routes.is_empty() {
            return invalid("routes".into(), "at least one route is needed");
        }
        for (i, r) in self.routes.iter().enumerate() {
            if !r.prefix.starts_with('/') {
                return invalid(format!("routes[{i}].prefix"), "must start with '/'");
            }
            if r.upstream_prefix
                .as_deref()
                .is_some_and(|p| !p.starts_with('/'))
            {
                return invalid(
                    format!("routes[{i}].upstream_prefix"),
                    "must start with '/'",
                );
            }
            if r.upstreams.is_empty() {
                return invalid(
                    format!("routes[{i}].upstreams"),
                    "at least one upstream is needed",
                );
            }
            for (j, u) in r.upstreams.iter().enumerate() {
                let ok = url::Url::parse(u).is_ok_and(|url| {
                    url.scheme() == "http"
                        && url.host().is_some()
                        && url.path() == "/"
                        && url.query().is_none()
                });
                if !ok {
                    return invalid(
                        format!("routes[{i}].upstreams[{j}]"),
                        "must be http://host:port with no path",
                    );
                }
            }
        }
        for (i, p) in self.server.trusted_proxies.iter().enumerate() {
            if crate::headers::parse_net(p).is_none() {
                return invalid(
                    format!("server.trusted_proxies[{i}]"),
                    "must be an IP address or a CIDR range (10.0.0.0/8, fd00::/8)",
                );
            }
        }
        if self.upstream.connect_timeout_ms == 0 || self.upstream.response_timeout_ms == 0 {
            return invalid("upstream".into(), "timeouts must be positive");
        }
        if self.upstream.max_requests_per_route == 0 {
            return invalid("upstream.max_requests_per_route".into(), "must be positive");
        }
        if self.upstream.queue_timeout_ms == 0
            || self.upstream.queue_timeout_ms >= self.upstream.response_timeout_ms
        {
            return invalid(
                "upstream.queue_timeout_ms".into(),
                "must be positive and shorter than upstream.response_timeout_ms",
            );
        }
        if self
            .server
            .tls
            .as_ref()
            .is_some_and(|t| t.reload_interval_secs == 0)
        {
            return invalid("server.tls.reload_interval_secs".into(), "must be positive");
        }
        if self.server.body_timeout_ms == 0 {
            return invalid("server.body_timeout_ms".into(), "must be positive");
        }
        if self.server.min_body_bytes_per_sec == 0 {
            return invalid("server.min_body_bytes_per_sec".into(), "must be positive");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playground(file: &str) -> Settings {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/playground")
            .join(file);
        Settings::load(Some(&path)).unwrap()
    }

    fn prefixes(s: &Settings) -> Vec<(String, Option<String>)> {
        s.routes
            .iter()
            .map(|r| (r.prefix.clone(), r.upstream_prefix.clone()))
            .collect()
    }

    #[test]
    fn bad_values_name_their_key() {
        type Case = (fn(&mut Settings), &'static str);
        let cases: [Case; 5] = [
            (
                |s| s.server.trusted_proxies = vec!["10.0.0.0/40".into()],
                "server.trusted_proxies[0]",
            ),
            (
                |s| s.upstream.queue_timeout_ms = 30_000,
                "upstream.queue_timeout_ms",
            ),
            (
                |s| s.upstream.max_requests_per_route = 0,
                "upstream.max_requests_per_route",
            ),
            (|s| s.server.body_timeout_ms = 0, "server.body_timeout_ms"),
            (
                |s| s.server.min_body_bytes_per_sec = 0,
                "server.min_body_bytes_per_sec",
            ),
        ];
        for (tweak, key) in cases {
            let mut s = Settings::default();
            tweak(&mut s);
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains(&format!("`{key}`")), "{e}");
        }
        assert!(Settings::default().validate().is_ok());
    }

    #[test]
    fn the_playground_configs_write_out_the_default_routes() {
        let defaults = Settings::default();
        let single = playground("gateway.toml");
        assert_eq!(
            format!("{:?}", single.routes),
            format!("{:?}", defaults.routes)
        );
        assert_eq!(
            (single.management.host.as_str(), single.management.port),
            ("127.0.0.1", Some(9085))
        );
        let cluster = playground("gateway-cluster.toml");
        assert_eq!(prefixes(&cluster), prefixes(&defaults));
    }
}
