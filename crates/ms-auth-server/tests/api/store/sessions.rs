//! [`SessionStore`](ms_auth_server::store::SessionStore) on every backend: a session is found
//! by its token's hash only while neither lifetime is over and it has not ended; a touch moves
//! the idle expiry but never past the absolute one; clients are added once, also when replicas
//! add them at once; an ended session is handed back once; pruning removes what is over.

use ms_auth_server::{identity::BrowserSession, store::credential_hash};

use super::{Backend, count, location, open, replicas, t};

per_backend!(
    a_session_is_found_by_its_token_hash_while_live,
    a_touch_moves_the_idle_expiry_but_never_past_the_absolute_one,
    clients_are_added_once_and_concurrent_additions_all_stick,
    an_ended_session_is_handed_back_once_and_never_live_again,
    the_sessions_of_a_user_are_the_live_ones_newest_first,
    pruning_removes_ended_and_expired_sessions,
);

per_sql_backend!(a_session_row_holds_the_tokens_hash_only);

/// Alice's session `sid`, created at `created`, idle until `idle`, over at `expires`.
pub fn session(sid: &str, created: i64, idle: i64, expires: i64) -> BrowserSession {
    BrowserSession {
        sid: sid.to_owned(),
        user_id: "user-1".to_owned(),
        auth_time: t(created),
        amr: vec!["pwd".to_owned()],
        acr: Some("urn:mace:incommon:iap:silver".to_owned()),
        created_at: t(created),
        last_seen: t(created),
        idle_expires_at: t(idle),
        expires_at: t(expires),
        clients: Vec::new(),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".to_owned()),
        address: Some("192.0.2.7".to_owned()),
    }
}

/// The hash the store keys `sid`'s session by: its cookie token is `token-{sid}`.
pub fn token_hash(sid: &str) -> String {
    credential_hash(&format!("token-{sid}"))
}

async fn a_session_is_found_by_its_token_hash_while_live(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let s = stores.sessions.as_ref();
    let idle_first = session("sid-idle", 100, 1_500, 3_000);
    let absolute_first = BrowserSession {
        user_id: "user-2".to_owned(),
        amr: Vec::new(),
        acr: None,
        user_agent: None,
        address: None,
        ..session("sid-abs", 100, 5_000, 2_000)
    };
    for one in [&idle_first, &absolute_first] {
        s.create_session(&token_hash(&one.sid), one).await.unwrap();
    }
    let get = |sid: &'static str, now: i64| async move {
        s.session(&token_hash(sid), t(now)).await.unwrap()
    };
    assert_eq!(get("sid-idle", 1_000).await.as_ref(), Some(&idle_first));
    assert_eq!(
        get("sid-abs", 1_000).await.as_ref(),
        Some(&absolute_first),
        "every optional field empty reads back so"
    );
    assert_eq!(get("sid-idle", 1_499).await.as_ref(), Some(&idle_first));
    assert_eq!(get("sid-idle", 1_500).await, None, "idle for too long");
    assert_eq!(get("sid-abs", 1_999).await.as_ref(), Some(&absolute_first));
    assert_eq!(get("sid-abs", 2_000).await, None, "past its absolute end");
    assert_eq!(get("sid-unknown", 1_000).await, None);
    assert_eq!(
        s.session("sid-idle", t(1_000)).await.unwrap(),
        None,
        "found by its token's hash, not by its sid"
    );
    assert!(
        s.create_session(
            &token_hash("sid-idle"),
            &session("sid-other", 100, 1_500, 3_000)
        )
        .await
        .is_err(),
        "a token hash is never reused"
    );
    assert!(
        s.create_session(
            &token_hash("sid-new"),
            &session("sid-idle", 100, 1_500, 3_000)
        )
        .await
        .is_err(),
        "nor a sid"
    );
}

