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
#[serde(deny_unknown_fields)]
pub struct ManagementSettings {
    /// Loopback by default: only the host's probes and scrapers reach it. Containers set
    /// `0.0.0.0` and keep the port off the public network.
    #[serde(default = "loopback")]
    pub host: String,
    /// Port 0 picks a free one.
    pub port: u16,
}

fn loopback() -> String {
    "127.0.0.1".to_owned()
}

impl ManagementSettings {
    /// Loopback on `port`: a service's default is its public port + 1000.
    pub fn on(port: u16) -> Self {
        Self {
            host: loopback(),
            port,
        }
    }
}

/// One readiness check: a name and whether it is up.
pub type Check = (&'static str, bool);

type ChecksFuture = Pin<Box<dyn Future<Output = Vec<Check>>>>;

/// What makes a service ready, asked at most about once a second: probes and scrapers come
/// often, and each answer may cost a store round trip.
#[derive(Clone)]
pub struct Readiness {
    checks: Arc<dyn Fn() -> ChecksFuture + Send + Sync>,
    last: Arc<Mutex<Option<(Instant, Vec<Check>)>>>,
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
    /// Binds `settings` and serves health and metrics there.
    pub fn start(settings: &ManagementSettings, readiness: Readiness) -> Result<Self, BindError> {
        crate::metrics::install();
        let (listener, port) = crate::server::bind(&settings.host, settings.port)
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
        let management = actix_web::rt::spawn(self.server);
        let outcome = public.await;
        handle.stop(true).await;
        let _ = management.await;
        outcome
    }
}

async fn health(readiness: web::Data<Readiness>) -> HttpResponse {
    crate::http::health(&readiness.checks().await)
}

async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    crate::http::ready(&readiness.checks().await)
}
