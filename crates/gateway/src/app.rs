//! Building and running the gateway: the public listener (everything is proxied) and the
//! management listener beside it (health and metrics, never routed).

use std::time::Duration;

use actix_web::{HttpServer, dev::Server, web};
use service_kit::management::{Management, Readiness};

use crate::{
    edge,
    proxy::{self, Gateway},
    settings::{Settings, SettingsError},
    tls::CertStore,
};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Bind(#[from] service_kit::server::BindError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

pub struct App {
    port: u16,
    server: Server,
    management: Management,
}

impl App {
    pub async fn build(settings: Settings) -> Result<Self, BuildError> {
        settings.validate()?;
        // Before anything is bound: a certificate that does not load stops the start-up.
        let tls = match &settings.server.tls {
            Some(tls) => {
                let certs = CertStore::load(tls)?;
                Some((certs.server_config()?, certs, tls.reload_interval_secs))
            }
            None => None,
        };
        service_kit::metrics::install();
        let (listener, port) =
            service_kit::server::bind(&settings.server.host, settings.server.port)?;
        // The gateway holds no state: ready as soon as it answers.
        let management = Management::start(
            &settings.management,
            settings.server.port,
            Readiness::always(),
        )?;
        let gateway = web::Data::new(Gateway::new(&settings));
        let worker_settings = settings.clone();
        let mut server = HttpServer::new(move || {
            // Outermost last: metrics see every answer, the edge refuses before a span exists.
            actix_web::App::new()
                .wrap(actix_web::middleware::from_fn(
                    service_kit::request_id::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(edge::middleware))
                .wrap(actix_web::middleware::from_fn(
                    service_kit::metrics::middleware,
                ))
                .app_data(gateway.clone())
                .app_data(web::Data::new(proxy::client(&worker_settings)))
                // The proxy reads the body itself, as a stream.
                .app_data(web::PayloadConfig::new(usize::MAX))
                .default_service(web::to(proxy::forward))
        })
        .shutdown_timeout(10);
        if let Some(workers) = settings.server.workers {
            server = server.workers(workers);
        }
        let listen_error = |e| service_kit::server::listen_error(&settings.server.host, port, e);
        let server = match tls {
            Some((config, certs, every)) => {
                certs.watch(Duration::from_secs(every));
                server.listen_rustls_0_23(listener, config)
            }
            None => server.listen(listener),
        }
        .map_err(listen_error)?
        .run();
        tracing::info!(
            port,
            tls = settings.server.tls.is_some(),
            management_port = management.port,
            routes = settings.routes.len(),
            "gateway listening"
        );
        Ok(Self {
            port,
            server,
            management,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The management listener's port (`/health`, `/health/live`, `/health/ready`, `/metrics`).
    pub fn management_port(&self) -> u16 {
        self.management.port
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the public listener stops (SIGTERM or its handle), then stops the
    /// management listener.
    pub async fn run(self) -> std::io::Result<()> {
        self.management.serve_beside(self.server).await
    }
}
