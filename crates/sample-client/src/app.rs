//! Building and running sample-client.

use std::sync::{Arc, atomic::AtomicU64};

use actix_web::{HttpServer, dev::Server, web};

use crate::{
    http::{self, AppState},
    provider::Provider,
    sessions::Store,
    settings::{Settings, SettingsError},
};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error(transparent)]
    Bind(#[from] service_kit::server::BindError),
}

pub struct App {
    port: u16,
    server: Server,
    management: service_kit::management::Management,
    state: web::Data<AppState>,
}

impl App {
    /// Binds both listeners. The provider is not asked anything yet: its metadata and keys are
    /// fetched on first use, so the app starts (and is ready) before the provider answers.
    pub async fn build(settings: Settings) -> Result<Self, BuildError> {
        settings.validate()?;
        service_kit::metrics::install();
        let (listener, port) =
            service_kit::server::bind(&settings.server.host, settings.server.port)?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{port}", settings.server.host));
        let management = service_kit::management::Management::start(
            &settings.management,
            settings.server.port,
            service_kit::management::Readiness::always(),
        )?;
        let provider =
            Provider::new(&settings.issuer).map_err(|e| BuildError::Client(e.to_string()))?;
        let state = web::Data::from(Arc::new(AppState {
            store: Store::new(settings.max_sessions),
            provider,
            public_url,
            backchannel_accepted: AtomicU64::new(0),
            backchannel_refused: AtomicU64::new(0),
            settings: settings.clone(),
        }));
        let shared = state.clone();
        let issuer = settings.issuer.clone();
        let mut server = HttpServer::new(move || {
            actix_web::App::new()
                .wrap(http::default_headers(&issuer))
                .wrap(actix_web::middleware::from_fn(
                    service_kit::metrics::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(
                    service_kit::request_id::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(service_kit::body::deadline))
                .app_data(shared.clone())
                .app_data(web::FormConfig::default().limit(16 * 1024))
                .configure(http::configure)
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
            url = %state.public_url,
            "sample-client listening"
        );
        Ok(Self {
            port,
            server,
            management,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The management listener's port (health, metrics).
    pub fn management_port(&self) -> u16 {
        self.management.port
    }

    /// Where browsers reach the app.
    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    /// The app's state, for tests to look at the sessions and the back-channel deliveries.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run(self) -> std::io::Result<()> {
        self.management.serve_beside(self.server).await
    }
}
