//! User accounts on every backend: the config's seeded at start-up (ids kept across restarts,
//! removed ones disabled, other accounts never touched), the operations' (create, set the
//! password, disable, list), and signing in as the playground's users.

use std::sync::Arc;

use ms_auth_server::{
    AppState, Settings,
    clock::{Clock, UnixTime},
    identity::{
        Password, PasswordError, PasswordSettings, Passwords, SignIn, SignInError, StandardClaims,
        UserOrigin, UserStatus,
    },
    ops::{
        Actor, Ops,
        users::{NewUser, SeedUsersError, UserOpsError},
    },
    settings::ConfigUser,
    store::Stores,
};

use crate::{
    helpers::playground_settings,
    store::{Backend, Location, location, open, per_backend, t},
};

per_backend!(
    config_users_keep_their_ids_and_hashes_across_restarts,
    a_user_removed_from_the_config_is_disabled_and_audited,
    the_config_cannot_take_over_an_administrations_username,
    operations_create_change_and_disable_accounts,
);

/// Small argon2 parameters: these tests are about accounts, not the cost.
fn small() -> PasswordSettings {
    PasswordSettings {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
        ..PasswordSettings::default()
    }
}

fn ops(stores: &Stores) -> Ops {
    let settings = Settings::default();
    Ops::new(stores.clone(), settings.keys.lifecycle(), false)
        .with_passwords(Arc::new(Passwords::new(&small())))
}

/// The stores at `at` as a restarted server opens them (the same ones, for memory).
async fn restart(at: &Location, backend: Backend, before: &Stores) -> Stores {
    match backend {
        Backend::Memory => before.clone(),
        _ => open(&at.settings).await.unwrap(),
    }
}

fn alice() -> ConfigUser {
    ConfigUser {
        roles: vec!["user".to_owned()],
        claims: StandardClaims {
            name: Some("Alice Example".to_owned()),
            ..StandardClaims::default()
        },
        ..ConfigUser::with_password("alice", "alice-password")
    }
}

fn admin() -> ConfigUser {
    ConfigUser {
        roles: vec!["admin".to_owned()],
        ..ConfigUser::with_password("admin", "admin-password")
    }
}

async fn events(stores: &Stores) -> Vec<String> {
    let mut all = stores.audit.recent(100).await.unwrap();
    all.reverse();
    all.iter()
        .map(|e| format!("{} {} {}", e.event, e.actor, e.detail))
        .collect()
}

async fn verifies(stores: &Stores, username: &str, password: &str) -> bool {
    let user = stores
        .users
        .user_by_username(username)
        .await
        .unwrap()
        .unwrap();
    Passwords::new(&small())
        .verify(user.password_hash.as_deref(), password)
        .await
        .unwrap()
        .ok
}

async fn config_users_keep_their_ids_and_hashes_across_restarts(backend: Backend) {
    let at = location(backend).await;
    let first = open(&at.settings).await.unwrap();
    ops(&first)
        .seed_config_users(&[alice(), admin()], t(100))
        .await
        .unwrap();
    let seeded = first.users.users().await.unwrap();
    let [admin_1, alice_1] = seeded.as_slice() else {
        panic!("{seeded:?}");
    };
    assert_eq!(alice_1.origin, UserOrigin::Config);
    assert_eq!(alice_1.roles, ["user"]);
    assert_eq!(alice_1.claims.name.as_deref(), Some("Alice Example"));
    assert_eq!((alice_1.created_at, alice_1.updated_at), (t(100), t(100)));
    assert!(
        alice_1
            .password_hash
            .as_deref()
            .unwrap()
            .starts_with("$argon2id$")
    );
    assert!(verifies(&first, "alice", "alice-password").await);
    assert!(!verifies(&first, "alice", "admin-password").await);
    assert_ne!(alice_1.id, admin_1.id);

    // A restart with the same config: the same ids, the same hashes, nothing written.
    let second = restart(&at, backend, &first).await;
    ops(&second)
        .seed_config_users(&[alice(), admin()], t(200))
        .await
        .unwrap();
    assert_eq!(second.users.users().await.unwrap(), seeded);

    // Changed claims and a changed password: the same id, updated.
    let third = restart(&at, backend, &second).await;
    let changed = ConfigUser {
        password: Some(Password::new("alice-new-password")),
        claims: StandardClaims {
            name: Some("Alice Changed".to_owned()),
            ..StandardClaims::default()
        },
        ..alice()
    };
    ops(&third)
        .seed_config_users(&[changed, admin()], t(300))
        .await
        .unwrap();
    let alice_3 = third
        .users
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice_3.id, alice_1.id, "the sub survives");
    assert_eq!(alice_3.claims.name.as_deref(), Some("Alice Changed"));
    assert_eq!((alice_3.created_at, alice_3.updated_at), (t(100), t(300)));
    assert!(verifies(&third, "alice", "alice-new-password").await);
    assert!(!verifies(&third, "alice", "alice-password").await);
    assert_eq!(
        third
            .users
            .user_by_username("admin")
            .await
            .unwrap()
            .as_ref(),
        Some(admin_1)
    );
    let log = events(&third).await;
    let (created, changed) = (
        "user_created system username alice".to_owned(),
        "password_changed system ".to_owned(),
    );
    assert_eq!(log.iter().filter(|l| **l == created).count(), 1, "{log:?}");
    assert_eq!(log.iter().filter(|l| **l == changed).count(), 1, "{log:?}");

    // Parameters raised: the stored hash no longer has them, so the config's password is
    // hashed anew with them.
    let fourth = restart(&at, backend, &third).await;
    let stronger = Ops::new(fourth.clone(), Settings::default().keys.lifecycle(), false)
        .with_passwords(Arc::new(Passwords::new(&PasswordSettings {
            memory_kib: 2048,
            ..small()
        })));
    stronger
        .seed_config_users(&[alice(), admin()], t(400))
        .await
        .unwrap();
    let admin_4 = fourth
        .users
        .user_by_username("admin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin_4.id, admin_1.id);
    assert!(
        admin_4
            .password_hash
            .as_deref()
            .unwrap()
            .starts_with("$argon2id$v=19$m=2048,t=1,p=1$")
    );
    assert!(verifies(&fourth, "admin", "admin-password").await);
}

