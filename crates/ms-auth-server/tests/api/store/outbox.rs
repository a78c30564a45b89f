//! [`LogoutOutbox`](ms_auth_server::store::LogoutOutbox) on every backend: ending a session
//! writes one notice per client it signed in to, in the same write; expiry does too, as it is
//! pruned; replicas claiming at once never claim one notice twice; a claim is leased, a retry
//! backs off, a settled notice is gone.

use std::collections::HashSet;

use ms_auth_server::{
    identity::BrowserSession,
    store::{LogoutNotice, RefreshGrant, credential_hash},
};

use super::{
    Backend,
    codes::access,
    location, open,
    refresh::{live, refresh},
    replicas,
    sessions::{session, token_hash},
    t,
};

per_backend!(
    ending_a_session_writes_a_notice_per_client_once,
    an_expired_session_is_told_as_it_is_pruned,
    replicas_pruning_at_once_tell_an_expired_session_once,
    replicas_claiming_at_once_claim_each_notice_once,
    a_claim_is_leased_and_a_retry_waits,
);

fn signed_in_to(sid: &str, clients: &[&str]) -> BrowserSession {
    BrowserSession {
        clients: clients.iter().map(|c| (*c).to_owned()).collect(),
        ..session(sid, 100, 5_000, 9_000)
    }
}

fn pairs(notices: &[LogoutNotice]) -> HashSet<(String, String)> {
    notices
        .iter()
        .map(|n| (n.sid.clone(), n.client_id.clone()))
        .collect()
}

async fn ending_a_session_writes_a_notice_per_client_once(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let s = stores.sessions.as_ref();
    for one in [
        signed_in_to("sid-1", &["playground-web", "playground-spa"]),
        signed_in_to("sid-none", &[]),
    ] {
        s.create_session(&token_hash(&one.sid), &one).await.unwrap();
    }
    assert_eq!(stores.outbox.pending_notices().await.unwrap(), 0);
    s.end_session("sid-1", t(1_000)).await.unwrap().unwrap();
    s.end_session("sid-1", t(1_001)).await.unwrap();
    s.end_session("sid-none", t(1_000)).await.unwrap().unwrap();
    assert_eq!(stores.outbox.pending_notices().await.unwrap(), 2);
    let claimed = stores
        .outbox
        .claim_notices(t(1_000), t(1_100), 10)
        .await
        .unwrap();
    assert_eq!(
        pairs(&claimed),
        HashSet::from([
            ("sid-1".to_owned(), "playground-web".to_owned()),
            ("sid-1".to_owned(), "playground-spa".to_owned()),
        ])
    );
    for n in &claimed {
        assert_eq!(n.subject, "user-1");
        assert_eq!(n.created_at, t(1_000));
        assert_eq!(n.attempts, 1);
    }
    stores
        .outbox
        .settle_notice("sid-1", "playground-web")
        .await
        .unwrap();
    assert_eq!(stores.outbox.pending_notices().await.unwrap(), 1);
    // Pruning the ended session keeps what it still has to tell.
    stores.prune_expired(t(9_999)).await.unwrap();
    assert_eq!(stores.outbox.pending_notices().await.unwrap(), 1);
}

async fn an_expired_session_is_told_as_it_is_pruned(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let s = stores.sessions.as_ref();
    let idle = BrowserSession {
        idle_expires_at: t(1_000),
        ..signed_in_to("sid-idle", &["playground-web"])
    };
    for one in [idle, signed_in_to("sid-live", &["playground-web"])] {
        s.create_session(&token_hash(&one.sid), &one).await.unwrap();
    }
    // Its refresh family ends with it, as at logout; the live session's stays.
    for (token, sid) in [("rt-idle", "sid-idle"), ("rt-live", "sid-live")] {
        let grant = RefreshGrant {
            session_id: Some(sid.to_owned()),
            ..refresh(&format!("fam-{sid}"), 5_000)
        };
        stores
            .refresh
            .put_refresh(&credential_hash(token), &grant)
            .await
            .unwrap();
    }
    stores
        .refresh
        .record_access("fam-sid-idle", &access("at-idle", 3_000))
        .await
        .unwrap();
    stores.prune_expired(t(2_000)).await.unwrap();
    let claimed = stores
        .outbox
        .claim_notices(t(2_000), t(2_100), 10)
        .await
        .unwrap();
    assert_eq!(
        pairs(&claimed),
        HashSet::from([("sid-idle".to_owned(), "playground-web".to_owned())]),
        "the expired one, not the live one"
    );
    assert_eq!(claimed[0].created_at, t(2_000));
    assert_eq!(live(stores.refresh.as_ref(), "rt-idle", 2_000).await, None);
    assert!(
        live(stores.refresh.as_ref(), "rt-live", 2_000)
            .await
            .is_some()
    );
    assert!(
        stores.hot.is_denied("at-idle", t(2_000)).await.unwrap(),
        "its access token denied"
    );
}

