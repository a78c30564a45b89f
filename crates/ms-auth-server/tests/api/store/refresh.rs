//! [`RefreshTokenStore`](ms_auth_server::store::RefreshTokenStore) on every backend: a token
//! rotates once, a reuse revokes its family (RFC 9700 §4.14.2), one retry within the grace
//! window gets the same successor, a family ends at its absolute expiry, and what revokes a
//! family names the access tokens issued from it.

use ms_auth_server::store::{
    FamilyRevoked, RefreshGrant, RefreshTokenStore, Rotation, StoreError, Successor,
    credential_hash,
};

use super::{Backend, codes::access, count, location, open, raw, replicas, t};

per_backend!(
    a_refresh_token_rotates_once_and_reuse_revokes_the_family,
    a_retry_within_the_grace_window_gets_the_same_successor_once,
    of_concurrent_presentations_within_the_grace_window_one_rotates_and_one_retries,
    a_family_ends_at_its_absolute_expiry,
    a_reuse_or_a_revocation_names_the_live_access_tokens_of_the_family,
    pruning_removes_dead_families_and_keeps_what_reuse_detection_needs,
);

per_sql_backend!(a_refresh_row_reads_whatever_its_details_hold);

/// A first token with every field set; its family has no absolute end in sight.
pub fn refresh(family: &str, expires_at: i64) -> RefreshGrant {
    RefreshGrant {
        family_id: family.to_owned(),
        client_id: "web".to_owned(),
        subject: "alice".to_owned(),
        scope: "openid".to_owned(),
        user_id: Some("user-1".to_owned()),
        session_id: Some("sid-1".to_owned()),
        acr: Some("urn:mace:incommon:iap:silver".to_owned()),
        amr: vec!["pwd".to_owned()],
        issued_at: t(100),
        expires_at: t(expires_at),
        family_expires_at: t(i64::MAX),
    }
}

/// What the caller would hand the store as a token's sealed value: opaque to it.
fn sealed(token: &str) -> String {
    format!("sealed:{token}")
}

/// Presents `old` at `now`, offering `new` (expiring at `expires_at`) as its successor, with
/// a grace window until `grace_until`.
async fn rotate(
    store: &dyn RefreshTokenStore,
    old: &str,
    new: &str,
    expires_at: i64,
    grace_until: i64,
    now: i64,
) -> Rotation {
    let (hash, sealed) = (credential_hash(new), sealed(new));
    store
        .rotate_refresh(
            &credential_hash(old),
            Successor {
                hash: &hash,
                sealed: &sealed,
                expires_at: t(expires_at),
            },
            t(grace_until),
            t(now),
        )
        .await
        .unwrap()
}

async fn live(store: &dyn RefreshTokenStore, token: &str, now: i64) -> Option<RefreshGrant> {
    store
        .refresh(&credential_hash(token), t(now))
        .await
        .unwrap()
}

