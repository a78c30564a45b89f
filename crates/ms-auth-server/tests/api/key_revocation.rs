//! Emergency key revocation (F13): a key that may have leaked leaves the JWKS at once, another
//! key signs in its place with no publish delay, and the tokens it signed stop verifying — at
//! introspection and at any resource server that fetches the JWKS anew.

use auth_middleware::{Verifier, VerifierSettings};
use serde_json::{Value, json};

use crate::{
    admin::{ADMIN_TOKEN, with_admin},
    helpers::{PLAYGROUND_CLIENT, PLAYGROUND_SECRET, basic},
    store::{Backend, Replica, access_token, kid_of, location, open},
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
fn fresh_verifier(replica: &Replica, issuer: &str) -> Verifier {
    Verifier::new(VerifierSettings {
        issuer: issuer.to_owned(),
        jwks_url: Some(format!("{}/oauth2/jwks", replica.base)),
        token_cache_size: 0,
        audience: vec!["http://localhost:8085/customer-service".to_owned()],
        ..VerifierSettings::default()
    })
    .unwrap()
}

async fn introspect(replica: &Replica, token: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/oauth2/introspect", replica.base))
        .header(
            "Authorization",
            basic(&format!("{PLAYGROUND_CLIENT}:{PLAYGROUND_SECRET}")),
        )
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn revoke(replica: &Replica, kid: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/admin/keys/{kid}/revoke", replica.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn revoking_the_active_key_withdraws_it_at_once(backend: Backend) {
    let at = location(backend).await;
    let mut settings = with_admin();
    settings.store = at.settings.clone();
    // Hours between polls and a long publish delay: nothing but the revocation itself may
    // bring the change.
    settings.keys.poll_secs = 3_600;
    let replica = Replica::start_with(settings.clone()).await;
    let before = access_token(&replica).await;
    let leaked = kid_of(&before);
    fresh_verifier(&replica, &settings.issuer)
        .authenticate(&before)
        .await
        .expect("valid before the revocation");
    assert_eq!(introspect(&replica, &before).await["active"], true);

    let (status, done) = revoke(&replica, &leaked).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["revoked"]["kid"], leaked.as_str());
    assert_eq!(done["revoked"]["state"], "revoked");
    assert_eq!(done["activated"]["state"], "active");
    let active = done["activated"]["kid"].as_str().unwrap().to_owned();
    assert_ne!(active, leaked);

    // At once: the JWKS no longer lists it, and its tokens are refused.
    let jwks = replica.jwks().await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [active.as_str()]);
    assert_eq!(
        introspect(&replica, &before).await,
        json!({"active": false})
    );
    let verifier = fresh_verifier(&replica, &settings.issuer);
    assert!(verifier.authenticate(&before).await.is_err());
    let after = access_token(&replica).await;
    assert_eq!(kid_of(&after), active, "the new key signs without a delay");
    verifier
        .authenticate(&after)
        .await
        .expect("a new token verifies");
    assert_eq!(introspect(&replica, &after).await["active"], true);

    // Again: nothing changes, and it is audited once.
    let (status, again) = revoke(&replica, &leaked).await;
    assert_eq!((status, &again["already_revoked"]), (200, &json!(true)));
    assert_eq!(kid_of(&access_token(&replica).await), active);
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
    replica.stop().await;
}
