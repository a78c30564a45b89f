//! The playground's configuration and clients, and the settings tests add to it.

use ms_auth_server::{
    Settings,
    oauth::{
        client::{AuthMethod, GrantType},
        scope::ScopeSet,
        secret::{ClientSecret, SecretHash},
    },
    settings::ClientSettings,
};

pub use ms_auth_server::testing::{
    PLAYGROUND_CLIENT, PLAYGROUND_SECRET, playground_config, playground_settings,
};

/// The playground client's `id:secret`, as HTTP Basic carries it (no character in either
/// needs form-encoding).
pub const PLAYGROUND_ID_SECRET: &str = "service-client-jwt:service-client-jwt-secret";

/// The admin bearer token [`with_admin`] configures.
pub const ADMIN_TOKEN: &str = "an-admin-token-of-enough-entropy";

/// A client registered for client_credentials, with the given methods, scopes and secret.
pub fn client(id: &str, secret: &str, methods: &[AuthMethod], scopes: &str) -> ClientSettings {
    let scopes = ScopeSet::parse_param(scopes).unwrap();
    ClientSettings::confidential(
        id,
        ClientSecret::new(secret),
        ms_auth_server::oauth::client::ClientMetadata::new()
            .grant(GrantType::ClientCredentials)
            .methods(methods.iter().copied())
            .scope(scopes.clone())
            .default_scopes(scopes)
            .access_token_ttl_secs(3600),
    )
}

/// The playground config plus `extra` clients.
pub fn playground_with(extra: impl IntoIterator<Item = ClientSettings>) -> Settings {
    let mut settings = playground_settings();
    settings.clients.extend(extra);
    settings
}

/// The playground config with the admin endpoints on, behind [`ADMIN_TOKEN`].
pub fn with_admin() -> Settings {
    let mut settings = playground_settings();
    settings.admin.token_hash = Some(
        SecretHash::generate(&ClientSecret::new(ADMIN_TOKEN))
            .unwrap()
            .to_phc(),
    );
    settings
}

#[test]
fn the_playground_id_secret_is_its_client_and_secret() {
    assert_eq!(
        PLAYGROUND_ID_SECRET,
        format!("{PLAYGROUND_CLIENT}:{PLAYGROUND_SECRET}")
    );
}