async fn a_touch_moves_the_idle_expiry_but_never_past_the_absolute_one(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let s = stores.sessions.as_ref();
    for one in [
        session("sid-1", 100, 1_500, 3_000),
        session("sid-idle", 100, 1_000, 3_000),
    ] {
        s.create_session(&token_hash(&one.sid), &one).await.unwrap();
    }
    let get = |sid: &'static str, now: i64| async move {
        s.session(&token_hash(sid), t(now)).await.unwrap()
    };
    s.touch_session("sid-1", t(1_000), t(2_500)).await.unwrap();
    let touched = get("sid-1", 2_000)
        .await
        .expect("live past its first idle expiry");
    assert_eq!(
        (touched.last_seen, touched.idle_expires_at),
        (t(1_000), t(2_500))
    );
    s.touch_session("sid-1", t(2_400), t(3_900)).await.unwrap();
    let capped = get("sid-1", 2_999).await.unwrap();
    assert_eq!(
        (capped.last_seen, capped.idle_expires_at),
        (t(2_400), t(3_000)),
        "capped at the absolute expiry"
    );
    // Touches crossing between replicas arrive out of order: the later one already counted.
    s.touch_session("sid-1", t(2_300), t(2_600)).await.unwrap();
    let unchanged = get("sid-1", 2_999).await.unwrap();
    assert_eq!(
        (unchanged.last_seen, unchanged.idle_expires_at),
        (t(2_400), t(3_000)),
        "never moved back"
    );
    assert_eq!(get("sid-1", 3_000).await, None);

    s.touch_session("sid-idle", t(1_100), t(2_000))
        .await
        .unwrap();
    assert_eq!(
        get("sid-idle", 1_100).await,
        None,
        "a session idle for too long is not revived by a touch"
    );
    s.touch_session("sid-unknown", t(1_100), t(2_000))
        .await
        .unwrap();
}

async fn clients_are_added_once_and_concurrent_additions_all_stick(backend: Backend) {
    let at = location(backend).await;
    let all = replicas(&at, backend, 4).await;
    let s = all[0].sessions.as_ref();
    s.create_session(&token_hash("sid-1"), &session("sid-1", 100, 5_000, 9_000))
        .await
        .unwrap();
    s.add_session_client("sid-1", "playground-web")
        .await
        .unwrap();
    s.add_session_client("sid-1", "playground-web")
        .await
        .unwrap();
    let clients = |now| async move {
        s.session(&token_hash("sid-1"), t(now))
            .await
            .unwrap()
            .unwrap()
            .clients
    };
    assert_eq!(clients(200).await, ["playground-web"], "once");
    // Replicas sign the session in to clients at the same moment: none is lost.
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let sessions = all[i % all.len()].sessions.clone();
            tokio::spawn(async move {
                sessions
                    .add_session_client("sid-1", &format!("client-{}", i % 8))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut after = clients(200).await;
    assert_eq!(after[0], "playground-web", "in the order added");
    after.sort();
    let mut expected: Vec<String> = (0..8).map(|i| format!("client-{i}")).collect();
    expected.push("playground-web".to_owned());
    assert_eq!(after, expected, "each of them, once");
    s.add_session_client("sid-unknown", "web").await.unwrap();
}

async fn an_ended_session_is_handed_back_once_and_never_live_again(backend: Backend) {
    let at = location(backend).await;
    let all = replicas(&at, backend, 4).await;
    let s = all[0].sessions.as_ref();
    let mut one = session("sid-1", 100, 5_000, 9_000);
    s.create_session(&token_hash("sid-1"), &one).await.unwrap();
    s.add_session_client("sid-1", "playground-web")
        .await
        .unwrap();
    s.create_session(
        &token_hash("sid-old"),
        &session("sid-old", 100, 1_000, 9_000),
    )
    .await
    .unwrap();
    // Logout at several replicas at once (two tabs): one of them ends it.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let sessions = all[i % all.len()].sessions.clone();
            tokio::spawn(async move { sessions.end_session("sid-1", t(2_000)).await.unwrap() })
        })
        .collect();
    let mut ended = Vec::new();
    for task in tasks {
        ended.extend(task.await.unwrap());
    }
    one.clients = vec!["playground-web".to_owned()];
    assert_eq!(ended, [one], "as it was, once: its clients are to be told");
    assert_eq!(s.end_session("sid-1", t(2_001)).await.unwrap(), None);
    assert_eq!(
        s.session(&token_hash("sid-1"), t(2_000)).await.unwrap(),
        None
    );
    s.touch_session("sid-1", t(2_000), t(8_000)).await.unwrap();
    assert_eq!(
        s.session(&token_hash("sid-1"), t(2_000)).await.unwrap(),
        None,
        "a touch does not bring it back"
    );
    assert_eq!(
        s.sessions_of("user-1", t(900)).await.unwrap().len(),
        1,
        "sid-old only"
    );
    assert_eq!(
        s.end_session("sid-old", t(2_000)).await.unwrap(),
        None,
        "expired already: nothing live to hand back"
    );
    assert_eq!(s.end_session("sid-unknown", t(2_000)).await.unwrap(), None);
}

