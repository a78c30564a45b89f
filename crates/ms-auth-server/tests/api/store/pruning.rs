//! Pruning, on every backend, with explicit times: what can change no outcome any more goes,
//! what a replay or a reuse must still find stays. (Audit retention is in `audit`, the hot
//! state's in `tests/api/hot.rs`.)

use ms_auth_server::store::{CodeUse, RefreshGrant, Rotation, credential_hash};

use super::{
    Backend,
    codes::{access, code},
    count, location, open,
    refresh::{live, refresh, rotate},
    t,
};

per_backend!(
    pruning_removes_the_codes_that_can_no_longer_matter,
    pruning_removes_dead_families_and_keeps_what_reuse_detection_needs,
);

/// An unused code goes once expired; a used one stays while anything of its family is live,
/// so that a replay still revokes it, and goes after.
async fn pruning_removes_the_codes_that_can_no_longer_matter(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let (codes, refresh_tokens) = (&stores.codes, &stores.refresh);
    for (name, family, expires_at) in [
        ("unused-expired", "fam-e", 1_000),
        ("unused-live", "fam-u", 3_000),
        ("used-dead", "fam-d", 1_000),
        ("used-refresh-live", "fam-r", 1_000),
        ("used-access-live", "fam-a", 1_000),
        ("used-access-expired", "fam-x", 1_000),
    ] {
        let h = credential_hash(name);
        codes.put_code(&h, &code(family, expires_at)).await.unwrap();
        if name.starts_with("used") {
            assert!(matches!(
                codes.consume_code(&h, t(500)).await.unwrap(),
                CodeUse::Fresh(_)
            ));
        }
    }
    refresh_tokens
        .put_refresh(&credential_hash("rt-r"), &refresh("fam-r", 5_000))
        .await
        .unwrap();
    refresh_tokens
        .record_access("fam-a", &access("at-a", 2_500))
        .await
        .unwrap();
    refresh_tokens
        .record_access("fam-x", &access("at-x", 1_500))
        .await
        .unwrap();
    assert_eq!(codes.prune_expired(t(2_000)).await.unwrap(), 3);
    let consume = |name: &'static str| {
        let codes = codes.clone();
        async move {
            codes
                .consume_code(&credential_hash(name), t(2_000))
                .await
                .unwrap()
        }
    };
    assert_eq!(consume("unused-expired").await, CodeUse::Invalid);
    assert_eq!(consume("used-dead").await, CodeUse::Invalid, "gone");
    assert!(matches!(consume("unused-live").await, CodeUse::Fresh(_)));
    assert!(matches!(
        consume("used-refresh-live").await,
        CodeUse::Replayed { .. }
    ));
    assert_eq!(
        consume("used-access-live").await,
        CodeUse::Replayed {
            family_id: "fam-a".to_owned(),
            access: vec![access("at-a", 2_500)],
        }
    );
    // The replay revoked fam-r: nothing of it is live now, so its code goes at the next round;
    // fam-a's access token is live until 2 500.
    assert_eq!(codes.prune_expired(t(2_000)).await.unwrap(), 1);
    assert_eq!(codes.prune_expired(t(2_500)).await.unwrap(), 1);
    assert_eq!(consume("used-access-live").await, CodeUse::Invalid);
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
