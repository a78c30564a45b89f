//! [`CodeStore`](ms_auth_server::store::CodeStore) on every backend: a code is consumed once,
//! and a replay revokes its family and names the access tokens issued from it (RFC 6749
//! §4.1.2).

use ms_auth_server::store::{CodeGrant, CodeUse, IssuedAccess, StoreError, credential_hash};

use super::{Backend, location, open, raw, refresh::refresh, replicas, t};

per_backend!(
    a_code_is_consumed_once_and_a_replay_revokes_its_family,
    a_replay_names_the_live_access_tokens_of_the_family,
);

per_sql_backend!(a_code_row_reads_whatever_its_details_hold);

/// A code with every field set, so a round trip checks each column and the details.
pub fn code(family: &str, expires_at: i64) -> CodeGrant {
    CodeGrant {
        family_id: family.to_owned(),
        client_id: "web".to_owned(),
        subject: "alice".to_owned(),
        scope: "openid profile".to_owned(),
        redirect_uri: "http://127.0.0.1:8080/cb".to_owned(),
        // Not the default of rows written before it was recorded: the round trip keeps it.
        redirect_uri_given: false,
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned()),
        code_challenge_method: Some("S256".to_owned()),
        nonce: None,
        user_id: Some("user-1".to_owned()),
        session_id: Some("sid-1".to_owned()),
        acr: Some("urn:mace:incommon:iap:silver".to_owned()),
        amr: vec!["pwd".to_owned(), "otp".to_owned()],
        auth_time: t(100),
        session_expires_at: Some(t(5000)),
        expires_at: t(expires_at),
    }
}

pub fn access(jti: &str, expires_at: i64) -> IssuedAccess {
    IssuedAccess {
        jti: jti.to_owned(),
        expires_at: t(expires_at),
    }
}

async fn a_code_is_consumed_once_and_a_replay_revokes_its_family(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 4).await;
    let (codes, refresh_tokens) = (&stores[0].codes, &stores[0].refresh);
    let h = credential_hash("the-code");
    codes.put_code(&h, &code("fam-1", 1_000)).await.unwrap();
    refresh_tokens
        .put_refresh(&credential_hash("rt-1"), &refresh("fam-1", 5_000))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let g = stores[i % stores.len()].codes.clone();
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
            CodeUse::Replayed { family_id, access } => {
                assert_eq!(family_id, "fam-1");
                assert!(
                    access.is_empty(),
                    "no access token was recorded: {access:?}"
                );
            }
            CodeUse::Invalid => panic!("a known code in time is never invalid"),
        }
    }
    assert_eq!(fresh, 1, "exactly one consumer wins");
    assert_eq!(
        refresh_tokens
            .refresh(&credential_hash("rt-1"), t(500))
            .await
            .unwrap(),
        None,
        "RFC 6749 §4.1.2: a reused code revokes what it produced"
    );
    codes
        .put_code(&credential_hash("late"), &code("fam-2", 1_000))
        .await
        .unwrap();
    assert_eq!(
        codes
            .consume_code(&credential_hash("late"), t(1_000))
            .await
            .unwrap(),
        CodeUse::Invalid
    );
    assert_eq!(
        codes
            .consume_code(&credential_hash("nope"), t(1))
            .await
            .unwrap(),
        CodeUse::Invalid
    );
}

/// The access tokens issued from the code's exchange and from its refresh tokens are named on
/// a replay, once each, while they are live; another family's are not.
async fn a_replay_names_the_live_access_tokens_of_the_family(backend: Backend) {
    let at = location(backend).await;
    let stores = replicas(&at, backend, 2).await;
    let (codes, refresh_tokens) = (&stores[0].codes, &stores[stores.len() - 1].refresh);
    let h = credential_hash("code-a");
    codes.put_code(&h, &code("fam-a", 1_000)).await.unwrap();
    assert!(matches!(
        codes.consume_code(&h, t(100)).await.unwrap(),
        CodeUse::Fresh(_)
    ));
    for (family, issued) in [
        ("fam-a", access("at-2", 400)),
        ("fam-a", access("at-1", 400)),
        ("fam-a", access("at-1", 400)),
        ("fam-a", access("at-gone", 150)),
        ("fam-b", access("at-other", 400)),
    ] {
        refresh_tokens.record_access(family, &issued).await.unwrap();
    }
    refresh_tokens
        .put_refresh(&credential_hash("rt-a"), &refresh("fam-a", 5_000))
        .await
        .unwrap();
    assert_eq!(
        stores[stores.len() - 1]
            .codes
            .consume_code(&h, t(200))
            .await
            .unwrap(),
        CodeUse::Replayed {
            family_id: "fam-a".to_owned(),
            access: vec![access("at-1", 400), access("at-2", 400)],
        }
    );
    assert_eq!(
        refresh_tokens
            .refresh(&credential_hash("rt-a"), t(200))
            .await
            .unwrap(),
        None
    );
}

/// `details` holds what is not a lookup field: a row whose details lack a field (written before
/// it existed) or carry one this version does not know (written by a later one) reads as
/// meant; one whose details are not JSON is `Corrupt`, never a panic.
async fn a_code_row_reads_whatever_its_details_hold(backend: Backend) {
    let at = location(backend).await;
    let stores = open(&at.settings).await.unwrap();
    let insert = |name: &str, details: Option<&str>| {
        let (columns, value) = match details {
            Some(d) => (", details", format!(", '{d}'")),
            None => ("", String::new()),
        };
        format!(
            "INSERT INTO authorization_codes (code_hash, family_id, client_id, subject, scope, \
             redirect_uri, auth_time, expires_at{columns}) \
             VALUES ('{}', 'fam-{name}', 'web', 'alice', 'openid', 'http://127.0.0.1/cb', 1, \
             1000{value})",
            credential_hash(name)
        )
    };
    raw(&at, &insert("before", None)).await;
    raw(
        &at,
        &insert(
            "later",
            Some(r#"{"acr":"urn:x","amr":["pwd"],"added_later":{"x":1}}"#),
        ),
    )
    .await;
    raw(&at, &insert("broken", Some("not json"))).await;
    let consume = |name: &'static str| {
        let codes = stores.codes.clone();
        async move { codes.consume_code(&credential_hash(name), t(10)).await }
    };
    let CodeUse::Fresh(before) = consume("before").await.unwrap() else {
        panic!("unread")
    };
    assert_eq!(
        (
            before.code_challenge_method,
            before.acr,
            before.amr,
            before.user_id
        ),
        (None, None, vec![], None)
    );
    let CodeUse::Fresh(later) = consume("later").await.unwrap() else {
        panic!("unread")
    };
    assert_eq!(
        (later.acr.as_deref(), later.amr),
        (Some("urn:x"), vec!["pwd".to_owned()])
    );
    match consume("broken").await {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("fam-broken"), "{why}"),
        other => panic!("{other:?}"),
    }
}
