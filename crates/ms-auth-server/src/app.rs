//! Building and running the service: `App::build(settings)` binds and is ready to `run()`.

use std::{sync::Arc, time::Duration};

use actix_web::{HttpServer, dev::Server, web};

use crate::{
    http::{self, HttpSettings},
    oauth::{
        keys::{KeyError, KeySet, SigningKey},
        server::AuthorizationServer,
    },
    settings::{Settings, SettingsError},
    store::{MeasuredClientStore, MemoryClientStore},
};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("`keys.private_key_file` {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("`keys.private_key_file` {path}: {source}")]
    Key { path: String, source: KeyError },
    #[error("signing key: {0}")]
    Generate(KeyError),
    #[error(transparent)]
    Bind(#[from] service_kit::server::BindError),
}

/// The protocol core and HTTP settings built from configuration, with no socket yet.
pub struct AppState {
    pub server: web::Data<AuthorizationServer>,
    pub http: web::Data<HttpSettings>,
    pub context_path: String,
}

impl AppState {
    pub fn build(settings: &Settings) -> Result<Self, BuildError> {
        settings.validate()?;
        let key = match &settings.keys.private_key_file {
            Some(path) => {
                let shown = path.display().to_string();
                let pem = std::fs::read(path).map_err(|source| BuildError::KeyFile {
                    path: shown.clone(),
                    source,
                })?;
                SigningKey::from_pem(&pem, settings.keys.algorithm, settings.keys.kid.clone())
                    .map_err(|source| BuildError::Key {
                        path: shown,
                        source,
                    })?
            }
            None => {
                let key =
                    SigningKey::generate(settings.keys.algorithm).map_err(BuildError::Generate)?;
                tracing::warn!(
                    kid = key.kid(),
                    "no keys.private_key_file configured: generated a signing key; tokens will not verify after a restart"
                );
                key
            }
        };
        let keys = KeySet::new(key).map_err(BuildError::Generate)?;
        let clients = Arc::new(MeasuredClientStore(MemoryClientStore::new(
            settings.clients()?,
        )));
        let server = AuthorizationServer {
            issuer: settings.issuer.clone(),
            keys,
            clients,
            scope_claim: settings.tokens.scope_claim,
        };
        Ok(Self {
            server: web::Data::new(server),
            http: web::Data::new(HttpSettings {
                max_body_bytes: settings.server.max_body_bytes,
            }),
            context_path: settings.server.context_path.clone(),
        })
    }

    /// Registers state and routes on an actix `App` (or a test service).
    pub fn configure(&self) -> impl FnOnce(&mut web::ServiceConfig) + Clone + '_ {
        move |cfg| {
            cfg.app_data(self.server.clone())
                .app_data(self.http.clone());
            http::configure(&self.context_path)(cfg);
        }
    }
}

/// A bound, not yet running, ms-auth-server.
pub struct App {
    port: u16,
    server: Server,
}

impl App {
    /// Builds the state and binds `server.host:server.port` (port 0 picks a free one).
    pub async fn build(settings: Settings) -> Result<Self, BuildError> {
        service_kit::metrics::install();
        let state = AppState::build(&settings)?;
        let (listener, port) =
            service_kit::server::bind(&settings.server.host, settings.server.port)?;
        let AppState {
            server,
            http,
            context_path,
        } = state;
        let mut http_server = HttpServer::new(move || {
            let state = AppState {
                server: server.clone(),
                http: http.clone(),
                context_path: context_path.clone(),
            };
            actix_web::App::new()
                .wrap(actix_web::middleware::from_fn(
                    service_kit::metrics::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(
                    service_kit::request_id::middleware,
                ))
                .configure(|cfg| state.configure()(cfg))
        })
        .shutdown_timeout(10)
        .client_request_timeout(Duration::from_secs(10));
        if let Some(workers) = settings.server.workers {
            http_server = http_server.workers(workers);
        }
        let server = http_server
            .listen(listener)
            .map_err(|e| service_kit::server::listen_error(&settings.server.host, port, e))?
            .run();
        tracing::info!(port, issuer = %settings.issuer, "ms-auth-server listening");
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere (tests, embedding).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests (up to 10 s).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
