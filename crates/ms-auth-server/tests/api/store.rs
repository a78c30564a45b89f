//! The store of record: one suite, run against every backend (memory, SQLite, PostgreSQL).
//! PostgreSQL is the real server `scripts/test.sh` starts (`TEST_POSTGRES_URL`); each test
//! gets a database of its own.

use std::time::Duration;

use ms_auth_server::{
    App, Settings,
    clock::{Clock, UnixTime},
    keys::{SigningAlgorithm, SigningKey},
    oauth::{
        client::{
            AuthMethod, Client, ClientCredential, ClientId, ClientMetadata, ClientOrigin, GrantType,
        },
        scope::ScopeSet,
        secret::{ClientSecret, SecretHash},
    },
    store::{
        KeyState, SqlStore, StoreError, StoreSettings, StoredKey, Stores,
        grants::{AuditEvent, CodeGrant, CodeUse, RefreshGrant, Rotation, credential_hash},
        sealing::Sealer,
        settings::EncryptionKey,
    },
};
use sqlx::Connection;

use crate::helpers::{PLAYGROUND_CLIENT, PLAYGROUND_SECRET, basic, playground_settings};

pub const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sqlite,
    Postgres,
}

/// A fresh, empty store location of `backend`, removed when dropped.
pub struct Location {
    pub settings: StoreSettings,
    dir: Option<std::path::PathBuf>,
}

impl Drop for Location {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub async fn location(backend: Backend) -> Location {
    let name = format!("t{}", uuid::Uuid::new_v4().simple());
    let (url, dir) = match backend {
        Backend::Memory => ("memory".to_owned(), None),
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("store-{name}"));
            (format!("sqlite://{}/auth.db", dir.display()), Some(dir))
        }
        Backend::Postgres => {
            let admin = std::env::var("TEST_POSTGRES_URL").expect(
                "TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL, or point it at a server",
            );
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0;
            (format!("{base}/{name}"), None)
        }
    };
    Location {
        settings: StoreSettings {
            url,
            encryption_key: Some(EncryptionKey(ENCRYPTION_KEY.to_owned())),
            ..StoreSettings::default()
        },
        dir,
    }
}

/// The stores on `settings`, hot state in process.
pub async fn open(
    settings: &StoreSettings,
) -> Result<Stores, ms_auth_server::store::settings::OpenError> {
    Stores::open(settings, &ms_auth_server::store::RedisSettings::default()).await
}

/// One test per backend from one async fn taking the backend.
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() { super::$name(Backend::Memory).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name(Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name(Backend::Postgres).await }
        }
    )*};
}

/// One test per SQL backend (what is sealed at rest) from one async fn taking the backend.
macro_rules! per_sql_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name(Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name(Backend::Postgres).await }
        }
    )*};
}

per_sql_backend!(
    an_edited_key_row_does_not_open,
    a_key_row_sealed_to_its_kid_alone_is_resealed_on_open,
    a_client_row_written_before_client_metadata_still_reads,
);

per_backend!(
    a_revocation_activates_a_key_at_once_and_never_leaves_none,
    clients_round_trip_and_upsert_replaces,
    exactly_one_active_key_among_concurrent_starters,
    a_code_is_consumed_once_and_a_replay_revokes_its_family,
    a_refresh_token_rotates_once_and_reuse_revokes_the_family,
    audit_entries_are_kept_in_order,
    a_rotation_promotes_once_then_retires_and_removes,
);

/// `n` stores on `at`'s database (one for memory), as replicas would have.
async fn replicas(at: &Location, backend: Backend, n: usize) -> Vec<Stores> {
    let mut all = vec![open(&at.settings).await.unwrap()];
    if backend != Backend::Memory {
        for _ in 1..n {
            all.push(open(&at.settings).await.unwrap());
        }
    }
    all
}

/// An instant, in Unix seconds.
fn t(secs: i64) -> UnixTime {
    UnixTime::from_secs(secs)
}

fn code(family: &str, expires_at: i64) -> CodeGrant {
    CodeGrant {
        family_id: family.to_owned(),
        client_id: "web".to_owned(),
        subject: "alice".to_owned(),
        scope: "openid profile".to_owned(),
        redirect_uri: "http://127.0.0.1:8080/cb".to_owned(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned()),
        nonce: None,
        auth_time: t(100),
        expires_at: t(expires_at),
    }
}

