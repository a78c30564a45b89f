//! Building and running the service: `App::build(settings)` binds and is ready to `run()`.
//! This file wires only: the protocol core, the operations and the stores are built here and
//! handed to the HTTP layer and the background tasks.

use std::{sync::Arc, time::Duration};

use actix_web::{HttpServer, dev::Server, web};

use crate::{
    clock::Clock,
    http::{self, JwksMaxAge, RequestLimits},
    identity::{Passwords, SessionEnder, Sessions, sign_in::SignIn},
    keys::{KeyError, KeyRing, PublishedKeys, bootstrap::KeyFileError, lifecycle},
    oauth::{
        authorize::{Authorizer, Interactions},
        registration::Registrar,
        secret::SecretHash,
        server::AuthorizationServer,
    },
    oidc::backchannel::{Delivery, Poster},
    ops::{Ops, OpsError, clients::SeedError, users::SeedUsersError},
    settings::{Settings, SettingsError},
    store::{StoreError, Stores, settings::OpenError},
    tasks::{self, TaskHealth, Tasks},
};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("signing key: {0}")]
    Generate(KeyError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error(transparent)]
    SeedUsers(#[from] SeedUsersError),
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error(transparent)]
    Lifecycle(#[from] lifecycle::LifecycleError),
    #[error(transparent)]
    Bind(#[from] service_kit::server::BindError),
    #[error("the back-channel logout client: {0}")]
    HttpClient(String),
}

/// The protocol core, the operations and the HTTP settings built from configuration, with no
/// socket yet. Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct AppState {
    pub server: web::Data<AuthorizationServer>,
    pub limits: web::Data<RequestLimits>,
    pub proxies: web::Data<service_kit::proxies::TrustedProxies>,
    pub jwks_max_age: web::Data<JwksMaxAge>,
    pub admin: web::Data<http::admin::Admin>,
    /// The authorization endpoint, the sign-in and consent pages, the account API.
    pub authorizer: web::Data<Authorizer>,
    pub site: web::Data<http::browser::BrowserSite>,
    pub users: web::Data<http::userinfo::Users>,
    /// Dynamic client registration and its management (RFC 7591, RFC 7592).
    pub registration: web::Data<http::Registration>,
    pub clock: web::Data<Clock>,
    pub ops: Ops,
    /// For readiness and the background tasks; no handler receives the stores.
    pub stores: Stores,
    /// Posts back-channel logout tokens (the delivery task's).
    pub poster: Arc<dyn Poster>,
    pub context_path: Arc<str>,
}

impl AppState {
    /// Opens the store `settings.store` names (migrating it), then as [`Self::with_stores`].
    /// `settings` are as [`Settings::load`] returns them: validated there, once.
    pub async fn build(settings: &Settings) -> Result<Self, BuildError> {
        Self::build_with(settings, Clock::system()).await
    }

    /// [`Self::build`] reading time from `clock`.
    pub async fn build_with(settings: &Settings, clock: Clock) -> Result<Self, BuildError> {
        let stores = Stores::open(&settings.store, &settings.redis).await?;
        Self::with_stores(settings, stores, clock).await
    }