async fn a_user_removed_from_the_config_is_disabled_and_audited(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let ops = ops(&stores);
    ops.seed_config_users(&[alice(), admin()], t(100))
        .await
        .unwrap();
    let bob = ops
        .create_user(&Actor::Cli, new_user("bob", "bob-password"), t(110))
        .await
        .unwrap();
    let admin_id = stores
        .users
        .user_by_username("admin")
        .await
        .unwrap()
        .unwrap()
        .id;

    let restarted = restart(&at, backend, &stores).await;
    let ops = self::ops(&restarted);
    ops.seed_config_users(&[alice()], t(200)).await.unwrap();
    let gone = restarted.users.user(&admin_id).await.unwrap().unwrap();
    assert_eq!(
        (gone.status, gone.updated_at),
        (UserStatus::Disabled, t(200))
    );
    let bob_now = restarted.users.user(&bob.id).await.unwrap().unwrap();
    assert_eq!(
        bob_now, bob,
        "an account the config does not manage is untouched"
    );
    assert!(
        restarted
            .users
            .user_by_username("alice")
            .await
            .unwrap()
            .unwrap()
            .enabled()
    );
    let log = events(&restarted).await;
    assert_eq!(
        log.last().unwrap(),
        "user_disabled system removed from the config",
        "{log:?}"
    );
    // A start with an empty [[users]] disables the rest; a second changes nothing more.
    ops.seed_config_users(&[], t(300)).await.unwrap();
    ops.seed_config_users(&[], t(400)).await.unwrap();
    let disabled = events(&restarted)
        .await
        .iter()
        .filter(|l| l.starts_with("user_disabled"))
        .count();
    assert_eq!(disabled, 2);
    assert!(
        restarted
            .users
            .user(&bob.id)
            .await
            .unwrap()
            .unwrap()
            .enabled()
    );

    // Listed again: the config is authoritative, so it is active again, under its old id.
    ops.seed_config_users(&[alice(), admin()], t(500))
        .await
        .unwrap();
    let back = restarted.users.user(&admin_id).await.unwrap().unwrap();
    assert!(back.enabled());
}

async fn the_config_cannot_take_over_an_administrations_username(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let ops = ops(&stores);
    let bob = ops
        .create_user(&Actor::Cli, new_user("bob", "bob-password"), t(100))
        .await
        .unwrap();
    let e = ops
        .seed_config_users(
            &[ConfigUser::with_password("bob", "config-password")],
            t(200),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, SeedUsersError::NotTheConfigs { username, origin: UserOrigin::Administration } if username == "bob"),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("`users`: \"bob\""), "{e}");
    assert_eq!(stores.users.user(&bob.id).await.unwrap().unwrap(), bob);
    assert!(verifies(&stores, "bob", "bob-password").await);
}

fn new_user(username: &str, password: &str) -> NewUser {
    NewUser {
        username: username.to_owned(),
        password: Password::new(password),
        roles: vec!["user".to_owned()],
        claims: StandardClaims {
            email: Some(format!("{username}@example.com")),
            ..StandardClaims::default()
        },
    }
}

