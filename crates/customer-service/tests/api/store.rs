//! Customers kept in memory, SQLite or PostgreSQL: one suite over the three (PostgreSQL is the
//! server scripts/test.sh starts, `TEST_POSTGRES_URL`, a database per test), and a restart of
//! the service on SQLite that loses nothing.

use std::sync::Arc;

use customer_service::{
    customer::CustomerInput,
    settings::StoreSettings,
    sql_store::SqlCustomerStore,
    store::{CustomerStore, MemoryCustomerStore},
};
use sqlx::Connection;
use test_support::workspace_root;

async fn store_url(backend: &str) -> (String, Option<std::path::PathBuf>) {
    let name = format!("c{}", uuid::Uuid::new_v4().simple());
    match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("customers-{name}"));
            (
                format!("sqlite://{}/customers.db", dir.display()),
                Some(dir),
            )
        }
        "postgres" => {
            let admin = std::env::var("TEST_POSTGRES_URL").expect(
                "TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL, or point it at a server",
            );
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            (
                format!("{}/{name}", admin.rsplit_once('/').unwrap().0),
                None,
            )
        }
        _ => ("memory".to_owned(), None),
    }
}

async fn open(url: &str) -> Arc<dyn CustomerStore> {
    if url == "memory" {
        return Arc::new(MemoryCustomerStore::default());
    }
    let settings = StoreSettings {
        url: url.to_owned(),
        ..StoreSettings::default()
    };
    Arc::new(SqlCustomerStore::open(&settings).await.unwrap())
}

fn input(name: &str) -> CustomerInput {
    CustomerInput {
        name: name.into(),
        email: "a@b.de".into(),
        country: "DE".into(),
    }
}

async fn crud_in_creation_order(backend: &str) {
    let (url, dir) = store_url(backend).await;
    let store = open(&url).await;
    let a = store.create(input("a")).await.unwrap();
    let b = store.create(input("b")).await.unwrap();
    let c = store.create(input("c")).await.unwrap();
    assert_eq!(
        store.list(2, 1).await.unwrap(),
        (vec![b.clone(), c.clone()], 3)
    );
    let a2 = store.update(a.id, input("a2")).await.unwrap().unwrap();
    assert_eq!(store.list(1, 0).await.unwrap().0, vec![a2.clone()]);
    assert_eq!(store.get(a.id).await.unwrap(), Some(a2));
    assert!(store.delete(b.id).await.unwrap());
    assert!(!store.delete(b.id).await.unwrap());
    assert_eq!(store.get(b.id).await.unwrap(), None);
    assert_eq!(store.update(b.id, input("x")).await.unwrap(), None);
    assert_eq!(store.list(10, 0).await.unwrap().1, 2);
    assert_eq!(store.list(10, 5).await.unwrap(), (vec![], 2));
    // F19: the largest offset the API accepts is an empty page on every backend.
    assert_eq!(
        store
            .list(10, customer_service::http::MAX_OFFSET)
            .await
            .unwrap(),
        (vec![], 2)
    );
    if backend != "memory" {
        drop(store);
        let again = open(&url).await;
        assert_eq!(
            again.get(c.id).await.unwrap(),
            Some(c),
            "kept when reopened"
        );
    }
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn crud_in_creation_order_memory() {
    crud_in_creation_order("memory").await;
}

#[tokio::test]
async fn crud_in_creation_order_sqlite() {
    crud_in_creation_order("sqlite").await;
}

#[tokio::test]
async fn crud_in_creation_order_postgres() {
    crud_in_creation_order("postgres").await;
}

#[tokio::test]
async fn a_restarted_service_on_sqlite_still_has_its_customers() {
    let auth = test_support::AuthServer::start().await;
    let (url, dir) = store_url("sqlite").await;
    let start = || async {
        let path = workspace_root().join("deploy/playground/customer-service.toml");
        let mut settings = customer_service::Settings::load(Some(&path)).unwrap();
        settings.server.port = 0;
        settings.store.url = url.clone();
        if let Some(i) = settings.auth.introspection.as_mut() {
            i.url = auth
                .jwks_url()
                .replace("/oauth2/jwks", "/oauth2/introspect");
        }
        settings.auth.jwks_url = Some(auth.jwks_url());
        let app = customer_service::App::build(settings).await.unwrap();
        let spawned =
            test_support::Spawned::new("/customer-service", app.port(), app.management_port());
        let handle = app.handle();
        tokio::spawn(app.run());
        spawned.wait_ready().await;
        (spawned.base, handle)
    };
    let token = auth.token("customer.read customer.write").await;
    let http = reqwest::Client::new();
    let (base, handle) = start().await;
    let created: serde_json::Value = http
        .post(format!("{base}/customers"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Ada", "email": "ada@example.com", "country": "GB"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    handle.stop(true).await;
    let (base, handle) = start().await;
    let res = http
        .get(format!(
            "{base}/customers/{}",
            created["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap(), created);
    handle.stop(true).await;
    let _ = std::fs::remove_dir_all(dir.unwrap());
}
