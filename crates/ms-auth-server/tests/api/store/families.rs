//! Refresh families revoked by who they were issued to, on every backend: revoking a consent
//! takes down the user's families for that client (or for all), logout those of the session
//! (offline families, stored with no session, survive it), deleting a registration those of
//! its client for every user. Each names the live access tokens
//! of the families it found, for the denylist.

use ms_auth_server::store::{CodeUse, FamilyRevoked, RefreshGrant, Rotation, credential_hash};

use super::{
    Backend,
    codes::{access, code},
    location, open,
    refresh::{live, refresh, rotate},
    t,
};

per_backend!(
    revoking_a_users_families_for_a_client_leaves_the_others,
    logout_revokes_the_sessions_families_and_spares_offline_ones,
    a_deleted_clients_families_are_revoked_for_every_user,
);

/// A family's first token, issued to `user` for `client` in `session`.
fn issued(family: &str, user: &str, client: &str, session: Option<&str>) -> RefreshGrant {
    RefreshGrant {
        user_id: Some(user.to_owned()),
        client_id: client.to_owned(),
        session_id: session.map(str::to_owned),
        ..refresh(family, 5_000)
    }
}

async fn revoking_a_users_families_for_a_client_leaves_the_others(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let g = stores.refresh.as_ref();
    for (token, grant) in [
        ("web-1", issued("fam-web-1", "user-1", "web", Some("sid-1"))),
        ("web-2", issued("fam-web-2", "user-1", "web", None)),
        ("app", issued("fam-app", "user-1", "app", Some("sid-1"))),
        ("bob", issued("fam-bob", "user-2", "web", Some("sid-2"))),
    ] {
        g.put_refresh(&credential_hash(token), &grant)
            .await
            .unwrap();
    }
    // A rotation: its spent token is revoked too.
    assert!(matches!(
        rotate(g, "web-1", "web-1b", 5_000, 100, 200).await,
        Rotation::Rotated(_)
    ));
    g.record_access("fam-web-1", &access("at-web-1", 3_000))
        .await
        .unwrap();
    g.record_access("fam-web-1", &access("at-web-1-old", 500))
        .await
        .unwrap();
    g.record_access("fam-bob", &access("at-bob", 3_000))
        .await
        .unwrap();
    // An exchange that issued no refresh token: the family is known by its code.
    stores
        .codes
        .put_code(&credential_hash("code"), &code("fam-code", 2_000))
        .await
        .unwrap();
    assert!(matches!(
        stores
            .codes
            .consume_code(&credential_hash("code"), t(900))
            .await
            .unwrap(),
        CodeUse::Fresh(_)
    ));
    g.record_access("fam-code", &access("at-code", 3_000))
        .await
        .unwrap();

    let now = t(1_000);
    let done = g
        .revoke_user_families("user-1", Some("web"), now)
        .await
        .unwrap();
    assert_eq!(
        done,
        FamilyRevoked {
            revoked: 3,
            access: vec![access("at-code", 3_000), access("at-web-1", 3_000)],
        },
        "web-1, web-1b and web-2; the live access tokens of those families and the code's"
    );
    assert_eq!(live(g, "web-1b", 1_000).await, None);
    assert_eq!(live(g, "web-2", 1_000).await, None, "offline ones too");
    assert!(live(g, "app", 1_000).await.is_some(), "another client");
    assert!(live(g, "bob", 1_000).await.is_some(), "another user");

    // A retry (the denylist failed) names the access tokens again; all clients now.
    let all = g.revoke_user_families("user-1", None, now).await.unwrap();
    assert_eq!(
        all,
        FamilyRevoked {
            revoked: 1,
            access: vec![access("at-code", 3_000), access("at-web-1", 3_000)],
        }
    );
    assert_eq!(live(g, "app", 1_000).await, None);
    assert!(live(g, "bob", 1_000).await.is_some());
    assert_eq!(
        g.revoke_user_families("user-9", None, now).await.unwrap(),
        FamilyRevoked {
            revoked: 0,
            access: Vec::new(),
        }
    );
}

async fn logout_revokes_the_sessions_families_and_spares_offline_ones(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let g = stores.refresh.as_ref();
    for (token, grant) in [
        ("web", issued("fam-web", "user-1", "web", Some("sid-1"))),
        ("app", issued("fam-app", "user-1", "app", Some("sid-1"))),
        ("offline", issued("fam-offline", "user-1", "web", None)),
        ("other", issued("fam-other", "user-1", "web", Some("sid-2"))),
    ] {
        g.put_refresh(&credential_hash(token), &grant)
            .await
            .unwrap();
    }
    g.record_access("fam-app", &access("at-app", 3_000))
        .await
        .unwrap();
    g.record_access("fam-offline", &access("at-offline", 3_000))
        .await
        .unwrap();
    let done = g.revoke_session_families("sid-1", t(1_000)).await.unwrap();
    assert_eq!(
        done,
        FamilyRevoked {
            revoked: 2,
            access: vec![access("at-app", 3_000)],
        }
    );
    assert_eq!(live(g, "web", 1_000).await, None);
    assert_eq!(live(g, "app", 1_000).await, None);
    assert!(
        live(g, "offline", 1_000).await.is_some(),
        "offline access outlives the session"
    );
    assert!(live(g, "other", 1_000).await.is_some(), "another session");
    assert_eq!(
        g.revoke_session_families("sid-unknown", t(1_000))
            .await
            .unwrap()
            .revoked,
        0
    );
}

async fn a_deleted_clients_families_are_revoked_for_every_user(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let g = stores.refresh.as_ref();
    for (token, grant) in [
        (
            "alice",
            issued("fam-alice", "user-1", "gone", Some("sid-1")),
        ),
        ("bob", issued("fam-bob", "user-2", "gone", None)),
        ("other", issued("fam-other", "user-1", "web", Some("sid-1"))),
    ] {
        g.put_refresh(&credential_hash(token), &grant)
            .await
            .unwrap();
    }
    g.record_access("fam-bob", &access("at-bob", 3_000))
        .await
        .unwrap();
    // An exchange that issued no refresh token: the family is known by its code.
    let mut c = code("fam-code", 2_000);
    c.client_id = "gone".to_owned();
    stores
        .codes
        .put_code(&credential_hash("code"), &c)
        .await
        .unwrap();
    g.record_access("fam-code", &access("at-code", 3_000))
        .await
        .unwrap();
    let done = g.revoke_client_families("gone", t(1_000)).await.unwrap();
    assert_eq!(
        done,
        FamilyRevoked {
            revoked: 2,
            access: vec![access("at-bob", 3_000), access("at-code", 3_000)],
        }
    );
    assert_eq!(live(g, "alice", 1_000).await, None);
    assert_eq!(live(g, "bob", 1_000).await, None);
    assert!(live(g, "other", 1_000).await.is_some(), "another client");
}
