//! [`ClientStore`](ms_auth_server::store::ClientStore) on every backend.

use std::time::Duration;

use ms_auth_server::{
    clock::UnixTime,
    oauth::{
        client::{
            AuthMethod, Client, ClientCredential, ClientId, ClientMetadata, ClientOrigin,
            GrantType, Registration,
        },
        scope::ScopeSet,
        secret::{ClientSecret, SecretHash},
    },
};

use super::{Backend, location, open, raw};

per_backend!(
    clients_round_trip_and_upsert_replaces,
    create_never_overwrites_and_delete_says_whether_it_existed,
    a_registration_is_replaced_only_while_its_token_is_current,
);

per_sql_backend!(a_client_row_written_before_client_metadata_still_reads);

pub fn client(id: &str, secret: &str, scopes: &str) -> Client {
    Client::new(
        ClientId::new(id),
        ClientCredential::SecretHash(SecretHash::generate(&ClientSecret::new(secret)).unwrap()),
        ClientMetadata::new()
            .grant(GrantType::ClientCredentials)
            .method(AuthMethod::ClientSecretBasic)
            .scope(ScopeSet::parse_param(scopes).unwrap())
            .audience("api://x")
            .access_token_ttl_secs(600),
    )
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
    let secret = a.credential.secret_hash().unwrap();
    assert!(secret.verify(b"sa") && !secret.verify(b"sb"));
    assert_eq!(a.scopes().to_param(), "z");
    assert_eq!(a.audience(), ["api://x"]);
    assert_eq!(a.access_token_ttl(), Duration::from_secs(600));
    assert_eq!(a.metadata.grant_types, [GrantType::ClientCredentials]);
    assert_eq!(
        a.metadata.token_endpoint_auth_methods,
        [AuthMethod::ClientSecretBasic]
    );
    // Replaced, not duplicated; order of scopes kept.
    stores
        .clients
        .upsert(&client("a", "sa2", "q p"))
        .await
        .unwrap();
    let a = stores.clients.client("a").await.unwrap().unwrap();
    let secret = a.credential.secret_hash().unwrap();
    assert!(secret.verify(b"sa2") && !secret.verify(b"sa"));
    assert_eq!(a.scopes().to_param(), "q p");
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

/// A row as the store wrote it before `ClientMetadata` (its private struct of migrations
/// 0001–0005) reads as it was meant, and authenticates.
async fn a_client_row_written_before_client_metadata_still_reads(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    // HMAC-SHA256 of "secret" under the salt "saltsalt".
    let hash = "$hmac-sha256$v=1$c2FsdHNhbHQ$6qAgNDB0yN5SJra59JsHPTs/CUf8ixHpZYUbky1VKGg";
    let metadata = r#"{"grant_types":["client_credentials"],"token_endpoint_auth_methods":["client_secret_basic","client_secret_post"],"scope":["customer.read","country.read"],"default_scope":["country.read"],"audience":["api://x"],"access_token_ttl_secs":14400,"resource_server":null,"origin":"config","enabled":true}"#;
    raw(
        &at,
        &format!(
            "INSERT INTO clients (client_id, secret_hash, metadata, created_at, updated_at) \
             VALUES ('old', '{hash}', '{metadata}', 0, 0)"
        ),
    )
    .await;
    let old = stores.clients.client("old").await.unwrap().unwrap();
    assert!(old.credential.secret_hash().unwrap().verify(b"secret"));
    assert_eq!(old.scopes().to_param(), "customer.read country.read");
    assert_eq!(old.default_scopes().unwrap().to_param(), "country.read");
    assert_eq!(old.audience(), ["api://x"]);
    assert_eq!(old.access_token_ttl(), Duration::from_secs(14_400));
    assert!(old.enabled() && old.may_use_method(AuthMethod::ClientSecretPost));
    assert_eq!(old.origin, ClientOrigin::Config);
}

/// A client as dynamic registration stores it, its registration access token hashed as `hash`.
fn registered(id: &str, secret: &str, scopes: &str, hash: &str) -> Client {
    let mut c = client(id, secret, scopes);
    c.origin = ClientOrigin::Registration;
    c.registration = Some(Registration {
        issued_at: UnixTime::from_secs(1_700_000_000),
        secret_expires_at: None,
        access_token_hash: hash.to_owned(),
    });
    c
}

async fn create_never_overwrites_and_delete_says_whether_it_existed(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let first = registered("r", "s1", "x", "h1");
    assert!(stores.clients.create(&first).await.unwrap());
    assert!(
        !stores
            .clients
            .create(&registered("r", "s2", "y", "h2"))
            .await
            .unwrap(),
        "the id is taken"
    );
    let stored = stores.clients.client("r").await.unwrap().unwrap();
    assert!(stored.credential.secret_hash().unwrap().verify(b"s1"));
    assert_eq!(stored.scopes().to_param(), "x");
    assert_eq!(stored.origin, ClientOrigin::Registration);
    assert_eq!(stored.registration, first.registration);
    assert_eq!(stores.clients.count_registered().await.unwrap(), 1);
    assert!(
        !stores.clients.delete("r", "h0").await.unwrap(),
        "not with a spent token"
    );
    assert!(stores.clients.delete("r", "h1").await.unwrap());
    assert!(stores.clients.client("r").await.unwrap().is_none());
    assert!(
        !stores.clients.delete("r", "h1").await.unwrap(),
        "gone already"
    );
    assert!(stores.clients.create(&first).await.unwrap(), "free again");
    // A config client has no registration: it reads back with none, and is not counted.
    stores.clients.upsert(&client("c", "s", "x")).await.unwrap();
    assert_eq!(stores.clients.count_registered().await.unwrap(), 1);
    let c = stores.clients.client("c").await.unwrap().unwrap();
    assert_eq!(
        (c.origin, c.registration.as_ref()),
        (ClientOrigin::Config, None)
    );
}

async fn a_registration_is_replaced_only_while_its_token_is_current(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let clients = &stores.clients;
    assert!(
        clients
            .create(&registered("r", "s", "x", "h1"))
            .await
            .unwrap()
    );
    let next = registered("r", "s", "x y", "h2");
    assert!(!clients.replace_registration(&next, "h0").await.unwrap());
    assert!(clients.replace_registration(&next, "h1").await.unwrap());
    let stored = clients.client("r").await.unwrap().unwrap();
    assert_eq!(stored.scopes().to_param(), "x y");
    assert_eq!(
        stored.registration.as_ref().unwrap().access_token_hash,
        "h2"
    );
    // The token it replaced is spent: a second update with it loses.
    let other = registered("r", "s", "z", "h3");
    assert!(!clients.replace_registration(&other, "h1").await.unwrap());
    assert_eq!(
        clients
            .client("r")
            .await
            .unwrap()
            .unwrap()
            .scopes()
            .to_param(),
        "x y"
    );
    // An update racing a delete never brings the client back.
    assert!(
        !clients.delete("r", "h1").await.unwrap(),
        "a delete with the rotated token loses too"
    );
    assert!(clients.delete("r", "h2").await.unwrap());
    assert!(!clients.replace_registration(&other, "h2").await.unwrap());
    assert!(clients.client("r").await.unwrap().is_none());
    // Nor does it touch a client registered otherwise.
    clients.upsert(&client("c", "s", "x")).await.unwrap();
    assert!(
        !clients
            .replace_registration(&registered("c", "s", "y", "h"), "")
            .await
            .unwrap()
    );
    assert_eq!(
        clients.client("c").await.unwrap().unwrap().origin,
        ClientOrigin::Config
    );
}
