//! The management listener every service has beside its public one: `/health`,
//! `/health/live`, `/health/ready` and `/metrics`, on their own port (the public port + 1000 by
//! default), bound to loopback unless configured otherwise. The public listeners serve only the
//! product and the gateway routes nothing here: orchestrators probe this port and Prometheus
//! scrapes it (the split Keycloak's management interface and Hydra's admin port make).

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{HttpResponse, HttpServer, dev::Server, web};
use serde::Deserialize;

use crate::server::BindError;

/// `[management]`: where the management listener binds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagementSettings {
    /// Loopback by default: only the host's probes and scrapers reach it. Containers set
    /// `0.0.0.0` and keep the port off the public network.
    pub host: String,
    /// The public port + 1000 when unset (0 when the public port is 0); 0 picks a free one.
    pub port: Option<u16>,
}

impl Default for ManagementSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: None,
        }
    }
}

impl ManagementSettings {
    /// The port to bind beside a public listener on `public_port`.
    pub fn port_beside(&self, public_port: u16) -> Option<u16> {
        match (self.port, public_port) {
            (Some(port), _) => Some(port),
            (None, 0) => Some(0),
            (None, public) => public.checked_add(1000),
        }
    }
}

/// One readiness check: a name and whether it is up.
pub type Check = (&'static str, bool);

type ChecksFuture = Pin<Box<dyn Future<Output = Vec<Check>>>>;

/// The last answer and when it was taken.
type LastAnswer = Arc<Mutex<Option<(Instant, Vec<Check>)>>>;

/// What makes a service ready, asked at most about once a second: probes and scrapers come
/// often, and each answer may cost a store round trip.
#[derive(Clone)]
pub struct Readiness {
    checks: Arc<dyn Fn() -> ChecksFuture + Send + Sync>,
    last: LastAnswer,
}

/// How long a readiness answer is reused.
const READINESS_TTL: Duration = Duration::from_secs(1);

impl Readiness {
    /// Ready while every check `checks` returns is up.
    pub fn new<F, Fut>(checks: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Check>> + 'static,
    {
        Self {
            checks: Arc::new(move || Box::pin(checks()) as ChecksFuture),
            last: Arc::default(),
        }
    }

    /// Ready while `check` says so, reported as the check `name`.
    pub fn from_check(
        name: &'static str,
        check: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        Self::new(move || {
            let up = check();
            async move { vec![(name, up)] }
        })
    }

    /// Always ready while the process answers (a stateless service).
    pub fn always() -> Self {
        Self::new(|| async { Vec::new() })
    }

    /// The checks, from the last second's answer when there is one.
    pub async fn checks(&self) -> Vec<Check> {
        if let Ok(last) = self.last.lock()
            && let Some((at, checks)) = last.as_ref()
            && at.elapsed() < READINESS_TTL
        {
            return checks.clone();
        }
        let checks = (self.checks)().await;
        if let Ok(mut last) = self.last.lock() {
            *last = Some((Instant::now(), checks.clone()));
        }
        checks
    }
}

/// A bound management listener, serving once spawned or awaited.
pub struct Management {
    pub port: u16,
    pub server: Server,
}

impl Management {
    /// Binds `settings` (beside a public listener configured on `public_port`) and serves
    /// health and metrics there.
    pub fn start(
        settings: &ManagementSettings,
        public_port: u16,
        readiness: Readiness,
    ) -> Result<Self, BindError> {
        crate::metrics::install();
        let Some(port) = settings.port_beside(public_port) else {
            return Err(BindError {
                addr: format!("{}:{public_port}+1000", settings.host),
                host_key: "management.host",
                port_key: "management.port",
                source: std::io::Error::other(
                    "the public port + 1000 is past 65535: set management.port",
                ),
            });
        };
        let (listener, port) = crate::server::bind(&settings.host, port)
            .map_err(|e| e.keys("management.host", "management.port"))?;
        let readiness = web::Data::new(readiness);
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(readiness.clone())
                .route("/metrics", web::get().to(crate::metrics::page))
                .route("/health", web::get().to(health))
                .route(
                    "/health/live",
                    web::get().to(|| async { crate::http::live() }),
                )
                .route("/health/ready", web::get().to(ready))
                .default_service(web::to(crate::http::not_found))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(|e| {
            crate::server::listen_error(&settings.host, port, e)
                .keys("management.host", "management.port")
        })?
        .run();
        Ok(Self { port, server })
    }

    /// Serves `public` until it stops (SIGTERM, or its handle), then stops this listener.
    pub async fn serve_beside(self, public: Server) -> std::io::Result<()> {
        let handle = self.server.handle();
        let public = async move {
            let outcome = public.await;
            handle.stop(true).await;
            outcome
        };
        let (outcome, _) = tokio::join!(public, self.server);
        outcome
    }
}

async fn health(readiness: web::Data<Readiness>) -> HttpResponse {
    crate::http::health(&readiness.checks().await)
}

async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    crate::http::ready(&readiness.checks().await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_defaults_to_the_public_one_plus_1000() {
        let unset = ManagementSettings::default();
        assert_eq!(unset.port_beside(9000), Some(10000));
        assert_eq!(unset.port_beside(0), Some(0));
        assert_eq!(unset.port_beside(65000), None);
        let set = ManagementSettings {
            port: Some(7),
            ..unset
        };
        assert_eq!(set.port_beside(9000), Some(7));
    }

    #[actix_web::test]
    async fn readiness_is_asked_at_most_once_a_second() {
        let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&asked);
        let readiness = Readiness::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { vec![("store", true)] }
        });
        for _ in 0..5 {
            assert_eq!(readiness.checks().await, vec![("store", true)]);
        }
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