async fn the_sessions_of_a_user_are_the_live_ones_newest_first(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let s = stores.sessions.as_ref();
    let bobs = BrowserSession {
        user_id: "user-2".to_owned(),
        ..session("sid-bob", 400, 5_000, 9_000)
    };
    for one in [
        session("sid-a", 100, 5_000, 9_000),
        session("sid-c", 300, 5_000, 9_000),
        session("sid-b", 200, 5_000, 9_000),
        session("sid-ended", 350, 5_000, 9_000),
        session("sid-expired", 380, 900, 9_000),
        bobs.clone(),
    ] {
        s.create_session(&token_hash(&one.sid), &one).await.unwrap();
    }
    s.end_session("sid-ended", t(500)).await.unwrap();
    let sids = |user: &'static str| async move {
        s.sessions_of(user, t(1_000))
            .await
            .unwrap()
            .into_iter()
            .map(|one| one.sid)
            .collect::<Vec<_>>()
    };
    assert_eq!(sids("user-1").await, ["sid-c", "sid-b", "sid-a"]);
    assert_eq!(
        s.sessions_of("user-2", t(1_000)).await.unwrap(),
        [bobs],
        "whole"
    );
    assert_eq!(sids("user-3").await, Vec::<String>::new());
}

async fn pruning_removes_ended_and_expired_sessions(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let s = stores.sessions.as_ref();
    for one in [
        session("sid-live", 100, 5_000, 9_000),
        session("sid-ended", 100, 5_000, 9_000),
        session("sid-ended-later", 100, 5_000, 9_000),
        session("sid-idle", 100, 1_000, 9_000),
        session("sid-absolute", 100, 5_000, 1_000),
    ] {
        s.create_session(&token_hash(&one.sid), &one).await.unwrap();
    }
    s.end_session("sid-ended", t(500)).await.unwrap();
    s.end_session("sid-ended-later", t(1_500)).await.unwrap();
    let pruned = s.prune_expired(t(1_000)).await.unwrap();
    assert_eq!(pruned.removed, 3);
    let mut expired = pruned.expired;
    expired.sort();
    assert_eq!(
        expired,
        ["sid-absolute", "sid-idle"],
        "ended by expiry, not before"
    );
    let pruned = stores.prune_expired(t(2_000)).await.unwrap();
    assert_eq!(pruned.sessions, 1, "{pruned:?}");
    assert_eq!(stores.prune_expired(t(2_000)).await.unwrap().sessions, 0);
    assert!(
        s.session(&token_hash("sid-live"), t(2_000))
            .await
            .unwrap()
            .is_some()
    );
    if backend != Backend::Memory {
        let rows = count(&at, "SELECT COUNT(*) FROM browser_sessions").await;
        assert_eq!(rows, 1);
    }
    assert_eq!(
        s.end_session("sid-idle", t(2_000)).await.unwrap(),
        None,
        "gone"
    );
}

async fn a_session_row_holds_the_tokens_hash_only(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let mut one = session("sid-1", 100, 5_000, 9_000);
    one.amr = vec!["pwd".to_owned(), "otp".to_owned()];
    stores
        .sessions
        .create_session(&token_hash("sid-1"), &one)
        .await
        .unwrap();
    stores
        .sessions
        .add_session_client("sid-1", "playground-web")
        .await
        .unwrap();
    let hashed = format!(
        "SELECT COUNT(*) FROM browser_sessions WHERE token_hash = '{}' \
         AND amr = '[\"pwd\",\"otp\"]' AND clients = '[\"playground-web\"]'",
        token_hash("sid-1")
    );
    assert_eq!(
        count(&at, &hashed).await,
        1,
        "keyed by the hash; lists as JSON"
    );
    let plain = "SELECT COUNT(*) FROM browser_sessions WHERE token_hash = 'token-sid-1'";
    assert_eq!(count(&at, plain).await, 0);
}
