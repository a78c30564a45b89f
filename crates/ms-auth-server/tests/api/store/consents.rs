//! [`ConsentStore`](ms_auth_server::store::ConsentStore) on every backend (OIDC Core
//! §3.1.2.4): a grant adds to what was allowed, also when replicas grant at once; a consent
//! covers exactly its scopes; revoking forgets it.

use ms_auth_server::store::Consent;

use super::{Backend, location, open, replicas, t};

per_backend!(
    a_grant_adds_to_what_was_allowed_and_covers_only_that,
    concurrent_grants_of_different_scopes_are_all_kept,
    consents_are_listed_per_user_and_revoked_once,
);

async fn a_grant_adds_to_what_was_allowed_and_covers_only_that(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let c = stores.consents.as_ref();
    assert_eq!(c.consent("user-1", "web").await.unwrap(), None);
    c.grant_consent("user-1", "web", "openid profile", t(100))
        .await
        .unwrap();
    c.grant_consent("user-1", "web", "profile  email openid", t(200))
        .await
        .unwrap();
    let consent = c.consent("user-1", "web").await.unwrap().unwrap();
    assert_eq!(
        consent,
        Consent {
            user_id: "user-1".to_owned(),
            client_id: "web".to_owned(),
            scope: "openid profile email".to_owned(),
            granted_at: t(200),
        },
        "a union, in the order first granted, each scope once"
    );
    assert!(consent.covers("openid email"));
    assert!(consent.covers(""), "nothing asked, nothing to ask");
    assert!(!consent.covers("openid customer.read"));
    assert!(!consent.covers("open"), "whole scopes, not prefixes");
    c.grant_consent("user-1", "web", "openid", t(300))
        .await
        .unwrap();
    let again = c.consent("user-1", "web").await.unwrap().unwrap();
    assert_eq!(
        (again.scope.as_str(), again.granted_at),
        ("openid profile email", t(300)),
        "asking for less forgets nothing"
    );
    assert_eq!(c.consent("user-1", "other").await.unwrap(), None);
    assert_eq!(c.consent("user-2", "web").await.unwrap(), None);
}

async fn concurrent_grants_of_different_scopes_are_all_kept(backend: Backend) {
    let at = location(backend).await;
    let all = replicas(&at, backend, 4).await;
    // Two consent pages answered at once, on different replicas, for a user who had none.
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let consents = all[i % all.len()].consents.clone();
            tokio::spawn(async move {
                consents
                    .grant_consent("user-1", "web", &format!("openid scope-{}", i % 6), t(100))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let consent = all[0]
        .consents
        .consent("user-1", "web")
        .await
        .unwrap()
        .unwrap();
    let mut scopes: Vec<&str> = consent.scope.split(' ').collect();
    scopes.sort_unstable();
    let mut expected = vec!["openid".to_owned()];
    expected.extend((0..6).map(|i| format!("scope-{i}")));
    assert_eq!(scopes, expected, "every grant kept, each scope once");
}

async fn consents_are_listed_per_user_and_revoked_once(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let c = stores.consents.as_ref();
    for (user, client, scope) in [
        ("user-1", "web", "openid"),
        ("user-1", "app", "openid profile"),
        ("user-2", "web", "email"),
    ] {
        c.grant_consent(user, client, scope, t(100)).await.unwrap();
    }
    let listed = c.consents_of("user-1").await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|c| (c.client_id.as_str(), c.scope.as_str()))
            .collect::<Vec<_>>(),
        [("app", "openid profile"), ("web", "openid")],
        "by client id"
    );
    assert!(c.revoke_consent("user-1", "web").await.unwrap());
    assert!(!c.revoke_consent("user-1", "web").await.unwrap(), "once");
    assert!(!c.revoke_consent("user-3", "web").await.unwrap());
    assert_eq!(c.consent("user-1", "web").await.unwrap(), None);
    assert_eq!(c.consents_of("user-1").await.unwrap().len(), 1);
    assert!(
        c.consent("user-2", "web").await.unwrap().is_some(),
        "another user's consent to the same client stays"
    );
    // Asked again after a revocation, the consent starts afresh.
    c.grant_consent("user-1", "web", "profile", t(400))
        .await
        .unwrap();
    assert_eq!(
        c.consent("user-1", "web").await.unwrap().unwrap().scope,
        "profile"
    );
}