async fn a_refresh_token_rotates_once_and_reuse_revokes_the_family(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 4).await;
    let g = stores[0].refresh.as_ref();
    let hash = |s: &str| credential_hash(s);
    // In sequence: r0 → r1 → r2; r0 again is reuse and takes r2 down with the family. No grace
    // window: `grace_until` is `now`.
    g.put_refresh(&hash("r0"), &refresh("fam", 5_000))
        .await
        .unwrap();
    let r1 = rotate(g, "r0", "r1", 6_000, 200, 200).await;
    assert_eq!(
        r1,
        Rotation::Rotated(RefreshGrant {
            issued_at: t(200),
            expires_at: t(6_000),
            ..refresh("fam", 5_000)
        })
    );
    assert!(live(g, "r0", 200).await.is_none(), "spent");
    assert!(live(g, "r1", 200).await.is_some());
    assert!(matches!(
        rotate(g, "r1", "r2", 7_000, 300, 300).await,
        Rotation::Rotated(_)
    ));
    assert_eq!(
        rotate(g, "r0", "x", 7_000, 400, 400).await,
        Rotation::Reused {
            family_id: "fam".to_owned(),
            access: vec![],
        }
    );
    assert!(live(g, "r2", 400).await.is_none(), "family revoked");
    assert_eq!(
        rotate(g, "r2", "r3", 7_000, 400, 400).await,
        Rotation::Invalid
    );

    // Racing: of 16 concurrent rotations of one token exactly one succeeds; the others are
    // reuse, so the family ends revoked.
    g.put_refresh(&hash("s0"), &refresh("race", 5_000))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let g = stores[i % stores.len()].refresh.clone();
            tokio::spawn(async move {
                rotate(g.as_ref(), "s0", &format!("s1-{i}"), 6_000, 200, 200).await
            })
        })
        .collect();
    let mut rotated = 0;
    for t in tasks {
        match t.await.unwrap() {
            Rotation::Rotated(_) => rotated += 1,
            Rotation::Reused { family_id, .. } => assert_eq!(family_id, "race"),
            other => panic!("the token was current, with no grace window: {other:?}"),
        }
    }
    assert_eq!(rotated, 1, "exactly one rotation wins");
    for i in 0..16 {
        assert!(live(g, &format!("s1-{i}"), 200).await.is_none());
    }
    // Expired tokens do not rotate; revoking a family counts what it revoked.
    g.put_refresh(&hash("old"), &refresh("exp", 100))
        .await
        .unwrap();
    assert_eq!(
        rotate(g, "old", "n", 900, 100, 100).await,
        Rotation::Invalid
    );
    g.put_refresh(&hash("a"), &refresh("f2", 5_000))
        .await
        .unwrap();
    g.put_refresh(&hash("b"), &refresh("f2", 5_000))
        .await
        .unwrap();
    assert_eq!(g.revoke_family("f2", t(10)).await.unwrap().revoked, 2);
    assert_eq!(g.revoke_family("f2", t(10)).await.unwrap().revoked, 0);
}

/// A client that lost the response to a rotation presents the old token again: within the
/// grace window, while the successor is unused, it is given the same successor — once. A
/// second retry, a retry after the window, or one after the successor was used is reuse.
async fn a_retry_within_the_grace_window_gets_the_same_successor_once(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 2).await;
    let (g, other) = (
        stores[0].refresh.as_ref(),
        stores[stores.len() - 1].refresh.as_ref(),
    );
    g.put_refresh(&credential_hash("g0"), &refresh("grace", 5_000))
        .await
        .unwrap();
    let Rotation::Rotated(grant) = rotate(g, "g0", "g1", 6_000, 230, 200).await else {
        panic!("current")
    };
    assert_eq!(
        rotate(other, "g0", "g1-bis", 6_000, 240, 210).await,
        Rotation::Retried {
            grant: grant.clone(),
            successor_sealed: sealed("g1"),
        },
        "the same successor, not a new one"
    );
    assert_eq!(live(g, "g1", 210).await, Some(grant));
    assert!(live(g, "g1-bis", 210).await.is_none(), "nothing new stored");
    assert_eq!(
        rotate(g, "g0", "g1-ter", 6_000, 250, 220).await,
        Rotation::Reused {
            family_id: "grace".to_owned(),
            access: vec![],
        },
        "once"
    );
    assert!(live(g, "g1", 220).await.is_none(), "family revoked");

    // After the window: reuse.
    g.put_refresh(&credential_hash("w0"), &refresh("window", 5_000))
        .await
        .unwrap();
    assert!(matches!(
        rotate(g, "w0", "w1", 6_000, 230, 200).await,
        Rotation::Rotated(_)
    ));
    assert!(matches!(
        rotate(g, "w0", "w1-bis", 6_000, 260, 230).await,
        Rotation::Reused { .. }
    ));
    assert!(live(g, "w1", 230).await.is_none());

    // The successor was used already: the old token again is reuse, even within the window.
    g.put_refresh(&credential_hash("u0"), &refresh("used", 5_000))
        .await
        .unwrap();
    assert!(matches!(
        rotate(g, "u0", "u1", 6_000, 300, 200).await,
        Rotation::Rotated(_)
    ));
    assert!(matches!(
        rotate(g, "u1", "u2", 6_000, 210, 210).await,
        Rotation::Rotated(_)
    ));
    assert!(matches!(
        rotate(g, "u0", "u1-bis", 6_000, 300, 220).await,
        Rotation::Reused { .. }
    ));
    assert!(live(g, "u2", 220).await.is_none());
}

