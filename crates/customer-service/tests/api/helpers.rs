//! customer-service on a free port with the playground config, beside a real ms-auth-server.

use test_support::workspace_root;
pub use test_support::{Reply, Spawned, Stack};

/// Starts customer-service taking its keys from `jwks_url`; returns its listeners.
pub async fn spawn_service(jwks_url: String) -> Spawned {
    let path = workspace_root().join("deploy/playground/customer-service.toml");
    let mut settings = customer_service::Settings::load(Some(&path)).unwrap();
    settings.server.port = 0;
    settings.store.url = "memory".to_owned();
    if let Some(introspection) = settings.auth.introspection.as_mut() {
        introspection.url = jwks_url.replace("/oauth2/jwks", "/oauth2/introspect");
        introspection.cache_secs = 1;
    }
    settings.auth.jwks_url = Some(jwks_url);
    let app = customer_service::App::build(settings).await.unwrap();
    let spawned = Spawned::new("/customer-service", app.port(), app.management_port());
    tokio::spawn(app.run());
    spawned
}

/// A real ms-auth-server and customer-service with its keys.
pub async fn stack() -> Stack {
    Stack::start(spawn_service).await
}