fn refresh(family: &str, expires_at: i64) -> RefreshGrant {
    RefreshGrant {
        family_id: family.to_owned(),
        client_id: "web".to_owned(),
        subject: "alice".to_owned(),
        scope: "openid".to_owned(),
        issued_at: t(100),
        expires_at: t(expires_at),
    }
}

async fn a_code_is_consumed_once_and_a_replay_revokes_its_family(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 4).await;
    let g = &stores[0].grants;
    let h = credential_hash("the-code");
    g.put_code(&h, &code("fam-1", 1_000)).await.unwrap();
    g.put_refresh(&credential_hash("rt-1"), &refresh("fam-1", 5_000))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let g = stores[i % stores.len()].grants.clone();
            let h = h.clone();
            tokio::spawn(async move { g.consume_code(&h, t(500)).await.unwrap() })
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        match t.await.unwrap() {
            CodeUse::Fresh(grant) => {
                fresh += 1;
                assert_eq!(grant, code("fam-1", 1_000));
            }
            CodeUse::Replayed { family_id } => assert_eq!(family_id, "fam-1"),
            CodeUse::Invalid => panic!("a known code in time is never invalid"),
        }
    }
    assert_eq!(fresh, 1, "exactly one consumer wins");
    assert_eq!(
        g.refresh(&credential_hash("rt-1"), t(500)).await.unwrap(),
        None,
        "RFC 6749 §4.1.2: a reused code revokes what it produced"
    );
    g.put_code(&credential_hash("late"), &code("fam-2", 1_000))
        .await
        .unwrap();
    assert_eq!(
        g.consume_code(&credential_hash("late"), t(1_000))
            .await
            .unwrap(),
        CodeUse::Invalid
    );
    assert_eq!(
        g.consume_code(&credential_hash("nope"), t(1))
            .await
            .unwrap(),
        CodeUse::Invalid
    );
}

async fn a_refresh_token_rotates_once_and_reuse_revokes_the_family(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 4).await;
    let g = &stores[0].grants;
    let hash = |s: &str| credential_hash(s);
    // In sequence: r0 → r1 → r2; r0 again is reuse and takes r2 down with the family.
    g.put_refresh(&hash("r0"), &refresh("fam", 5_000))
        .await
        .unwrap();
    let r1 = g
        .rotate_refresh(&hash("r0"), &hash("r1"), t(6_000), t(200))
        .await
        .unwrap();
    assert_eq!(
        r1,
        Rotation::Rotated(RefreshGrant {
            issued_at: t(200),
            expires_at: t(6_000),
            ..refresh("fam", 5_000)
        })
    );
    assert!(
        g.refresh(&hash("r0"), t(200)).await.unwrap().is_none(),
        "spent"
    );
    assert!(g.refresh(&hash("r1"), t(200)).await.unwrap().is_some());
    assert!(matches!(
        g.rotate_refresh(&hash("r1"), &hash("r2"), t(7_000), t(300))
            .await
            .unwrap(),
        Rotation::Rotated(_)
    ));
    assert_eq!(
        g.rotate_refresh(&hash("r0"), &hash("x"), t(7_000), t(400))
            .await
            .unwrap(),
        Rotation::Reused {
            family_id: "fam".to_owned()
        }
    );
    assert!(
        g.refresh(&hash("r2"), t(400)).await.unwrap().is_none(),
        "family revoked"
    );
    assert_eq!(
        g.rotate_refresh(&hash("r2"), &hash("r3"), t(7_000), t(400))
            .await
            .unwrap(),
        Rotation::Invalid
    );

    // Racing: of 16 concurrent rotations of one token exactly one succeeds; the others are
    // reuse, so the family ends revoked.
    g.put_refresh(&hash("s0"), &refresh("race", 5_000))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let g = stores[i % stores.len()].grants.clone();
            tokio::spawn(async move {
                g.rotate_refresh(&hash("s0"), &hash(&format!("s1-{i}")), t(6_000), t(200))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut rotated = 0;
    for t in tasks {
        match t.await.unwrap() {
            Rotation::Rotated(_) => rotated += 1,
            Rotation::Reused { family_id } => assert_eq!(family_id, "race"),
            Rotation::Invalid => panic!("the token was current"),
        }
    }
    assert_eq!(rotated, 1, "exactly one rotation wins");
    for i in 0..16 {
        assert!(
            g.refresh(&hash(&format!("s1-{i}")), t(200))
                .await
                .unwrap()
                .is_none()
        );
    }
    // Expired tokens do not rotate; revoking a family counts what was live.
    g.put_refresh(&hash("old"), &refresh("exp", 100))
        .await
        .unwrap();
    assert_eq!(
        g.rotate_refresh(&hash("old"), &hash("n"), t(900), t(100))
            .await
            .unwrap(),
        Rotation::Invalid
    );
    g.put_refresh(&hash("a"), &refresh("f2", 5_000))
        .await
        .unwrap();
    g.put_refresh(&hash("b"), &refresh("f2", 5_000))
        .await
        .unwrap();
    assert_eq!(g.revoke_family("f2", t(10)).await.unwrap(), 2);
    assert_eq!(g.revoke_family("f2", t(10)).await.unwrap(), 0);
}

async fn audit_entries_are_kept_in_order(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    for (at, event) in [(1, "a"), (2, "b"), (3, "c")] {
        stores
            .audit
            .append(&AuditEvent {
                at: t(at),
                event: event.to_owned(),
                actor: "system".to_owned(),
                client_id: Some("web".to_owned()),
                subject: None,
                detail: format!("{event} happened"),
            })
            .await
            .unwrap();
    }
    let recent = stores.audit.recent(2).await.unwrap();
    let events: Vec<_> = recent.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["c", "b"]);
    assert_eq!(recent[0].client_id.as_deref(), Some("web"));
    assert_eq!(recent[0].subject, None);
}

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

