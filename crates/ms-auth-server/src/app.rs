//! Building and running the service: `App::build(settings)` binds and is ready to `run()`.

use std::time::Duration;

use actix_web::{HttpServer, dev::Server, web};

use crate::{
    http::{self, HttpSettings},
    key_lifecycle,
    oauth::{
        client::{Client, ClientOrigin},
        keys::{KeyError, KeyRing, KeySet, SigningAlgorithm, SigningKey},
        secret::SecretHash,
        server::AuthorizationServer,
    },
    settings::{Settings, SettingsError},
    store::{KeyState, StoreError, StoredKey, Stores, grants::AuditEvent, settings::OpenError},
};

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Makes sure the store has an active key: the stored one, or a new one of `alg` (of
/// replicas starting together on an empty store, one key wins).
async fn ensure_active_key(stores: &Stores, alg: SigningAlgorithm) -> Result<(), BuildError> {
    if let Some(active) = stores
        .keys
        .keys()
        .await?
        .into_iter()
        .find(|k| k.state == KeyState::Active)
    {
        tracing::info!(kid = %active.kid, algorithm = %active.algorithm, "signing with the stored active key");
        return Ok(());
    }
    let candidate = SigningKey::generate(alg).map_err(BuildError::Generate)?;
    let created_at = unix_now();
    let active = stores
        .keys
        .activate_if_none(StoredKey {
            kid: candidate.kid().to_owned(),
            algorithm: alg,
            state: KeyState::Active,
            private_key_pem: candidate.to_pkcs8_pem().map_err(BuildError::Generate)?,
            created_at,
            activates_at: None,
            publish_until: None,
        })
        .await?;
    if !stores.durable {
        tracing::warn!(
            kid = %active.kid,
            "store.url = \"memory\": the signing key is generated at each start; tokens do not verify after a restart"
        );
    } else if active.kid == candidate.kid() {
        tracing::info!(kid = %active.kid, algorithm = %active.algorithm, "created and stored a new active signing key");
        stores
            .audit
            .append(&AuditEvent {
                at: created_at,
                event: "signing_key_created".to_owned(),
                client_id: None,
                subject: None,
                detail: format!("kid {} ({})", active.kid, active.algorithm),
            })
            .await?;
    }
    Ok(())
}

/// The config is authoritative for the clients it manages: its clients are written to the
/// store, and a client it managed before but lists no longer is disabled — audited, and
/// announced so every replica refuses its secret at once. Clients registered any other way
/// are never touched, and the config may not take one of their ids over.
async fn seed_clients(stores: &Stores, clients: Vec<Client>) -> Result<(), BuildError> {
    let now = unix_now();
    for client in &clients {
        if let Some(existing) = stores.clients.client(client.id.as_str()).await?
            && existing.origin != ClientOrigin::Config
        {
            return Err(BuildError::ClientOrigin {
                client_id: client.id.to_string(),
                origin: existing.origin,
            });
        }
        stores.clients.upsert(client).await?;
    }
    for stored in stores.clients.all().await? {
        let listed = clients.iter().any(|c| c.id == stored.id);
        if stored.origin != ClientOrigin::Config || !stored.enabled || listed {
            continue;
        }
        let mut disabled = (*stored).clone();
        disabled.enabled = false;
        stores.clients.upsert(&disabled).await?;
        tracing::warn!(client_id = %stored.id, "client removed from the config: disabled");
        stores
            .audit
            .append(&AuditEvent {
                at: now,
                event: "client_disabled".to_owned(),
                client_id: Some(stored.id.to_string()),
                subject: None,
                detail: "removed from the config".to_owned(),
            })
            .await?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "`clients`: {client_id} is a client registered by {origin:?}, not by the config: the config cannot manage it (give the config's client another id)"
    )]
    ClientOrigin {
        client_id: String,
        origin: ClientOrigin,
    },
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
    Open(#[from] OpenError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lifecycle(#[from] key_lifecycle::LifecycleError),
    #[error(transparent)]
    Bind(#[from] service_kit::server::BindError),
}

/// The protocol core and HTTP settings built from configuration, with no socket yet.
pub struct AppState {
    pub server: web::Data<AuthorizationServer>,
    pub http: web::Data<HttpSettings>,
    pub stores: web::Data<Stores>,
    pub admin: web::Data<http::admin::Admin>,
    pub context_path: String,
}

impl AppState {
    /// Opens the store `settings.store` names (migrating it), then as [`Self::with_stores`].
    pub async fn build(settings: &Settings) -> Result<Self, BuildError> {
        settings.validate()?;
        let stores = Stores::open(&settings.store, &settings.redis).await?;
        Self::with_stores(settings, stores).await
    }

    /// Registers the config's clients in `stores` and takes the signing key: the configured
    /// file's, else the stored active key, else a new one stored as active (of replicas
    /// starting together, one key wins and every replica signs with it).
    pub async fn with_stores(settings: &Settings, stores: Stores) -> Result<Self, BuildError> {
        settings.validate()?;
        // A bad key file is reported before anything else is done.
        let file_key = match &settings.keys.private_key_file {
            Some(path) => {
                let shown = path.display().to_string();
                let pem = std::fs::read(path).map_err(|source| BuildError::KeyFile {
                    path: shown.clone(),
                    source,
                })?;
                Some(
                    SigningKey::from_pem(&pem, settings.keys.algorithm, settings.keys.kid.clone())
                        .map_err(|source| BuildError::Key {
                            path: shown,
                            source,
                        })?,
                )
            }
            None => None,
        };
        seed_clients(&stores, settings.clients()?).await?;
        let keys = match file_key {
            Some(key) => KeySet::new(key).map_err(BuildError::Generate)?,
            None => {
                ensure_active_key(&stores, settings.keys.algorithm).await?;
                let stored = stores.keys.keys().await?;
                key_lifecycle::key_set(&stored, unix_now())?
            }
        };
        let own_tokens = auth_middleware::VerifierSettings {
            issuer: settings.issuer.clone(),
            leeway_secs: 0,
            token_cache_size: 0,
            ..auth_middleware::VerifierSettings::default()
        };
        let scopes = settings.scope_registry()?;
        let metadata = crate::oauth::metadata::Metadata::new(&settings.issuer, &scopes);
        let server = AuthorizationServer {
            client_guard: crate::oauth::brute_force::Guard {
                settings: settings.brute_force.clone(),
                hot: stores.hot.clone(),
                realm: "client",
            },
            scopes: std::sync::Arc::new(scopes),
            metadata: std::sync::Arc::new(metadata),
            issuer: settings.issuer.clone(),
            keys: KeyRing::new(keys),
            clients: stores.clients.clone(),
            grants: stores.grants.clone(),
            audit: stores.audit.clone(),
            hot: stores.hot.clone(),
            own_tokens,
            scope_claim: settings.tokens.scope_claim,
            issuance_per_second: settings.tokens.max_per_client_per_second,
        };
        let admin_hot = stores.hot.clone();
        Ok(Self {
            server: web::Data::new(server),
            http: web::Data::new(HttpSettings {
                max_body_bytes: settings.server.max_body_bytes,
                jwks_max_age_secs: settings.keys.jwks_max_age_secs,
                introspection_per_second: settings.introspection.max_requests_per_second,
                trusted_proxies: service_kit::proxies::TrustedProxies::new(
                    &settings.server.trusted_proxies,
                ),
            }),
            stores: web::Data::new(stores),
            admin: web::Data::new(http::admin::Admin {
                token: settings
                    .admin
                    .token_hash
                    .as_deref()
                    .map(SecretHash::parse)
                    .transpose()
                    .map_err(|e| SettingsError::Invalid {
                        key: "admin.token_hash".to_owned(),
                        message: e.to_string(),
                    })?,
                lifecycle: settings.keys.lifecycle(),
                keys_from_file: settings.keys.private_key_file.is_some(),
                guard: crate::oauth::brute_force::Guard {
                    settings: settings.brute_force.clone(),
                    hot: admin_hot,
                    realm: "admin",
                },
                trusted_proxies: service_kit::proxies::TrustedProxies::new(
                    &settings.server.trusted_proxies,
                ),
            }),
            context_path: settings.server.context_path.clone(),
        })
    }

    /// Registers state and routes on an actix `App` (or a test service).
    pub fn configure(&self) -> impl FnOnce(&mut web::ServiceConfig) + Clone + '_ {
        move |cfg| {
            cfg.app_data(self.server.clone())
                .app_data(self.http.clone())
                .app_data(self.stores.clone())
                .app_data(self.admin.clone());
            http::configure(&self.context_path)(cfg);
        }
    }
}

/// A bound, not yet running, ms-auth-server.
pub struct App {
    port: u16,
    server: Server,
    management: service_kit::management::Management,
}

impl App {
    /// Builds the state and binds `server.host:server.port` (port 0 picks a free one).
    pub async fn build(settings: Settings) -> Result<Self, BuildError> {
        service_kit::metrics::install();
        let state = AppState::build(&settings).await?;
        let lifecycle = key_lifecycle::LifecycleHealth::default();
        if settings.keys.private_key_file.is_none() {
            key_lifecycle::spawn(
                state.server.clone(),
                state.stores.as_ref().clone(),
                settings.keys.lifecycle(),
                lifecycle.clone(),
            );
        }
        let probed = state.stores.clone();
        let readiness = service_kit::management::Readiness::new(move || {
            let (stores, lifecycle) = (probed.clone(), lifecycle.clone());
            async move {
                let mut checks = stores.readiness().await;
                checks.push(("keys", lifecycle.is_up()));
                checks
            }
        });
        let management = service_kit::management::Management::start(
            &settings.management,
            settings.server.port,
            readiness,
        )?;
        let (listener, port) =
            service_kit::server::bind(&settings.server.host, settings.server.port)?;
        let AppState {
            server,
            http,
            stores,
            admin,
            context_path,
        } = state;
        let body_limits = web::Data::new(service_kit::body::BodyLimits {
            timeout: Duration::from_millis(settings.server.body_timeout_ms),
            ..service_kit::body::BodyLimits::default()
        });
        let mut http_server = HttpServer::new(move || {
            let state = AppState {
                server: server.clone(),
                http: http.clone(),
                stores: stores.clone(),
                admin: admin.clone(),
                context_path: context_path.clone(),
            };
            actix_web::App::new()
                .app_data(body_limits.clone())
                .wrap(actix_web::middleware::from_fn(
                    service_kit::metrics::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(
                    service_kit::request_id::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(service_kit::body::deadline))
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
        tracing::info!(port, management_port = management.port, issuer = %settings.issuer, "ms-auth-server listening");
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

    /// Stops the server from elsewhere (tests, embedding).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests (up to 10 s).
    pub async fn run(self) -> std::io::Result<()> {
        self.management.serve_beside(self.server).await
    }
}
