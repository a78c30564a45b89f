//! Building and running country-service.

use actix_web::{HttpServer, dev::Server, web};
use auth_middleware::ResourceServer;

use crate::{
    countries::Countries,
    http,
    settings::{DEFAULT_RESOURCE, Settings, SettingsError},
};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("`auth`: cannot build the token verifier: {0}")]
    Verifier(String),
    #[error(transparent)]
    Bind(#[from] service_kit::server::BindError),
}

pub struct App {
    port: u16,
    server: Server,
    management: service_kit::management::Management,
}

impl App {
    /// Binds and starts fetching the issuer's keys in the background.
    pub async fn build(settings: Settings) -> Result<Self, BuildError> {
        settings.validate()?;
        service_kit::metrics::install();
        let resource =
            ResourceServer::start(settings.auth.clone(), DEFAULT_RESOURCE, &["country.read"])
                .map_err(|e| BuildError::Verifier(e.to_string()))?;
        let countries = web::Data::new(Countries::load());
        // Ready once the issuer's keys are here: without them every token would be refused.
        let probed = resource.clone();
        let management = service_kit::management::Management::start(
            &settings.management,
            settings.server.port,
            service_kit::management::Readiness::from_check("keys", move || {
                probed.verifier().has_keys()
            }),
        )?;
        let (listener, port) =
            service_kit::server::bind(&settings.server.host, settings.server.port)?;
        let context_path = settings.server.context_path.clone();
        let cors = web::Data::new(settings.cors.clone());
        let mut server = HttpServer::new(move || {
            actix_web::App::new()
                .wrap(actix_web::middleware::from_fn(
                    service_kit::metrics::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(
                    service_kit::request_id::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(service_kit::body::deadline))
                .wrap(actix_web::middleware::from_fn(
                    service_kit::cors::middleware,
                ))
                .app_data(cors.clone())
                .app_data(countries.clone())
                .configure(http::configure(&context_path, &resource))
        })
        .shutdown_timeout(10);
        if let Some(workers) = settings.server.workers {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|e| service_kit::server::listen_error(&settings.server.host, port, e))?
            .run();
        tracing::info!(
            port,
            management_port = management.port,
            "country-service listening"
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

    /// The management listener's port (health, metrics).
    pub fn management_port(&self) -> u16 {
        self.management.port
    }

    pub async fn run(self) -> std::io::Result<()> {
        self.management.serve_beside(self.server).await
    }
}
