//! [`ClientStore`](ms_auth_server::store::ClientStore) on every backend.

use std::time::Duration;

use ms_auth_server::oauth::{
    client::{AuthMethod, Client, ClientId, ClientOrigin, GrantType},
    scope::ScopeSet,
    secret::{ClientSecret, SecretHash},
};

use super::{Backend, location, open};

per_backend!(clients_round_trip_and_upsert_replaces);

pub fn client(id: &str, secret: &str, scopes: &str) -> Client {
    Client {
        id: ClientId::new(id),
        secret: SecretHash::generate(&ClientSecret::new(secret)).unwrap(),
        grant_types: vec![GrantType::ClientCredentials],
        auth_methods: vec![AuthMethod::ClientSecretBasic],
        scopes: ScopeSet::parse_param(scopes).unwrap(),
        default_scopes: None,
        audience: vec!["api://x".to_owned()],
        access_token_ttl: Duration::from_secs(600),
        resource_server: None,
        origin: ClientOrigin::Config,
        enabled: true,
    }
}

async fn clients_round_trip_and_upsert_replaces(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    assert!(stores.clients.client("a").await.unwrap().is_none());
    stores
        .clients
        .upsert(&client("b", "sb", "x y"))
        .await
        .unwrap();
    stores
        .clients
        .upsert(&client("a", "sa", "z"))
        .await
        .unwrap();
    let a = stores.clients.client("a").await.unwrap().unwrap();
    assert!(a.secret.verify(b"sa") && !a.secret.verify(b"sb"));
    assert_eq!(a.scopes.to_param(), "z");
    assert_eq!(a.audience, ["api://x"]);
    assert_eq!(a.access_token_ttl, Duration::from_secs(600));
    assert_eq!(a.grant_types, [GrantType::ClientCredentials]);
    assert_eq!(a.auth_methods, [AuthMethod::ClientSecretBasic]);
    // Replaced, not duplicated; order of scopes kept.
    stores
        .clients
        .upsert(&client("a", "sa2", "q p"))
        .await
        .unwrap();
    let a = stores.clients.client("a").await.unwrap().unwrap();
    assert!(a.secret.verify(b"sa2") && !a.secret.verify(b"sa"));
    assert_eq!(a.scopes.to_param(), "q p");
    let all: Vec<String> = stores
        .clients
        .all()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id.as_str().to_owned())
        .collect();
    assert_eq!(all, ["a", "b"]);
}