fn candidate() -> StoredKey {
    let key = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    StoredKey {
        kid: key.kid().to_owned(),
        algorithm: SigningAlgorithm::ES256,
        state: KeyState::Active,
        private_key_pem: key.to_pkcs8_pem().unwrap(),
        created_at: t(1),
        activates_at: None,
        publish_until: None,
    }
}

async fn exactly_one_active_key_among_concurrent_starters(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    // Several replicas' stores on the same database, racing to create the first key.
    let mut racers = vec![stores.clone()];
    if backend != Backend::Memory {
        for _ in 0..3 {
            racers.push(open(&at.settings).await.unwrap());
        }
    }
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let s = racers[i % racers.len()].clone();
            tokio::spawn(async move { s.keys.activate_if_none(candidate()).await.unwrap() })
        })
        .collect();
    let mut winners = std::collections::HashSet::new();
    for t in tasks {
        let active = t.await.unwrap();
        assert_eq!(active.state, KeyState::Active);
        SigningKey::from_pem(
            active.private_key_pem.as_bytes(),
            active.algorithm,
            Some(active.kid.clone()),
        )
        .expect("the stored key loads");
        winners.insert(active.kid);
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = stores.keys.keys().await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
}

/// A running ms-auth-server on `store`, stoppable.
pub struct Replica {
    pub base: String,
    /// The management listener: `/health…`, `/metrics`.
    pub management: String,
    handle: actix_web::dev::ServerHandle,
}

impl Replica {
    pub async fn start(store: &StoreSettings) -> Self {
        let mut settings: Settings = playground_settings();
        settings.store = store.clone();
        Self::start_with(settings).await
    }

