//! Emergency key revocation (F13): a key that may have leaked leaves the JWKS at once, another
//! key signs in its place with no publish delay, and the tokens it signed stop verifying — at
//! introspection and at any resource server that fetches the JWKS anew.

use auth_middleware::{Verifier, VerifierSettings};
use serde_json::{Value, json};

use crate::{
    helpers::*,
    store::{Backend, location, open},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_the_active_key_withdraws_it_at_once_sqlite() {
    revoking_the_active_key_withdraws_it_at_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_the_active_key_withdraws_it_at_once_postgres() {
    revoking_the_active_key_withdraws_it_at_once(Backend::Postgres).await;
}

/// A resource server's verifier with nothing cached: its first use fetches the JWKS.
fn fresh_verifier(app: &TestApp, issuer: &str) -> Verifier {
    Verifier::new(VerifierSettings {
        issuer: issuer.to_owned(),
        jwks_url: Some(app.url("/oauth2/jwks")),
        token_cache_size: 0,
        audience: vec!["http://localhost:8085/customer-service".to_owned()],
        ..VerifierSettings::default()
    })
    .unwrap()
}

/// `POST /admin/keys/{kid}/revoke` with the admin token: status and answer.
async fn revoke_key(app: &TestApp, kid: &str) -> (u16, Value) {
    let path = format!("/admin/keys/{kid}/revoke");
    let res = app.as_admin(reqwest::Method::POST, &path).await;
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn revoking_the_active_key_withdraws_it_at_once(backend: Backend) {
    let at = location(backend).await;
    let mut settings = with_admin();
    settings.store = at.settings.clone();
    // Hours between polls and a long publish delay: nothing but the revocation itself may
    // bring the change.
    settings.keys.poll_secs = 3_600;
    let app = TestApp::spawn(settings.clone()).await;
    let before = app.access_token(PLAYGROUND_ID_SECRET).await;
    let leaked = kid_of(&before);
    fresh_verifier(&app, &settings.issuer)
        .authenticate(&before)
        .await
        .expect("valid before the revocation");
    assert_eq!(
        app.introspect(PLAYGROUND_ID_SECRET, &before).await["active"],
        true
    );

    let (status, done) = revoke_key(&app, &leaked).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["revoked"]["kid"], leaked.as_str());
    assert_eq!(done["revoked"]["state"], "revoked");
    assert_eq!(done["activated"]["state"], "active");
    let active = done["activated"]["kid"].as_str().unwrap().to_owned();
    assert_ne!(active, leaked);

    // At once: the JWKS no longer lists it, and its tokens are refused.
    assert_eq!(app.published_kids().await, [active.as_str()]);
    assert_eq!(
        app.introspect(PLAYGROUND_ID_SECRET, &before).await,
        json!({"active": false})
    );
    let verifier = fresh_verifier(&app, &settings.issuer);
    assert!(verifier.authenticate(&before).await.is_err());
    let after = app.access_token(PLAYGROUND_ID_SECRET).await;
    assert_eq!(kid_of(&after), active, "the new key signs without a delay");
    verifier
        .authenticate(&after)
        .await
        .expect("a new token verifies");
    assert_eq!(
        app.introspect(PLAYGROUND_ID_SECRET, &after).await["active"],
        true
    );

    // Again: nothing changes, and it is audited once.
    let (status, again) = revoke_key(&app, &leaked).await;
    assert_eq!((status, &again["already_revoked"]), (200, &json!(true)));
    assert_eq!(
        kid_of(&app.access_token(PLAYGROUND_ID_SECRET).await),
        active
    );
    let audit = open(&at.settings)
        .await
        .unwrap()
        .audit
        .recent(20)
        .await
        .unwrap();
    let revoked: Vec<_> = audit
        .iter()
        .filter(|e| e.event == "signing_key_revoked")
        .collect();
    assert_eq!(revoked.len(), 1, "{audit:?}");
    assert!(
        revoked[0].detail.contains(&leaked) && revoked[0].detail.contains(&active),
        "{:?}",
        revoked[0]
    );
    app.stop().await;
}
