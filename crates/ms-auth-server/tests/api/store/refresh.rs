//! [`RefreshTokenStore`](ms_auth_server::store::RefreshTokenStore) on every backend: a token
//! rotates once, a reuse revokes its family (RFC 9700 §4.14.2), a family ends at its absolute
//! expiry, and what revokes a family names the access tokens issued from it — which the
//! revocation endpoint then denies. The grace window is in `refresh_grace`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ms_auth_server::{
    clock::{Clock, UnixTime},
    store::{
        FamilyRevoked, IssuedAccess, RefreshGrant, RefreshTokenStore, Rotation, StoreError, Stores,
        Successor, credential_hash,
    },
};

use super::{Backend, Replica, access_token, codes::access, location, open, raw, replicas, t};
use crate::helpers::{PLAYGROUND_CLIENT, PLAYGROUND_SECRET, basic};

per_backend!(
    a_refresh_token_rotates_once_and_reuse_revokes_the_family,
    a_family_ends_at_its_absolute_expiry,
    a_reuse_or_a_revocation_names_the_live_access_tokens_of_the_family,
    a_family_starts_and_rotates_with_its_access_tokens_recorded,
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
        auth_time: t(90),
        issued_at: t(100),
        expires_at: t(expires_at),
        family_expires_at: t(i64::MAX),
    }
}

/// What the caller would hand the store as a token's sealed value: opaque to it.
pub fn sealed(token: &str) -> String {
    format!("sealed:{token}")
}

/// Presents `old` at `now`, offering `new` (expiring at `expires_at`) as its successor, with
/// a grace window until `grace_until`.
pub async fn rotate(
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
                access: None,
            },
            t(grace_until),
            t(now),
        )
        .await
        .unwrap()
}

