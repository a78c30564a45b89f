//! [`KeyStore`](ms_auth_server::store::KeyStore) on every backend: one active key among
//! racing replicas, rotation, revocation, and seals that bind each row.

use std::time::Duration;

use ms_auth_server::{
    App,
    keys::{SigningAlgorithm, SigningKey},
    store::{KeyState, StoreError, StoredKey, sealing::Sealer},
};
use sqlx::Connection;

use super::{Backend, ENCRYPTION_KEY, location, open, raw, replicas, t};
use crate::helpers::playground_settings;

per_sql_backend!(
    an_edited_key_row_does_not_open,
    a_key_row_sealed_to_its_kid_alone_is_resealed_on_open,
);

per_backend!(
    a_revocation_activates_a_key_at_once_and_never_leaves_none,
    exactly_one_active_key_among_concurrent_starters,
    a_rotation_promotes_once_then_retires_and_removes,
);

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
