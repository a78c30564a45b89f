//! [`UserStore`](ms_auth_server::store::UserStore) on every backend.

use ms_auth_server::{
    identity::{StandardClaims, User, UserOrigin, UserStatus},
    store::PutUserError,
};

use super::{Backend, location, open, raw, t};

per_backend!(
    users_round_trip_by_id_and_username,
    a_username_is_held_by_one_account,
    put_replaces_every_field_of_its_id,
    password_and_status_change_in_place,
);

per_sql_backend!(a_row_with_claims_unknown_to_its_columns_reads_with_defaults);

pub fn user(id: &str, username: &str) -> User {
    User {
        id: id.to_owned(),
        username: username.to_owned(),
        password_hash: Some(format!("$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ${id}")),
        roles: vec!["user".to_owned()],
        status: UserStatus::Active,
        origin: UserOrigin::Administration,
        claims: StandardClaims::default(),
        created_at: t(100),
        updated_at: t(100),
    }
}

async fn users_round_trip_by_id_and_username(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    assert!(stores.users.user("u-1").await.unwrap().is_none());
    assert!(
        stores
            .users
            .user_by_username("zoë")
            .await
            .unwrap()
            .is_none()
    );
    assert!(stores.users.users().await.unwrap().is_empty());
    let zoe = User {
        roles: vec!["admin".to_owned(), "user".to_owned()],
        origin: UserOrigin::Config,
        claims: StandardClaims {
            name: Some("Zoë Ñúñez 山田".to_owned()),
            given_name: Some("Zoë".to_owned()),
            email: Some("zoe@example.com".to_owned()),
            email_verified: Some(true),
            phone_number_verified: Some(false),
            locale: Some("es-MX".to_owned()),
            ..StandardClaims::default()
        },
        ..user("u-1", "zoë")
    };
    let bob = User {
        password_hash: None,
        roles: Vec::new(),
        ..user("u-2", "bob")
    };
    stores.users.put_user(&zoe).await.unwrap();
    stores.users.put_user(&bob).await.unwrap();
    assert_eq!(stores.users.user("u-1").await.unwrap(), Some(zoe.clone()));
    assert_eq!(
        stores.users.user_by_username("zoë").await.unwrap(),
        Some(zoe.clone())
    );
    assert_eq!(stores.users.user("u-2").await.unwrap(), Some(bob.clone()));
    // Exactly: no case folding, no trimming.
    assert!(
        stores
            .users
            .user_by_username("Zoë")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        stores
            .users
            .user_by_username("bob ")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        stores
            .users
            .user_by_username("u-1")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        stores.users.users().await.unwrap(),
        [bob, zoe],
        "by username"
    );
}

async fn a_username_is_held_by_one_account(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    stores.users.put_user(&user("u-1", "alice")).await.unwrap();
    let taken = stores.users.put_user(&user("u-2", "alice")).await;
    assert!(
        matches!(&taken, Err(PutUserError::UsernameTaken(u)) if u == "alice"),
        "{taken:?}"
    );
    assert!(stores.users.user("u-2").await.unwrap().is_none());
    // A rename onto a taken name is refused too, and changes nothing.
    stores.users.put_user(&user("u-2", "bob")).await.unwrap();
    assert!(matches!(
        stores.users.put_user(&user("u-2", "alice")).await,
        Err(PutUserError::UsernameTaken(_))
    ));
    assert_eq!(
        stores.users.user("u-2").await.unwrap().unwrap().username,
        "bob"
    );
    // Another case is another name.
    stores.users.put_user(&user("u-3", "Alice")).await.unwrap();
    assert_eq!(stores.users.users().await.unwrap().len(), 3);
}

async fn put_replaces_every_field_of_its_id(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    stores
        .users
        .put_user(&User {
            claims: StandardClaims {
                nickname: Some("al".to_owned()),
                ..StandardClaims::default()
            },
            ..user("u-1", "alice")
        })
        .await
        .unwrap();
    let renamed = User {
        username: "alice2".to_owned(),
        password_hash: None,
        roles: vec!["admin".to_owned()],
        status: UserStatus::Disabled,
        origin: UserOrigin::Config,
        claims: StandardClaims {
            email: Some("a@example.com".to_owned()),
            ..StandardClaims::default()
        },
        created_at: t(5),
        updated_at: t(200),
        ..user("u-1", "alice")
    };
    stores.users.put_user(&renamed).await.unwrap();
    assert_eq!(
        stores.users.user("u-1").await.unwrap(),
        Some(renamed.clone())
    );
    assert!(
        stores
            .users
            .user_by_username("alice")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(stores.users.users().await.unwrap(), [renamed]);
    // The old name is free again.
    stores.users.put_user(&user("u-9", "alice")).await.unwrap();
}

async fn password_and_status_change_in_place(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let alice = user("u-1", "alice");
    stores.users.put_user(&alice).await.unwrap();
    stores.users.put_user(&user("u-2", "bob")).await.unwrap();
    assert!(
        stores
            .users
            .set_password("u-1", "$argon2id$new", t(300))
            .await
            .unwrap()
    );
    assert!(
        stores
            .users
            .set_status("u-1", UserStatus::Disabled, t(400))
            .await
            .unwrap()
    );
    let changed = stores.users.user("u-1").await.unwrap().unwrap();
    assert_eq!(
        changed,
        User {
            password_hash: Some("$argon2id$new".to_owned()),
            status: UserStatus::Disabled,
            updated_at: t(400),
            ..alice
        }
    );
    assert!(!changed.enabled());
    let bob = stores.users.user("u-2").await.unwrap().unwrap();
    assert_eq!(bob, user("u-2", "bob"), "the other account is untouched");
    assert!(
        !stores
            .users
            .set_password("nobody", "$x", t(1))
            .await
            .unwrap()
    );
    assert!(
        !stores
            .users
            .set_status("nobody", UserStatus::Active, t(1))
            .await
            .unwrap()
    );
    assert!(stores.users.user("nobody").await.unwrap().is_none());
}

/// A row as a hand (or an older migration) writes it: claims with only some keys, defaults
/// for the others.
async fn a_row_with_claims_unknown_to_its_columns_reads_with_defaults(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    raw(
        &at,
        "INSERT INTO users (id, username, status, origin, created_at, updated_at) \
         VALUES ('u-1', 'old', 'active', 'config', 1, 2)",
    )
    .await;
    raw(
        &at,
        "INSERT INTO users (id, username, password_hash, roles, status, origin, claims, created_at, updated_at) \
         VALUES ('u-2', 'some', NULL, '[\"a\"]', 'disabled', 'administration', '{\"email\":\"s@example.com\"}', 3, 4)",
    )
    .await;
    let old = stores.users.user("u-1").await.unwrap().unwrap();
    assert_eq!(
        old,
        User {
            id: "u-1".to_owned(),
            username: "old".to_owned(),
            password_hash: None,
            roles: Vec::new(),
            status: UserStatus::Active,
            origin: UserOrigin::Config,
            claims: StandardClaims::default(),
            created_at: t(1),
            updated_at: t(2),
        }
    );
    let some = stores
        .users
        .user_by_username("some")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(some.claims.email.as_deref(), Some("s@example.com"));
    assert_eq!(
        (some.status, some.origin),
        (UserStatus::Disabled, UserOrigin::Administration)
    );
    assert_eq!(some.roles, ["a"]);
}