/// 16 presentations of `old` at once, spread over `stores`, each offering its own successor
/// `{new}-{i}`: their outcomes, in the order of `i`.
pub async fn race(
    stores: &[Stores],
    old: &'static str,
    new: &'static str,
    grace_until: i64,
    now: i64,
) -> Vec<Rotation> {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let g = stores[i % stores.len()].refresh.clone();
            tokio::spawn(async move {
                rotate(
                    g.as_ref(),
                    old,
                    &format!("{new}-{i}"),
                    6_000,
                    grace_until,
                    now,
                )
                .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

pub async fn live(store: &dyn RefreshTokenStore, token: &str, now: i64) -> Option<RefreshGrant> {
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
    let mut rotated = 0;
    for outcome in race(&stores, "s0", "s1", 200, 200).await {
        match outcome {
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
        other.family_access("revoked", t(300)).await.unwrap(),
        [access("at-q", 700)],
        "readable before the family is revoked (revocation denies these first)"
    );
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
    assert_eq!(
        g.family_access("reused", t(550)).await.unwrap(),
        [access("at-r1", 600)],
        "live ones only, the family revoked or not"
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

/// `path` of `replica`, POSTed by the playground client with a form `body`.
async fn post_as_playground(replica: &Replica, path: &str, body: String) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", replica.base))
        .header(
            "Authorization",
            basic(&format!("{PLAYGROUND_CLIENT}:{PLAYGROUND_SECRET}")),
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// `token`'s `active`, as introspection tells the playground client.
async fn active(replica: &Replica, token: &str) -> serde_json::Value {
    let res = post_as_playground(replica, "/oauth2/introspect", format!("token={token}")).await;
    assert_eq!(res.status(), 200);
    res.json::<serde_json::Value>().await.unwrap()["active"].clone()
}

/// A family of the playground client as the refresh grant will leave it: `refresh_token` its
/// live token, and `access` (an access token this server issued) recorded as issued from it.
async fn family_with_access(stores: &Stores, family: &str, refresh_token: &str, access: &str) {
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    stores
        .refresh
        .put_refresh(
            &credential_hash(refresh_token),
            &RefreshGrant {
                client_id: PLAYGROUND_CLIENT.to_owned(),
                ..refresh(family, i64::MAX)
            },
        )
        .await
        .unwrap();
    stores
        .refresh
        .record_access(
            family,
            &IssuedAccess {
                jti: claims["jti"].as_str().unwrap().to_owned(),
                expires_at: UnixTime::from_secs(claims["exp"].as_i64().unwrap()),
            },
        )
        .await
        .unwrap();
}

/// RFC 7009 §2.1: revoking a refresh token revokes its family and "SHOULD also invalidate all
/// access tokens based on the same authorization grant": those recorded for the family are
/// denied at once; the caller's other tokens stay good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_refresh_token_denies_the_access_tokens_of_its_family() {
    let at = location(Backend::Sqlite).await;
    let replica = Replica::start(&at.settings).await;
    let (issued, other) = (access_token(&replica).await, access_token(&replica).await);
    let stores = open(&at.settings).await.unwrap();
    family_with_access(&stores, "e2e-family", "family-rt", &issued).await;
    assert_eq!(active(&replica, &issued).await, true);
    let revoke = "token=family-rt&token_type_hint=refresh_token".to_owned();
    let res = post_as_playground(&replica, "/oauth2/revoke", revoke).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        active(&replica, &issued).await,
        false,
        "denied with its family"
    );
    assert_eq!(active(&replica, &other).await, true, "not of the family");
    assert!(
        live(
            stores.refresh.as_ref(),
            "family-rt",
            Clock::system().now().secs()
        )
        .await
        .is_none()
    );
    replica.stop().await;
}

/// A revocation the denylist could not take (Redis down) answers 503 and leaves the family
/// live, so the client's retry — RFC 7009 §2.2.1 tells it to retry on 503 — revokes the family
/// and denies its access tokens after all, instead of finding nothing left to revoke.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_the_denylist_could_not_take_is_done_whole_by_the_retry() {
    let redis = crate::servers::RedisServer::start();
    let at = location(Backend::Sqlite).await;
    let mut settings = crate::helpers::playground_settings();
    settings.store = at.settings.clone();
    settings.redis = ms_auth_server::store::RedisSettings {
        url: Some(redis.url()),
        ..Default::default()
    };
    let replica = Replica::start_with(settings).await;
    let ready = format!("{}/health/ready", replica.management);
    crate::helpers::wait_for_status(&ready, 200).await;
    let issued = access_token(&replica).await;
    let stores = open(&at.settings).await.unwrap();
    family_with_access(&stores, "retried-family", "retried-rt", &issued).await;
    let revoke = || "token=retried-rt&token_type_hint=refresh_token".to_owned();

    redis.kill();
    let res = post_as_playground(&replica, "/oauth2/revoke", revoke()).await;
    assert_eq!(res.status(), 503);
    assert!(
        live(
            stores.refresh.as_ref(),
            "retried-rt",
            Clock::system().now().secs()
        )
        .await
        .is_some(),
        "the family stays live until its access tokens are denied"
    );

    redis.resume();
    crate::helpers::wait_for_status(&ready, 200).await;
    let res = post_as_playground(&replica, "/oauth2/revoke", revoke()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        active(&replica, &issued).await,
        false,
        "denied by the retry"
    );
    assert!(
        live(
            stores.refresh.as_ref(),
            "retried-rt",
            Clock::system().now().secs()
        )
        .await
        .is_none()
    );
    replica.stop().await;
}

/// A code's exchange starts a family with its first refresh token and access token in one
/// write (or the access token alone, for a client that may not refresh), and a rotation
/// records its successor's access token with it: what a reuse then revokes names them all.
async fn a_family_starts_and_rotates_with_its_access_tokens_recorded(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 2).await;
    let (g, other) = (
        stores[0].refresh.as_ref(),
        stores[stores.len() - 1].refresh.as_ref(),
    );
    let first = refresh("started", 5_000);
    g.start_family(
        "started",
        Some((&credential_hash("s0"), &first)),
        &access("at-s0", 500),
    )
    .await
    .unwrap();
    assert_eq!(
        other.refresh(&credential_hash("s0"), t(100)).await.unwrap(),
        Some(first.clone())
    );
    let (hash, sealed_s1) = (credential_hash("s1"), sealed("s1"));
    let rotated = other
        .rotate_refresh(
            &credential_hash("s0"),
            Successor {
                hash: &hash,
                sealed: &sealed_s1,
                expires_at: t(6_000),
                access: Some(&access("at-s1", 600)),
            },
            t(100),
            t(100),
        )
        .await
        .unwrap();
    assert_eq!(
        rotated,
        Rotation::Rotated(RefreshGrant {
            issued_at: t(100),
            expires_at: t(6_000),
            ..first
        })
    );
    assert_eq!(
        g.family_access("started", t(200)).await.unwrap(),
        [access("at-s0", 500), access("at-s1", 600)]
    );
    assert_eq!(
        rotate(g, "s0", "s1-bis", 6_000, 300, 300).await,
        Rotation::Reused {
            family_id: "started".to_owned(),
            access: vec![access("at-s0", 500), access("at-s1", 600)],
        }
    );

    g.start_family("no-refresh", None, &access("at-n", 700))
        .await
        .unwrap();
    assert_eq!(
        other.family_access("no-refresh", t(300)).await.unwrap(),
        [access("at-n", 700)]
    );
}