/// 16 presentations of one token at once, with a grace window: one rotates, one is the retry,
/// the rest are reuse (so the family ends revoked) — on replicas of one store.
async fn of_concurrent_presentations_within_the_grace_window_one_rotates_and_one_retries(
    backend: Backend,
) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 4).await;
    stores[0]
        .refresh
        .put_refresh(&credential_hash("c0"), &refresh("concurrent", 5_000))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let g = stores[i % stores.len()].refresh.clone();
            tokio::spawn(async move {
                rotate(g.as_ref(), "c0", &format!("c1-{i}"), 6_000, 260, 200).await
            })
        })
        .collect();
    let (mut rotated, mut retried, mut reused) = (Vec::new(), Vec::new(), 0);
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Rotation::Rotated(grant) => rotated.push((i, grant)),
            Rotation::Retried {
                grant,
                successor_sealed,
            } => retried.push((grant, successor_sealed)),
            Rotation::Reused { family_id, .. } => {
                assert_eq!(family_id, "concurrent");
                reused += 1;
            }
            Rotation::Invalid => panic!("the token was current"),
        }
    }
    assert_eq!((rotated.len(), retried.len(), reused), (1, 1, 14));
    let (winner, grant) = rotated.remove(0);
    assert_eq!(
        retried[0],
        (grant, sealed(&format!("c1-{winner}"))),
        "the retry got the winner's successor"
    );
    let g = stores[0].refresh.as_ref();
    assert!(live(g, &format!("c1-{winner}"), 200).await.is_none());
}

/// However often a family rotates, no token of it outlives `family_expires_at`.
async fn a_family_ends_at_its_absolute_expiry(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let g = stores.refresh.as_ref();
    let first = RefreshGrant {
        family_expires_at: t(1_500),
        ..refresh("absolute", 1_000)
    };
    g.put_refresh(&credential_hash("a0"), &first).await.unwrap();
    assert_eq!(
        rotate(g, "a0", "a1", 2_000, 900, 900).await,
        Rotation::Rotated(RefreshGrant {
            issued_at: t(900),
            expires_at: t(1_500),
            ..first.clone()
        }),
        "the successor's expiry is capped at the family's"
    );
    assert!(live(g, "a1", 1_499).await.is_some());
    assert!(live(g, "a1", 1_500).await.is_none());
    assert_eq!(
        rotate(g, "a1", "a2", 3_000, 1_500, 1_500).await,
        Rotation::Invalid
    );
    // Its idle expiry still applies before that.
    g.put_refresh(&credential_hash("b0"), &first).await.unwrap();
    assert!(live(g, "b0", 999).await.is_some());
    assert_eq!(
        rotate(g, "b0", "b1", 2_000, 1_000, 1_000).await,
        Rotation::Invalid
    );
}

/// A reused token and a revoked family name the live access tokens issued from the family,
/// each once; expired ones and another family's are not named.
async fn a_reuse_or_a_revocation_names_the_live_access_tokens_of_the_family(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 2).await;
    let (g, other) = (
        stores[0].refresh.as_ref(),
        stores[stores.len() - 1].refresh.as_ref(),
    );
    g.put_refresh(&credential_hash("r0"), &refresh("reused", 5_000))
        .await
        .unwrap();
    g.record_access("reused", &access("at-r0", 500))
        .await
        .unwrap();
    assert!(matches!(
        rotate(g, "r0", "r1", 6_000, 100, 100).await,
        Rotation::Rotated(_)
    ));
    other
        .record_access("reused", &access("at-r1", 600))
        .await
        .unwrap();
    other
        .record_access("reused", &access("at-old", 150))
        .await
        .unwrap();
    other
        .record_access("someone-else", &access("at-x", 600))
        .await
        .unwrap();
    assert_eq!(
        rotate(other, "r0", "r1-bis", 6_000, 200, 200).await,
        Rotation::Reused {
            family_id: "reused".to_owned(),
            access: vec![access("at-r0", 500), access("at-r1", 600)],
        }
    );

    g.put_refresh(&credential_hash("q0"), &refresh("revoked", 5_000))
        .await
        .unwrap();
    g.record_access("revoked", &access("at-q", 700))
        .await
        .unwrap();
    assert_eq!(
        other.revoke_family("revoked", t(300)).await.unwrap(),
        FamilyRevoked {
            revoked: 1,
            access: vec![access("at-q", 700)],
        }
    );
    assert_eq!(
        g.revoke_family("revoked", t(800)).await.unwrap(),
        FamilyRevoked {
            revoked: 0,
            access: vec![],
        },
        "expired since"
    );
}

