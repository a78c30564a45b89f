//! The grace window of a refresh-token rotation, on every backend: a client that lost the
//! response to a rotation presents the old token once more and is given the same successor,
//! once; anything else is reuse and revokes the family (RFC 9700 §4.14.2).

use ms_auth_server::store::{Rotation, credential_hash};

use super::{
    Backend, location,
    refresh::{live, race, refresh, rotate, sealed},
    replicas,
};

per_backend!(
    a_retry_within_the_grace_window_gets_the_same_successor_once,
    of_concurrent_presentations_within_the_grace_window_one_rotates_and_one_retries,
);

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
    let (mut rotated, mut retried, mut reused) = (Vec::new(), Vec::new(), 0);
    for (i, outcome) in race(&stores, "c0", "c1", 260, 200)
        .await
        .into_iter()
        .enumerate()
    {
        match outcome {
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