    pub async fn start_with(settings: Settings) -> Self {
        let app = App::build(settings).await.expect("app builds");
        let base = format!("http://127.0.0.1:{}/ms-auth-server", app.port());
        let management = format!("http://127.0.0.1:{}", app.management_port());
        let handle = app.handle();
        tokio::spawn(app.run());
        Self {
            base,
            management,
            handle,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }

    pub async fn jwks(&self) -> serde_json::Value {
        reqwest::get(format!("{}/oauth2/jwks", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn token(&self, id_secret: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/oauth2/token", self.base))
            .header("Authorization", basic(id_secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap()
    }
}

/// The `kid` in a compact JWS's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

pub async fn access_token(replica: &Replica) -> String {
    let res = replica
        .token(&format!("{PLAYGROUND_CLIENT}:{PLAYGROUND_SECRET}"))
        .await;
    assert_eq!(res.status(), 200);
    res.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_clients_keys_and_grants_sqlite() {
    restart_keeps_clients_and_keys(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_clients_keys_and_grants_postgres() {
    restart_keeps_clients_and_keys(Backend::Postgres).await;
}

async fn restart_keeps_clients_and_keys(backend: Backend) {
    let at = location(backend).await;
    let first = Replica::start(&at.settings).await;
    let token = access_token(&first).await;
    let jwks = first.jwks().await;
    let grants = open(&at.settings).await.unwrap().grants;
    grants
        .put_refresh(&credential_hash("kept"), &refresh("kept-family", i64::MAX))
        .await
        .unwrap();
    grants
        .put_code(
            &credential_hash("kept-code"),
            &code("kept-family", i64::MAX),
        )
        .await
        .unwrap();
    drop(grants);
    first.stop().await;
    let second = Replica::start(&at.settings).await;
    assert_eq!(second.jwks().await, jwks, "the same keys after a restart");
    assert_eq!(
        jwks["keys"][0]["kid"].as_str(),
        Some(kid_of(&token).as_str()),
        "a token issued before the restart verifies with the keys published after it"
    );
    assert_eq!(kid_of(&access_token(&second).await), kid_of(&token));
    second.stop().await;
    let grants = open(&at.settings).await.unwrap().grants;
    assert_eq!(
        grants
            .refresh(&credential_hash("kept"), t(1))
            .await
            .unwrap(),
        Some(refresh("kept-family", i64::MAX)),
        "grants survive the restart"
    );
    assert_eq!(
        grants
            .consume_code(&credential_hash("kept-code"), t(1))
            .await
            .unwrap(),
        CodeUse::Fresh(code("kept-family", i64::MAX))
    );
    let audit = open(&at.settings)
        .await
        .unwrap()
        .audit
        .recent(10)
        .await
        .unwrap();
    let created: Vec<_> = audit
        .iter()
        .filter(|e| e.event == "signing_key_created")
        .collect();
    assert_eq!(created.len(), 1, "one key, created once: {audit:?}");
    assert!(created[0].detail.contains(&kid_of(&token)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_keys_and_clients_over_postgres() {
    let at = location(Backend::Postgres).await;
    // Replicas sharing a store share hot state too (`cluster.replicated` demands it): its
    // notices are how a replica that has just answered "unknown client" learns of a new one.
    let redis = crate::servers::RedisServer::start();
    let redis_settings = ms_auth_server::store::RedisSettings {
        url: Some(redis.url()),
        ..Default::default()
    };
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    settings.redis = redis_settings.clone();
    let (a, b) = tokio::join!(
        Replica::start_with(settings.clone()),
        Replica::start_with(settings)
    );
    let token = access_token(&a).await;
    let jwks_b = b.jwks().await;
    assert_eq!(a.jwks().await, jwks_b);
    assert_eq!(
        jwks_b["keys"][0]["kid"].as_str(),
        Some(kid_of(&token).as_str())
    );
    // A client created through one replica's store works at the other at once.
    let stores = Stores::open(&at.settings, &redis_settings).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stores.hot.listening().is_none() {
        assert!(std::time::Instant::now() < deadline, "never subscribed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(b.token("late-client:late-secret").await.status(), 401);
    let mut late = client("late-client", "late-secret", "country.read");
    late.metadata.audience.clear();
    late.metadata.default_scopes = Some(late.scopes().clone());
    stores.clients.upsert(&late).await.unwrap();
    // The notice crosses Redis in milliseconds.
    let deadline = std::time::Instant::now() + Duration::from_millis(500);
    for replica in [&b, &a] {
        while replica.token("late-client:late-secret").await.status() != 200 {
            assert!(
                std::time::Instant::now() < deadline,
                "the new client is refused"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_secret_is_readable_at_rest_sqlite() {
    let at = location(Backend::Sqlite).await;
    let replica = Replica::start(&at.settings).await;
    let token = access_token(&replica).await;
    replica.stop().await;
    let dir = at.dir.clone().unwrap();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("service-client-jwt"), "the file is the store");
    for secret in [PLAYGROUND_SECRET, "PRIVATE KEY", "MII"] {
        assert!(
            !text.contains(secret),
            "{secret:?} is readable in the SQLite file"
        );
    }
    assert!(!text.contains(&token));
    // The row holds the sealed form, which opens only with the key it was sealed with.
    let store = SqlStore::open(&at.settings).await.unwrap();
    let sealed = store.raw_key_row(&kid_of(&token)).await.unwrap().unwrap();
    assert!(sealed.starts_with("v1."), "{sealed}");
    store.close().await;
    let mut wrong = at.settings.clone();
    wrong.encryption_key = Some(EncryptionKey(
        "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=".to_owned(),
    ));
    let mut settings = playground_settings();
    settings.store = wrong;
    let err = App::build(settings)
        .await
        .err()
        .expect("a wrong key refuses to start");
    assert!(err.to_string().contains("store.encryption_key"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_secret_is_readable_at_rest_postgres() {
    let at = location(Backend::Postgres).await;
    let replica = Replica::start(&at.settings).await;
    let token = access_token(&replica).await;
    replica.stop().await;
    let mut conn = sqlx::PgConnection::connect(&at.settings.url).await.unwrap();
    // Every column of every table, as text.
    let dump: Vec<(String,)> = sqlx::query_as(
        "SELECT row_to_json(c)::text FROM clients c UNION ALL SELECT row_to_json(k)::text FROM signing_keys k",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let dump: String = dump.into_iter().map(|r| r.0).collect();
    assert!(dump.contains("service-client-jwt"), "{dump}");
    for secret in [PLAYGROUND_SECRET, "PRIVATE KEY", "MII", token.as_str()] {
        assert!(
            !dump.contains(secret),
            "{secret:?} is readable in PostgreSQL"
        );
    }
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_is_one_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = StoreSettings {
        url: format!("postgres://postgres:hunter2@127.0.0.1:{port}/none"),
        encryption_key: Some(EncryptionKey(ENCRYPTION_KEY.to_owned())),
        connect_timeout_ms: 500,
        ..StoreSettings::default()
    };
    let err = open(&settings).await.err().expect("no server there");
    let shown = err.to_string();
    assert!(shown.contains("cannot connect"), "{shown}");
    assert!(
        !shown.contains("hunter2"),
        "the password was shown: {shown}"
    );
    for (url, needle) in [
        ("mysql://x", "not supported"),
        ("sqlite://", "not supported"),
    ] {
        let s = StoreSettings {
            url: url.to_owned(),
            ..settings.clone()
        };
        let err = open(&s).await.err().unwrap().to_string();
        assert!(err.contains(needle), "{url}: {err}");
    }
    let none = StoreSettings {
        encryption_key: None,
        ..settings
    };
    let err = open(&none).await.err().unwrap().to_string();
    assert!(err.contains("store.encryption_key"), "{err}");
}

async fn a_rotation_promotes_once_then_retires_and_removes(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 4).await;
    let keys = &stores[0].keys;
    let first = keys.activate_if_none(candidate()).await.unwrap();
    let next = |activates_at| StoredKey {
        state: KeyState::Next,
        activates_at: Some(activates_at),
        ..candidate()
    };
    let second = keys.add_next(next(t(100))).await.unwrap();
    assert_eq!(second.state, KeyState::Next);
    assert_eq!(
        keys.add_next(next(t(100))).await.unwrap().kid,
        second.kid,
        "one rotation at a time"
    );
    assert!(
        !keys
            .promote_due(t(99), Duration::from_secs(1_000))
            .await
            .unwrap(),
        "not due yet"
    );
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let k = stores[i % stores.len()].keys.clone();
            tokio::spawn(async move {
                k.promote_due(t(100), Duration::from_secs(1_000))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut promoted = 0;
    for t in tasks {
        promoted += usize::from(t.await.unwrap());
    }
    assert_eq!(promoted, 1, "exactly one replica promotes");
    let state_of = |all: &[StoredKey], kid: &str| {
        all.iter()
            .find(|k| k.kid == kid)
            .map(|k| (k.state, k.publish_until))
    };
    let all = keys.keys().await.unwrap();
    assert_eq!(
        state_of(&all, &first.kid),
        Some((KeyState::Retired, Some(t(1_100))))
    );
    assert_eq!(
        state_of(&all, &second.kid).map(|s| s.0),
        Some(KeyState::Active)
    );
    assert_eq!(keys.remove_expired(t(1_099)).await.unwrap(), 0);
    assert_eq!(keys.remove_expired(t(1_100)).await.unwrap(), 1);
    let all = keys.keys().await.unwrap();
    assert_eq!(all.len(), 1);
    // The next rotation starts from the new active key.
    let third = keys.add_next(next(t(200))).await.unwrap();
    assert_ne!(third.kid, second.kid);
}

/// F20: a replica that cannot load the store's keys (a row sealed under another
/// `store.encryption_key` appeared after it started) says so in its readiness instead of
/// serving a stale key set as if all were well.
#[tokio::test]
async fn a_replica_that_cannot_load_the_keys_is_not_ready() {
    let at = location(Backend::Sqlite).await;
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    settings.keys.poll_secs = 1;
    let replica = Replica::start_with(settings.clone()).await;
    let ready = format!("{}/health/ready", replica.management);
    crate::helpers::wait_for_status(&ready, 200).await;

    let mut other = at.settings.clone();
    other.encryption_key = Some(EncryptionKey(
        "b3RoZXItZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMhISE=".to_owned(),
    ));
    let foreign = Stores::open(&other, &settings.redis).await.unwrap();
    ms_auth_server::ops::Ops::new(foreign, settings.keys.lifecycle(), false)
        .rotate_key(&ms_auth_server::ops::Actor::Cli, Clock::system().now())
        .await
        .unwrap();
    crate::helpers::wait_for_status(&ready, 503).await;
    let health: serde_json::Value = reqwest::get(format!("{}/health", replica.management))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["checks"]["keys"], "DOWN", "{health}");
    replica.stop().await;
}

/// F7: the config is authoritative for its own clients. One removed from it is disabled at
/// the next start (audited) and refused at once, also by a replica that had it cached; a
/// client registered another way is never touched, and the config cannot take its id over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_removed_from_the_config_is_disabled_everywhere_at_once() {
    let redis = crate::servers::RedisServer::start();
    let at = location(Backend::Sqlite).await;
    let mut with_gone = crate::helpers::playground_with([crate::helpers::client(
        "gone",
        "gone-secret-0123456789abcdef",
        &[AuthMethod::ClientSecretBasic],
        "country.read",
    )]);
    with_gone.store = at.settings.clone();
    with_gone.redis = ms_auth_server::store::RedisSettings {
        url: Some(redis.url()),
        ..ms_auth_server::store::RedisSettings::default()
    };
    let gone = "gone:gone-secret-0123456789abcdef";
    let a = Replica::start_with(with_gone.clone()).await;
    assert_eq!(a.token(gone).await.status(), 200);

    // A client of another origin, in the same store.
    let stores = open(&at.settings).await.unwrap();
    let mut registered = client("registered", "registered-secret", "country.read");
    registered.origin = ClientOrigin::Registration;
    registered.metadata.default_scopes = Some(registered.scopes().clone());
    stores.clients.upsert(&registered).await.unwrap();

    let mut without = with_gone.clone();
    without.clients.retain(|c| c.client_id != "gone");
    let b = Replica::start_with(without.clone()).await;
    assert_eq!(b.token(gone).await.status(), 401);
    // Replica A had the client cached: the notice dropped it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while a.token(gone).await.status() != 401 {
        assert!(std::time::Instant::now() < deadline, "still accepted at A");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let audit = stores.audit.recent(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.event == "client_disabled" && e.client_id.as_deref() == Some("gone")),
        "{audit:?}"
    );
    let kept = stores.clients.client("registered").await.unwrap().unwrap();
    assert!(kept.enabled(), "another origin's client is not touched");
    assert_eq!(b.token("registered:registered-secret").await.status(), 200);

    let mut takeover = without.clone();
    takeover.clients.push(crate::helpers::client(
        "registered",
        "other-secret",
        &[AuthMethod::ClientSecretBasic],
        "country.read",
    ));
    let err = App::build(takeover).await.err().expect("refused");
    assert!(err.to_string().contains("registered"), "{err}");
    a.stop().await;
    b.stop().await;
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

/// Runs `sql` on `at`'s database directly, as someone with write access to it would.
async fn raw(at: &Location, sql: &str) -> u64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&at.settings.url)
        .await
        .unwrap();
    let done = sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    done.rows_affected()
}

async fn a_revocation_activates_a_key_at_once_and_never_leaves_none(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 4).await;
    let keys = &stores[0].keys;
    let first = keys.activate_if_none(candidate()).await.unwrap();
    assert!(
        keys.revoke("no-such-kid", t(10), candidate())
            .await
            .unwrap()
            .is_none()
    );
    // The only key, and active: a new one takes its place in the same step.
    let fallback = candidate();
    let done = keys
        .revoke(&first.kid, t(10), fallback.clone())
        .await
        .unwrap()
        .unwrap();
    assert!(!done.already);
    assert_eq!(
        (done.key.state, done.key.publish_until),
        (KeyState::Revoked, Some(t(10)))
    );
    let second = done.activated.unwrap();
    assert_eq!(
        (second.kid.as_str(), second.state, second.activates_at),
        (fallback.kid.as_str(), KeyState::Active, Some(t(10)))
    );
    // With a next key, that one signs at once, long before its time.
    let next = keys
        .add_next(StoredKey {
            state: KeyState::Next,
            activates_at: Some(t(1_000)),
            ..candidate()
        })
        .await
        .unwrap();
    let done = keys
        .revoke(&second.kid, t(20), candidate())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        done.activated.map(|k| (k.kid, k.state, k.activates_at)),
        Some((next.kid.clone(), KeyState::Active, Some(t(20))))
    );
    let again = keys
        .revoke(&first.kid, t(30), candidate())
        .await
        .unwrap()
        .unwrap();
    assert!(again.already && again.activated.is_none());
    assert_eq!(again.key.publish_until, Some(t(10)), "unchanged");
    // Read by another replica: the revoked rows stay, their private keys erased; one active.
    let all = stores[stores.len() - 1].keys.keys().await.unwrap();
    let state_of = |kid: &str| {
        all.iter()
            .find(|k| k.kid == kid)
            .map(|k| (k.state, k.private_key_pem.is_empty()))
    };
    assert_eq!(state_of(&first.kid), Some((KeyState::Revoked, true)));
    assert_eq!(state_of(&second.kid), Some((KeyState::Revoked, true)));
    assert_eq!(state_of(&next.kid), Some((KeyState::Active, false)));
    assert_eq!(all.len(), 3, "{all:?}");
    let set = ms_auth_server::keys::lifecycle::key_set(&all, t(40)).unwrap();
    assert_eq!(
        set.kids(),
        [next.kid.as_str()],
        "nothing revoked is published"
    );
    assert_eq!(keys.remove_expired(t(i64::MAX)).await.unwrap(), 0, "kept");

    // Replicas revoking the active key together: one revokes it, one key takes its place.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let k = stores[i % stores.len()].keys.clone();
            let kid = next.kid.clone();
            tokio::spawn(async move { k.revoke(&kid, t(50), candidate()).await.unwrap().unwrap() })
        })
        .collect();
    let mut activated = Vec::new();
    for t in tasks {
        let done = t.await.unwrap();
        assert_eq!(done.key.state, KeyState::Revoked);
        if !done.already {
            activated.push(done.activated.unwrap().kid);
        }
    }
    assert_eq!(activated.len(), 1, "exactly one replica revokes");
    let all = keys.keys().await.unwrap();
    let active: Vec<_> = all.iter().filter(|k| k.state == KeyState::Active).collect();
    assert_eq!(active.len(), 1, "{all:?}");
    assert_eq!(active[0].kid, activated[0]);
}

/// F13: the seal of a key row binds its columns, so a row edited in the database — a retired
/// key published for decades, a key set back to an earlier state — no longer opens.
async fn an_edited_key_row_does_not_open(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let keys = &stores.keys;
    let first = keys.activate_if_none(candidate()).await.unwrap();
    let second = keys
        .add_next(StoredKey {
            state: KeyState::Next,
            activates_at: Some(t(100)),
            ..candidate()
        })
        .await
        .unwrap();
    assert!(
        keys.promote_due(t(100), Duration::from_secs(1_000))
            .await
            .unwrap()
    );
    // Both rows changed state, and each was re-sealed for its new columns in the same step.
    assert_eq!(keys.keys().await.unwrap().len(), 2);
    let edits = [
        (
            &first.kid,
            "publish_until = 4102444800",
            "publish_until = 1100",
        ),
        (&first.kid, "state = 'next'", "state = 'retired'"),
        (&first.kid, "publish_until = NULL", "publish_until = 1100"),
        (&second.kid, "activates_at = 1", "activates_at = 100"),
        (&second.kid, "algorithm = 'RS256'", "algorithm = 'ES256'"),
        (&second.kid, "created_at = 2", "created_at = 1"),
    ];
    for (kid, edit, undo) in edits {
        let row = |set: &str| format!("UPDATE signing_keys SET {set} WHERE kid = '{kid}'");
        assert_eq!(raw(&at, &row(edit)).await, 1);
        match keys.keys().await {
            Err(StoreError::Corrupt(why)) => assert!(why.contains(kid.as_str()), "{why}"),
            other => panic!("{edit}: {other:?}"),
        }
        raw(&at, &row(undo)).await;
        keys.keys().await.unwrap();
    }
    // A server does not start on an edited row either.
    raw(
        &at,
        &format!(
            "UPDATE signing_keys SET publish_until = 4102444800 WHERE kid = '{}'",
            first.kid
        ),
    )
    .await;
    let mut settings = playground_settings();
    settings.store = at.settings.clone();
    let err = App::build(settings).await.err().expect("refuses to start");
    assert!(err.to_string().contains(&first.kid), "{err}");
}

/// Rows written before migration 4 were sealed to their kid alone (`seal_version` 1, the
/// migration's default): they are not trusted as they are, and opening the store re-seals them
/// to bind their whole row, once, even with replicas opening together.
async fn a_key_row_sealed_to_its_kid_alone_is_resealed_on_open(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    stores.keys.activate_if_none(candidate()).await.unwrap();
    let old = candidate();
    let sealed = Sealer::from_base64(ENCRYPTION_KEY)
        .unwrap()
        .seal(old.private_key_pem.as_bytes(), old.kid.as_bytes())
        .unwrap();
    raw(
        &at,
        &format!(
            "INSERT INTO signing_keys (kid, algorithm, state, sealed_private_key, created_at, \
             publish_until) VALUES ('{}', 'ES256', 'retired', '{sealed}', 1, 4102444800)",
            old.kid
        ),
    )
    .await;
    assert!(
        matches!(stores.keys.keys().await, Err(StoreError::Corrupt(_))),
        "not trusted until upgraded"
    );
    let (a, b) = tokio::join!(open(&at.settings), open(&at.settings));
    let (a, b) = (a.unwrap(), b.unwrap());
    let all = a.keys.keys().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(b.keys.keys().await.unwrap(), all);
    let upgraded = all.iter().find(|k| k.kid == old.kid).unwrap();
    assert_eq!(upgraded.private_key_pem, old.private_key_pem);
    assert_eq!(
        (upgraded.state, upgraded.publish_until),
        (KeyState::Retired, Some(t(4102444800)))
    );
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&at.settings.url)
        .await
        .unwrap();
    let versions: Vec<i64> = sqlx::query_scalar("SELECT seal_version FROM signing_keys")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(versions, [2, 2]);
    conn.close().await.unwrap();
    // Now its columns are bound too.
    raw(
        &at,
        &format!(
            "UPDATE signing_keys SET publish_until = 4102444801 WHERE kid = '{}'",
            old.kid
        ),
    )
    .await;
    assert!(matches!(a.keys.keys().await, Err(StoreError::Corrupt(_))));
}
