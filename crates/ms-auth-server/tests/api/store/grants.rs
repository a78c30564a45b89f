//! Codes and refresh tokens on every backend: consumed once, rotated once, families revoked.

use ms_auth_server::store::grants::{CodeGrant, CodeUse, RefreshGrant, Rotation, credential_hash};

use super::{Backend, location, replicas, t};

per_backend!(
    a_code_is_consumed_once_and_a_replay_revokes_its_family,
    a_refresh_token_rotates_once_and_reuse_revokes_the_family,
);

pub fn code(family: &str, expires_at: i64) -> CodeGrant {
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

pub fn refresh(family: &str, expires_at: i64) -> RefreshGrant {
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