/// Like codes: missing or unknown fields in `details` read as meant; non-JSON is `Corrupt`.
async fn a_refresh_row_reads_whatever_its_details_hold(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let insert = |name: &str, details: &str| {
        format!(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, subject, scope, \
             issued_at, expires_at, family_expires_at, details) \
             VALUES ('{}', 'fam-{name}', 'web', 'alice', 'openid', 1, 1000, 2000, '{details}')",
            credential_hash(name)
        )
    };
    raw(&at, &insert("before", "{}")).await;
    raw(&at, &insert("later", r#"{"amr":["hwk"],"dpop_jkt":"x"}"#)).await;
    raw(&at, &insert("broken", "[")).await;
    let g = stores.refresh.as_ref();
    let before = live(g, "before", 10).await.unwrap();
    assert_eq!(
        (before.acr, before.amr, before.session_id),
        (None, vec![], None)
    );
    assert_eq!(live(g, "later", 10).await.unwrap().amr, ["hwk"]);
    match g.refresh(&credential_hash("broken"), t(10)).await {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("fam-broken"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// A family goes, all its rows at once, when nothing of it is live: no live refresh token
/// (idle, revoked, past its absolute end) and no live access token. Until then even its spent
/// tokens stay, so a reuse is still detected. Access records go at their `exp`; a sealed
/// successor goes when its grace window ends.
async fn pruning_removes_dead_families_and_keeps_what_reuse_detection_needs(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let g = stores.refresh.as_ref();
    let put = |token: &'static str, grant: RefreshGrant| async move {
        g.put_refresh(&credential_hash(token), &grant)
            .await
            .unwrap()
    };
    put("l0", refresh("live", 5_000)).await;
    assert!(matches!(
        rotate(g, "l0", "l1", 5_000, 1_500, 100).await,
        Rotation::Rotated(_)
    ));
    g.record_access("live", &access("at-old", 1_500))
        .await
        .unwrap();
    put("i0", refresh("idle", 1_000)).await;
    put("v0", refresh("revoked", 5_000)).await;
    g.revoke_family("revoked", t(100)).await.unwrap();
    put(
        "a0",
        RefreshGrant {
            family_expires_at: t(1_500),
            ..refresh("absolute", 5_000)
        },
    )
    .await;
    put("x0", refresh("access", 5_000)).await;
    assert!(matches!(
        rotate(g, "x0", "x1", 1_000, 100, 100).await,
        Rotation::Rotated(_)
    ));
    g.record_access("access", &access("at-x", 2_500))
        .await
        .unwrap();

    // The idle, revoked and absolute families (a row each) and the expired access record.
    assert_eq!(g.prune_expired(t(2_000)).await.unwrap(), 4);
    if backend != Backend::Memory {
        let sealed = "SELECT COUNT(*) FROM refresh_tokens WHERE successor_sealed IS NOT NULL";
        assert_eq!(count(&at, sealed).await, 0, "past their grace windows");
        let rows = count(&at, "SELECT COUNT(*) FROM refresh_tokens").await;
        assert_eq!(rows, 4, "l0, l1, x0, x1");
    }
    assert!(live(g, "l1", 2_000).await.is_some());
    assert_eq!(
        rotate(g, "x0", "x2", 6_000, 2_000, 2_000).await,
        Rotation::Reused {
            family_id: "access".to_owned(),
            access: vec![access("at-x", 2_500)],
        },
        "its tokens are dead, but an access token issued from it lives: reuse is still seen"
    );
    assert!(matches!(
        rotate(g, "l0", "l2", 6_000, 2_000, 2_000).await,
        Rotation::Reused { .. }
    ));
    // Both families are revoked now; `access` lives until 2 500. One round over every store.
    let pruned = stores.prune_expired(t(2_000)).await.unwrap();
    assert_eq!(pruned.refresh, 2, "{pruned:?}");
    let pruned = stores.prune_expired(t(2_500)).await.unwrap();
    assert_eq!(pruned.refresh, 3, "x0, x1 and at-x: {pruned:?}");
    assert_eq!(
        rotate(g, "x0", "x3", 6_000, 2_500, 2_500).await,
        Rotation::Invalid
    );
}