async fn operations_create_change_and_disable_accounts(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let ops = ops(&stores);
    ops.seed_config_users(&[alice()], t(50)).await.unwrap();
    let cli = Actor::Cli;
    let carol = ops
        .create_user(&cli, new_user("carol", "carol-password"), t(100))
        .await
        .unwrap();
    assert_eq!(
        (carol.origin, carol.status, carol.created_at),
        (UserOrigin::Administration, UserStatus::Active, t(100))
    );
    assert_eq!(
        stores.users.user(&carol.id).await.unwrap().as_ref(),
        Some(&carol)
    );
    assert!(verifies(&stores, "carol", "carol-password").await);
    let listed: Vec<String> = ops
        .list_users(&cli)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(listed, ["alice", "carol"]);

    let refusals = [
        ops.create_user(&cli, new_user("carol", "another-password"), t(110))
            .await
            .unwrap_err(),
        ops.create_user(&cli, new_user("alice", "another-password"), t(110))
            .await
            .unwrap_err(),
        ops.create_user(&cli, new_user("dave", "short"), t(110))
            .await
            .unwrap_err(),
        ops.create_user(&cli, new_user(" dave", "dave-password"), t(110))
            .await
            .unwrap_err(),
        ops.create_user(
            &Actor::Client("service-client-jwt".to_owned()),
            new_user("dave", "dave-password"),
            t(110),
        )
        .await
        .unwrap_err(),
    ];
    assert!(matches!(&refusals[0], UserOpsError::UsernameTaken(u) if u == "carol"));
    assert_eq!(refusals[0].to_string(), "the username \"carol\" is taken");
    assert!(matches!(&refusals[1], UserOpsError::UsernameTaken(u) if u == "alice"));
    assert!(matches!(
        &refusals[2],
        UserOpsError::Password(PasswordError::Policy(_))
    ));
    assert!(matches!(
        &refusals[3],
        UserOpsError::Invalid {
            field: "username",
            ..
        }
    ));
    assert!(matches!(&refusals[4], UserOpsError::Forbidden));
    assert!(
        stores
            .users
            .user_by_username("dave")
            .await
            .unwrap()
            .is_none()
    );

    ops.set_password(&cli, "carol", &Password::new("carol-new-password"), t(200))
        .await
        .unwrap();
    assert!(verifies(&stores, "carol", "carol-new-password").await);
    assert!(!verifies(&stores, "carol", "carol-password").await);
    assert!(matches!(
        ops.set_password(&cli, "carol", &Password::new("short"), t(210))
            .await,
        Err(UserOpsError::Password(PasswordError::Policy(_)))
    ));
    assert!(matches!(
        ops.set_password(&cli, "nobody", &Password::new("nobody-password"), t(210))
            .await,
        Err(UserOpsError::UnknownUser(_))
    ));
    // The config's accounts are changed in the config.
    assert!(matches!(
        ops.set_password(
            &cli,
            "alice",
            &Password::new("alice-other-password"),
            t(210)
        )
        .await,
        Err(UserOpsError::ManagedByConfig(_))
    ));
    assert!(matches!(
        ops.disable_user(&cli, "alice", t(210)).await,
        Err(UserOpsError::ManagedByConfig(_))
    ));

    assert!(ops.disable_user(&cli, "carol", t(300)).await.unwrap());
    assert!(
        !ops.disable_user(&cli, "carol", t(310)).await.unwrap(),
        "already"
    );
    let disabled = stores.users.user(&carol.id).await.unwrap().unwrap();
    assert_eq!(
        (disabled.status, disabled.updated_at),
        (UserStatus::Disabled, t(300))
    );

    let log = events(&stores).await;
    let mine: Vec<&String> = log.iter().filter(|l| l.contains(" cli ")).collect();
    assert_eq!(
        mine,
        [
            "user_created cli username carol",
            "password_changed cli ",
            "user_disabled cli disabled by an administrator",
        ],
        "{log:?}"
    );
    assert!(
        !log.iter()
            .any(|l| l.contains("password\"") || l.contains("$argon2"))
    );
}

/// The app seeds the playground's users at start-up, and they sign in with the playground's
/// passwords (hashed with the default parameters).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_users_are_seeded_and_sign_in() {
    let settings = playground_settings();
    let stores = Stores::memory();
    AppState::with_stores(&settings, stores.clone(), Clock::system())
        .await
        .unwrap();
    let sign_in = SignIn::new(&settings, &stores);
    let now = UnixTime::from_secs(1_000);
    let alice = sign_in
        .sign_in("alice", "alice-password", None, now)
        .await
        .unwrap();
    assert_eq!(alice.roles, ["user"]);
    assert_eq!(alice.claims.email.as_deref(), Some("alice@example.com"));
    assert_eq!(alice.claims.email_verified, Some(true));
    assert_eq!(alice.claims.given_name.as_deref(), Some("Alice"));
    assert!(
        alice
            .password_hash
            .as_deref()
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    let admin = sign_in
        .sign_in("admin", "admin-password", None, now)
        .await
        .unwrap();
    assert!(admin.has_role("admin") && !admin.has_role("user"));
    assert!(matches!(
        sign_in.sign_in("alice", "admin-password", None, now).await,
        Err(SignInError::Invalid)
    ));
    assert!(matches!(
        sign_in.sign_in("carol", "alice-password", None, now).await,
        Err(SignInError::Invalid)
    ));
}