    /// Registers the config's clients and users in `stores` and takes the signing key: the configured
    /// file's, else the stored active key, else a new one stored as active (of replicas
    /// starting together, one key wins and every replica signs with it). `settings` have
    /// been validated.
    pub async fn with_stores(
        settings: &Settings,
        stores: Stores,
        clock: Clock,
    ) -> Result<Self, BuildError> {
        let now = clock.now();
        // A bad key file is reported before anything else is done.
        let file_key = match &settings.keys.private_key_file {
            Some(path) => Some(crate::keys::bootstrap::from_file(
                path,
                settings.keys.algorithm,
                settings.keys.kid.clone(),
            )?),
            None => None,
        };
        let ops = Ops::new(
            stores.clone(),
            settings.keys.lifecycle(),
            file_key.is_some(),
        )
        .with_passwords(Arc::new(Passwords::new(&settings.passwords)));
        let sealer = match &settings.store.encryption_key {
            Some(key) => crate::store::sealing::Sealer::from_base64(&key.0),
            None => crate::store::sealing::Sealer::random(),
        }
        .map_err(|e| SettingsError::Invalid {
            key: "store.encryption_key".to_owned(),
            message: e.to_string(),
        })?;
        ops.seed_config_clients(&settings.clients(&sealer)?, now)
            .await?;
        ops.seed_config_users(&settings.users, now).await?;
        let keys = match file_key {
            Some(key) => PublishedKeys::new(key).map_err(BuildError::Generate)?,
            None => {
                ops.ensure_active_key(settings.keys.algorithm, now).await?;
                lifecycle::key_set(&stores.keys.keys().await?, now)?
            }
        };
        let ring = KeyRing::new(keys);
        let ops = ops.with_ring(ring.clone());
        // One hashing pool for the process: sign-ins and the operations share its bound; the
        // sign-in page and the password grant share the check.
        let sign_in = Arc::new(SignIn {
            passwords: Arc::clone(ops.passwords()),
            ..SignIn::new(settings, &stores)
        });
        let server = Arc::new(AuthorizationServer::new(
            settings,
            &stores,
            ring,
            Arc::new(sealer),
            Arc::clone(&sign_in),
            Arc::new(
                http::outbound::JwksClient::new(
                    Duration::from_millis(settings.client_auth.jwks_uri_timeout_ms),
                    settings.client_auth.jwks_uri_max_bytes,
                    settings.playground,
                )
                .map_err(|e| BuildError::HttpClient(e.to_string()))?,
            ),
        ));
        let authorizer = Authorizer {
            server: Arc::clone(&server),
            users: stores.users.clone(),
            consents: stores.consents.clone(),
            sessions: Sessions {
                store: stores.sessions.clone(),
                settings: settings.sessions.clone(),
            },
            ender: SessionEnder::new(&stores),
            interactions: Interactions {
                hot: stores.hot.clone(),
            },
            sign_in,
        };
        let trusted_proxies =
            service_kit::proxies::TrustedProxies::new(&settings.server.trusted_proxies);
        let admin = http::admin::Admin {
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
            ops: ops.clone(),
            guard: crate::oauth::brute_force::Guard {
                settings: settings.brute_force.clone(),
                hot: stores.hot.clone(),
                realm: "admin",
            },
        };
        let registration = http::Registration {
            registrar: Registrar::new(&settings.registration, &server),
            ops: ops.clone(),
        };
        Ok(Self {
            registration: web::Data::new(registration),
            server: web::Data::from(server),
            authorizer: web::Data::new(authorizer),
            site: web::Data::new(http::browser::BrowserSite::new(
                &settings.issuer,
                &settings.server.context_path,
            )),
            users: web::Data::new(http::userinfo::Users(stores.users.clone())),
            limits: web::Data::new(RequestLimits {
                max_body_bytes: settings.server.max_body_bytes,
                introspection_per_second: settings.introspection.max_requests_per_second,
            }),
            proxies: web::Data::new(trusted_proxies),
            jwks_max_age: web::Data::new(JwksMaxAge(settings.keys.jwks_max_age_secs)),
            admin: web::Data::new(admin),
            clock: web::Data::new(clock),
            ops,
            stores,
            poster: Arc::new(
                http::outbound::LogoutPoster::new(
                    Duration::from_secs(settings.logout.backchannel_timeout_secs),
                    settings.playground,
                )
                .map_err(|e| BuildError::HttpClient(e.to_string()))?,
            ),
            context_path: Arc::from(settings.server.context_path.as_str()),
        })
    }

    /// Registers state and routes on an actix `App` (or a test service).
    pub fn configure(&self) -> impl FnOnce(&mut web::ServiceConfig) + Clone + '_ {
        move |cfg| {
            cfg.app_data(self.server.clone())
                .app_data(self.limits.clone())
                .app_data(self.proxies.clone())
                .app_data(self.jwks_max_age.clone())
                .app_data(self.admin.clone())
                .app_data(self.authorizer.clone())
                .app_data(self.site.clone())
                .app_data(self.users.clone())
                .app_data(self.registration.clone())
                .app_data(self.clock.clone());
            http::configure(&self.context_path)(cfg);
        }
    }

    /// Starts the background tasks; what they report goes to readiness.
    pub fn start_tasks(&self, settings: &Settings) -> TaskHealth {
        tasks::start(Tasks {
            ops: self.ops.clone(),
            clock: self.clock.get_ref().clone(),
            key_lifecycle: settings.keys.private_key_file.is_none(),
            poll: settings.keys.lifecycle().poll,
            delivery: Delivery {
                server: self.server.clone().into_inner(),
                outbox: self.stores.outbox.clone(),
                clock: self.clock.get_ref().clone(),
                settings: settings.logout.clone(),
                poster: self.poster.clone(),
            },
        })
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
        Self::build_with(settings, Clock::system()).await
    }

    /// [`Self::build`] reading time from `clock` (tests move a manual one).
    pub async fn build_with(settings: Settings, clock: Clock) -> Result<Self, BuildError> {
        service_kit::metrics::install();
        let state = AppState::build_with(&settings, clock).await?;
        let health = state.start_tasks(&settings);
        let probed = state.stores.clone();
        let readiness = service_kit::management::Readiness::new(move || {
            let (stores, health) = (probed.clone(), health.clone());
            async move {
                let mut checks = stores.readiness().await;
                checks.push(("keys", health.keys.is_up()));
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
        let body_limits = web::Data::new(service_kit::body::BodyLimits {
            timeout: Duration::from_millis(settings.server.body_timeout_ms),
            ..service_kit::body::BodyLimits::default()
        });
        let mut http_server = HttpServer::new(move || {
            let state = state.clone();
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
