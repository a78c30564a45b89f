//! The admin endpoints: off without `[admin] token_hash`, behind the admin bearer token
//! otherwise; they list the signing keys, start a rotation and revoke a key.

use serde_json::Value;

use crate::helpers::*;

async fn list_keys(app: &TestApp) -> Vec<Value> {
    let res = app.as_admin(reqwest::Method::GET, "/admin/keys").await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["keys"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn admin_endpoints_are_off_without_a_token_hash() {
    let app = TestApp::playground().await;
    let res = app.as_admin(reqwest::Method::GET, "/admin/keys").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn the_admin_token_lists_keys_and_starts_one_rotation() {
    let app = TestApp::spawn(with_admin()).await;
    for token in [None, Some("wrong"), Some(PLAYGROUND_SECRET)] {
        let res = app
            .call(reqwest::Method::POST, "/admin/keys/rotate", token)
            .await;
        assert_eq!(res.status(), 401, "{token:?}");
        assert_eq!(
            header(res.headers(), "www-authenticate"),
            "Bearer realm=\"ms-auth-server-admin\""
        );
    }
    let before = list_keys(&app).await;
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["state"], "active");
    let res = app
        .as_admin(reqwest::Method::POST, "/admin/keys/rotate")
        .await;
    assert_eq!(res.status(), 202);
    let next: Value = res.json().await.unwrap();
    assert_eq!(next["state"], "next");
    assert!(next["activates_at"].as_i64().unwrap() > next["created_at"].as_i64().unwrap());
    let again: Value = app
        .as_admin(reqwest::Method::POST, "/admin/keys/rotate")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["kid"], next["kid"], "one rotation at a time");
    let after = list_keys(&app).await;
    assert_eq!(after.len(), 2);
    assert!(!serde_json::to_string(&after).unwrap().contains("PRIVATE"));
}

#[tokio::test]
async fn the_admin_token_revokes_a_key_and_an_unknown_kid_is_404() {
    let app = TestApp::spawn(with_admin()).await;
    let kid = list_keys(&app).await[0]["kid"].as_str().unwrap().to_owned();
    let path = format!("/admin/keys/{kid}/revoke");
    for token in [None, Some("wrong"), Some(PLAYGROUND_SECRET)] {
        let res = app.call(reqwest::Method::POST, &path, token).await;
        assert_eq!(res.status(), 401, "{token:?}");
        assert_eq!(
            header(res.headers(), "www-authenticate"),
            "Bearer realm=\"ms-auth-server-admin\""
        );
    }
    let res = app
        .as_admin(reqwest::Method::POST, "/admin/keys/no-such-kid/revoke")
        .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        serde_json::json!({"error": "not_found", "error_description": "no signing key has this kid"})
    );
    let res = app.as_admin(reqwest::Method::GET, &path).await;
    assert_eq!(res.status(), 405);
    assert_eq!(list_keys(&app).await.len(), 1, "nothing changed so far");

    let res = app.as_admin(reqwest::Method::POST, &path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(res.headers(), "cache-control"), "no-store");
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["revoked"]["kid"], kid.as_str());
    assert_eq!(done["revoked"]["state"], "revoked");
    assert_eq!(done["already_revoked"], false);
    let active = done["activated"]["kid"].as_str().unwrap().to_owned();
    assert_ne!(active, kid);
    let (_, _, jwks) = app.get_json("/oauth2/jwks").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], active.as_str());
    let states: Vec<(String, String)> = list_keys(&app)
        .await
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (kid.clone(), "revoked".to_owned()),
            (active.clone(), "active".to_owned())
        ]
    );
    let again: Value = app
        .as_admin(reqwest::Method::POST, &path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["already_revoked"], true);
    assert_eq!(again["activated"], Value::Null);
    assert_eq!(list_keys(&app).await.len(), 2, "idempotent");
}

#[tokio::test]
async fn keys_from_a_file_neither_rotate_nor_revoke() {
    let dir = std::env::temp_dir().join(format!("admin-key-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("key.pem");
    let pem =
        ms_auth_server::keys::SigningKey::generate(ms_auth_server::keys::SigningAlgorithm::ES256)
            .unwrap()
            .to_pkcs8_pem()
            .unwrap();
    std::fs::write(&path, pem).unwrap();
    let mut settings = with_admin();
    settings.keys.algorithm = ms_auth_server::keys::SigningAlgorithm::ES256;
    settings.keys.private_key_file = Some(path);
    let app = TestApp::spawn(settings).await;
    let res = app
        .as_admin(reqwest::Method::POST, "/admin/keys/rotate")
        .await;
    assert_eq!(res.status(), 409);
    let (_, _, jwks) = app.get_json("/oauth2/jwks").await;
    let kid = jwks["keys"][0]["kid"].as_str().unwrap();
    let res = app
        .as_admin(reqwest::Method::POST, &format!("/admin/keys/{kid}/revoke"))
        .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("keys_from_file"))
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// F6: guessing the admin token is throttled like client secrets: past the failures a source
/// may make, even the right token is refused with 429 until the window ends.
#[tokio::test]
async fn guessing_the_admin_token_is_throttled() {
    let mut settings = with_admin();
    settings.brute_force.max_failures_per_source = 3;
    settings.brute_force.window_secs = 86_400;
    let app = TestApp::spawn(settings).await;
    for guess in ["a", "b", "c"] {
        let res = app
            .call(reqwest::Method::GET, "/admin/keys", Some(guess))
            .await;
        assert_eq!(res.status(), 401, "{guess}");
    }
    let res = app.as_admin(reqwest::Method::GET, "/admin/keys").await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "slow_down", "{body}");
    // Client authentication keeps its own counters.
    let auth = PLAYGROUND_ID_SECRET;
    assert_eq!(
        app.token_basic(auth, "grant_type=client_credentials")
            .await
            .status(),
        200
    );
}