async fn replicas_pruning_at_once_tell_an_expired_session_once(backend: Backend) {
    let at = location(backend).await;
    let all = replicas(&at, backend, 4).await;
    for i in 0..10 {
        let one = BrowserSession {
            idle_expires_at: t(1_000),
            ..signed_in_to(&format!("sid-{i}"), &["playground-web"])
        };
        all[0]
            .sessions
            .create_session(&token_hash(&one.sid), &one)
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let stores = all[i % all.len()].clone();
            tokio::spawn(async move {
                // Each claims and settles what it can meanwhile, as delivery would.
                stores.prune_expired(t(2_000)).await.unwrap();
                let got = stores
                    .outbox
                    .claim_notices(t(2_000), t(2_100), 100)
                    .await
                    .unwrap();
                for n in &got {
                    stores
                        .outbox
                        .settle_notice(&n.sid, &n.client_id)
                        .await
                        .unwrap();
                }
                got
            })
        })
        .collect();
    let mut told = Vec::new();
    for task in tasks {
        told.extend(task.await.unwrap());
    }
    let leftover = all[0]
        .outbox
        .claim_notices(t(9_000), t(9_100), 100)
        .await
        .unwrap();
    told.extend(leftover);
    assert_eq!(told.len(), 10, "each expired session told once");
    assert_eq!(pairs(&told).len(), 10);
}

async fn replicas_claiming_at_once_claim_each_notice_once(backend: Backend) {
    let at = location(backend).await;
    let all = replicas(&at, backend, 4).await;
    let clients: Vec<String> = (0..40).map(|i| format!("client-{i}")).collect();
    let refs: Vec<&str> = clients.iter().map(String::as_str).collect();
    let one = signed_in_to("sid-1", &refs);
    all[0]
        .sessions
        .create_session(&token_hash("sid-1"), &one)
        .await
        .unwrap();
    all[0]
        .sessions
        .end_session("sid-1", t(1_000))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let outbox = all[i % all.len()].outbox.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = outbox.claim_notices(t(1_000), t(1_100), 3).await.unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got);
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    assert_eq!(claimed.len(), 40, "each once");
    assert_eq!(pairs(&claimed).len(), 40);
}

async fn a_claim_is_leased_and_a_retry_waits(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let o = stores.outbox.as_ref();
    let one = signed_in_to("sid-1", &["playground-web"]);
    stores
        .sessions
        .create_session(&token_hash("sid-1"), &one)
        .await
        .unwrap();
    stores
        .sessions
        .end_session("sid-1", t(1_000))
        .await
        .unwrap();
    assert_eq!(o.claim_notices(t(999), t(2_000), 10).await.unwrap(), []);
    assert_eq!(
        o.claim_notices(t(1_000), t(1_030), 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        o.claim_notices(t(1_029), t(1_060), 10).await.unwrap(),
        [],
        "leased"
    );
    // The replica holding it died: once the lease is over, another takes it up.
    let again = o.claim_notices(t(1_030), t(1_060), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    // The replica whose lease ran out comes back late: it moves nothing.
    o.retry_notice("sid-1", "playground-web", 1, t(1_031))
        .await
        .unwrap();
    assert_eq!(o.claim_notices(t(1_031), t(1_100), 10).await.unwrap(), []);
    o.retry_notice("sid-1", "playground-web", 2, t(1_040))
        .await
        .unwrap();
    assert_eq!(o.claim_notices(t(1_039), t(1_100), 10).await.unwrap(), []);
    let third = o.claim_notices(t(1_040), t(1_100), 10).await.unwrap();
    assert_eq!(third[0].attempts, 3);
    o.settle_notice("sid-1", "playground-web").await.unwrap();
    assert_eq!(o.claim_notices(t(9_000), t(9_100), 10).await.unwrap(), []);
    assert_eq!(o.pending_notices().await.unwrap(), 0);
}
