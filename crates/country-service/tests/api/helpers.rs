//! country-service on a free port with the playground config, beside a real ms-auth-server.

use test_support::workspace_root;
pub use test_support::{Reply, Spawned, Stack};

/// Starts country-service taking its keys from `jwks_url`; returns its listeners.
pub async fn spawn_service(jwks_url: String) -> Spawned {
    let path = workspace_root().join("deploy/playground/country-service.toml");
    let mut settings = country_service::Settings::load(Some(&path)).unwrap();
    settings.server.port = 0;
    settings.auth.jwks_url = Some(jwks_url);
    let app = country_service::App::build(settings).await.unwrap();
    let spawned = Spawned::new("/country-service", app.port(), app.management_port());
    tokio::spawn(app.run());
    spawned
}

/// A real ms-auth-server and country-service with its keys.
pub async fn stack() -> Stack {
    Stack::start(spawn_service).await
}
