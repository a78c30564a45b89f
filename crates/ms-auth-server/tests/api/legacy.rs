//! The discouraged legacy flows (RFC 9700 §2.1.2, §2.4), each off unless a client is
//! registered for it: the implicit flows at the authorization endpoint (RFC 6749 §4.2, OIDC
//! Core §3.2) and the password grant at the token endpoint (RFC 6749 §4.3).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ms_auth_server::{
    Settings,
    oauth::{
        client::{AuthMethod, ClientMetadata, GrantType, ResponseType},
        scope::ScopeSet,
        secret::ClientSecret,
    },
    settings::ClientSettings,
};
use serde_json::json;

use crate::helpers::*;

const LEGACY: &str = "playground-legacy";
const LEGACY_ID_SECRET: &str = "playground-legacy:playground-legacy-secret";
const LEGACY_REDIRECT: &str = "http://127.0.0.1:8080/legacy/callback";
const NONCE: &str = "n-0S6_WzA2Mj";

/// The playground without its legacy client: no client may use a legacy flow.
fn without_legacy() -> Settings {
    let mut settings = playground_settings();
    settings.clients.retain(|c| c.client_id.as_str() != LEGACY);
    settings
}

/// playground-legacy's authorization request with `response_type` and `params`.
fn legacy_url(app: &TestApp, response_type: &str, params: &[(&str, &str)]) -> String {
    authorize_url_for(response_type, app, LEGACY, LEGACY_REDIRECT, params)
}

/// The parameters of the redirect ending `hops`, checked to be in the fragment: never in the
/// query (Multiple Response Type Encoding Practices §5).
fn in_fragment(hops: &[Hop]) -> Vec<(String, String)> {
    let location = hops.last().unwrap().location().unwrap();
    assert!(location.fragment().is_some(), "{location}");
    assert_eq!(location.query(), None, "{location}");
    client_redirect(hops)
}

/// Alice signs in (playground-legacy is first-party: no consent page): the hops to the client.
async fn signed_in_hops(browser: &Browser, url: &str) -> Vec<Hop> {
    let hops = browser.open(url).await;
    let page = hops.last().unwrap();
    if page.status == 200 && page.body.contains("name=\"password\"") {
        sign_in(browser, page, ALICE).await
    } else {
        hops
    }
}

/// OIDC Core §3.2.2.10 / §3.1.3.6: the left half of SHA-256 (RS256) of the access token.
fn at_hash(access_token: &str) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16])
}

/// `grant_type=password` for `username` and `password`, asking for `scope`, by `id_secret`.
async fn password_grant(
    app: &TestApp,
    id_secret: &str,
    username: &str,
    password: &str,
    scope: &str,
) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("username", username)
        .append_pair("password", password)
        .append_pair("scope", scope)
        .finish();
    app.token_basic(id_secret, &body).await
}

/// A confidential client registered for the password grant and refresh tokens.
fn refreshing_password_client() -> ClientSettings {
    ClientSettings::confidential(
        "password-refresher",
        ClientSecret::new("password-refresher-secret"),
        ClientMetadata::new()
            .grant(GrantType::Password)
            .grant(GrantType::RefreshToken)
            .method(AuthMethod::ClientSecretBasic)
            .scope(ScopeSet::parse_param("openid profile country.read").unwrap()),
    )
}

#[tokio::test]
async fn discovery_lists_the_legacy_flows_only_when_a_client_may_use_them() {
    let app = TestApp::playground().await;
    let (_, _, with) = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        with["response_types_supported"],
        json!(["code", "token", "id_token", "id_token token"])
    );
    assert_eq!(
        with["grant_types_supported"],
        json!([
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "implicit",
            "password"
        ])
    );
    let app = TestApp::spawn(without_legacy()).await;
    let (_, _, without) = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(without["response_types_supported"], json!(["code"]));
    assert_eq!(
        without["grant_types_supported"],
        json!(["authorization_code", "client_credentials", "refresh_token"])
    );
}

#[tokio::test]
async fn implicit_is_refused_to_clients_not_registered_for_it() {
    // playground-web is registered for the code flow only: unauthorized_client, delivered in
    // the fragment (the implicit response types' mode) since its redirect URI is valid.
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let url = authorize_url_for(
        "token",
        &app,
        WEB_CLIENT,
        WEB_REDIRECT,
        &[("scope", "country.read"), ("state", "st")],
    );
    let pairs = in_fragment(&browser.open(&url).await);
    assert_eq!(param(&pairs, "error"), Some("unauthorized_client"));
    assert_eq!(param(&pairs, "state"), Some("st"));
    assert_eq!(param(&pairs, "iss"), Some(ISSUER));
    // An unregistered redirect URI is never redirected to.
    let url = authorize_url_for(
        "token",
        &app,
        LEGACY,
        "http://127.0.0.1:8080/elsewhere",
        &[],
    );
    assert_eq!(browser.open(&url).await.last().unwrap().status, 400);

    // With no client registered for it, the server does not support it at all.
    let app = TestApp::spawn(without_legacy()).await;
    let url = authorize_url_for(
        "token",
        &app,
        WEB_CLIENT,
        WEB_REDIRECT,
        &[("scope", "country.read")],
    );
    let pairs = client_redirect(&browser.open(&url).await);
    assert_eq!(param(&pairs, "error"), Some("unsupported_response_type"));
}

#[tokio::test]
async fn response_type_token_delivers_an_access_token_in_the_fragment_and_never_a_refresh_token() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let url = legacy_url(&app, "token", &[("scope", "country.read"), ("state", "st")]);
    let pairs = in_fragment(&signed_in_hops(&browser, &url).await);
    let names: Vec<_> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    // RFC 6749 §4.2.2: scope only when it differs from the request's; no refresh_token.
    assert_eq!(
        names,
        ["access_token", "token_type", "expires_in", "state", "iss"]
    );
    assert_eq!(param(&pairs, "token_type"), Some("Bearer"));
    let access = param(&pairs, "access_token").unwrap();
    // The code flow's RFC 9068 access token.
    assert_eq!(jose_header(access)["typ"], "at+jwt");
    let c = claims(access);
    assert_eq!(c["client_id"], LEGACY);
    assert_eq!(c["aud"], "http://localhost:8085/country-service");
    assert_eq!(
        param(&pairs, "expires_in").unwrap().parse::<i64>().unwrap(),
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()
    );
    // No ID token for `token` alone, even with openid granted.
    let url = legacy_url(&app, "token", &[("scope", "openid country.read")]);
    let pairs = in_fragment(&signed_in_hops(&browser, &url).await);
    assert!(param(&pairs, "access_token").is_some());
    assert_eq!(param(&pairs, "id_token"), None);
}

#[tokio::test]
async fn id_token_token_binds_the_id_token_to_the_access_token_and_the_nonce() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    // The other order of the space-separated values is the same response type.
    for response_type in ["id_token token", "token id_token"] {
        let url = legacy_url(
            &app,
            response_type,
            &[
                ("scope", "openid profile"),
                ("state", "st"),
                ("nonce", NONCE),
            ],
        );
        let pairs = in_fragment(&signed_in_hops(&browser, &url).await);
        assert_eq!(param(&pairs, "refresh_token"), None);
        let access = param(&pairs, "access_token").unwrap();
        let id = claims(param(&pairs, "id_token").unwrap());
        assert_eq!(id["at_hash"], at_hash(access), "{response_type}");
        assert_eq!(id["nonce"], NONCE);
        assert_eq!(id["aud"], LEGACY);
        assert_eq!(id["iss"], ISSUER);
        assert_eq!(id["amr"], json!(["pwd"]));
        assert!(id["auth_time"].is_i64() && id["sid"].is_string());
        // With an access token, the claims are the userinfo endpoint's (OIDC Core §5.4).
        assert_eq!(id.get("name"), None);
    }
}

#[tokio::test]
async fn id_token_alone_carries_the_users_claims_by_scope() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let url = legacy_url(
        &app,
        "id_token",
        &[("scope", "openid profile"), ("nonce", NONCE)],
    );
    let pairs = in_fragment(&signed_in_hops(&browser, &url).await);
    let names: Vec<_> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["id_token", "iss"]);
    let id = claims(param(&pairs, "id_token").unwrap());
    assert_eq!(id["name"], "Alice Example");
    assert_eq!(id["nonce"], NONCE);
    assert_eq!(id.get("at_hash"), None);
    assert_eq!(id.get("email"), None, "email was not asked for");
}

#[tokio::test]
async fn an_id_token_needs_a_nonce_and_openid() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    for (response_type, params) in [
        ("id_token", vec![("scope", "openid")]),
        ("id_token token", vec![("scope", "openid")]),
        ("id_token", vec![("scope", "profile"), ("nonce", NONCE)]),
    ] {
        let url = legacy_url(&app, response_type, &params);
        let pairs = in_fragment(&browser.open(&url).await);
        assert_eq!(
            param(&pairs, "error"),
            Some("invalid_request"),
            "{response_type} {params:?}"
        );
    }
}

#[tokio::test]
async fn tokens_are_never_put_in_a_query_but_may_be_posted() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    // Multiple Response Type Encoding Practices §5: refused, the error in the fragment.
    let url = legacy_url(
        &app,
        "token",
        &[("scope", "country.read"), ("response_mode", "query")],
    );
    let pairs = in_fragment(&browser.open(&url).await);
    assert_eq!(param(&pairs, "error"), Some("invalid_request"));

    let url = legacy_url(
        &app,
        "id_token token",
        &[
            ("scope", "openid"),
            ("nonce", NONCE),
            ("response_mode", "form_post"),
        ],
    );
    let hops = signed_in_hops(&browser, &url).await;
    let page = hops.last().unwrap();
    assert_eq!(page.status, 200);
    let form = page.form();
    assert!(form.hidden("access_token").is_some() && form.hidden("id_token").is_some());
}

#[tokio::test]
async fn the_password_grant_issues_tokens_to_a_client_registered_for_it() {
    let app = TestApp::spawn(playground_with([refreshing_password_client()])).await;
    // playground-legacy may not refresh: no refresh token.
    let res = password_grant(
        &app,
        LEGACY_ID_SECRET,
        "alice",
        "alice-password",
        "openid profile",
    )
    .await;
    let (status, headers, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid profile");
    assert_eq!(body.get("refresh_token"), None);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(jose_header(access)["typ"], "at+jwt");
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["at_hash"], at_hash(access));
    assert_eq!(id["amr"], json!(["pwd"]));
    assert_eq!(id.get("sid"), None, "no browser session");
    assert_eq!(claims(access)["sub"], id["sub"]);

    // A client that may refresh gets a family bound to no session, and it rotates.
    let res = password_grant(
        &app,
        "password-refresher:password-refresher-secret",
        "alice",
        "alice-password",
        "country.read",
    )
    .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.get("id_token"), None, "no openid, no ID token");
    let refresh = body["refresh_token"].as_str().unwrap();
    let res = app
        .token_basic(
            "password-refresher:password-refresher-secret",
            &format!("grant_type=refresh_token&refresh_token={refresh}"),
        )
        .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn the_password_grant_is_refused_to_other_clients() {
    // Registered for another grant: unauthorized_client; with no client registered for it,
    // the grant is unsupported.
    for (settings, code) in [
        (playground_settings(), "unauthorized_client"),
        (without_legacy(), "unsupported_grant_type"),
    ] {
        let app = TestApp::spawn(settings).await;
        let web = format!("{WEB_CLIENT}:{WEB_SECRET}");
        let res = password_grant(&app, &web, "alice", "alice-password", "openid").await;
        assert_oauth_error(res, 400, code).await;
    }
    // A public client can never be registered for it.
    let public = ClientSettings {
        client_id: "public-password".to_owned(),
        client_secret: None,
        client_secret_hash: None,
        metadata: ClientMetadata::new()
            .grant(GrantType::Password)
            .method(AuthMethod::None)
            .scope(ScopeSet::parse_param("openid").unwrap()),
    };
    let e = playground_with([public])
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("grant_types"), "{e}");
    // Nor an implicit response type without the implicit grant (RFC 7591 §2.1).
    let inconsistent = ClientSettings::confidential(
        "inconsistent",
        ClientSecret::new("inconsistent-secret"),
        ClientMetadata::new()
            .grant(GrantType::AuthorizationCode)
            .response_type(ResponseType::Token)
            .method(AuthMethod::ClientSecretBasic)
            .redirect_uri(
                ms_auth_server::oauth::client::RedirectUri::parse("http://127.0.0.1:8080/cb")
                    .unwrap(),
            )
            .scope(ScopeSet::parse_param("openid").unwrap()),
    );
    let e = playground_with([inconsistent])
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("response_types"), "{e}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_answer_the_same() {
    let app = TestApp::playground().await;
    let wrong = password_grant(&app, LEGACY_ID_SECRET, "alice", "not-hers", "openid").await;
    let wrong = assert_oauth_error(wrong, 400, "invalid_grant").await;
    let unknown = password_grant(
        &app,
        LEGACY_ID_SECRET,
        "mallory",
        "alice-password",
        "openid",
    )
    .await;
    let unknown = assert_oauth_error(unknown, 400, "invalid_grant").await;
    assert_eq!(wrong, unknown);
    // A missing password is a malformed request, not a failed sign-in.
    let res = app
        .token_basic(LEGACY_ID_SECRET, "grant_type=password&username=alice")
        .await;
    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_username_with_too_many_failures_is_locked_out_as_at_the_sign_in_page() {
    let mut settings = playground_settings();
    settings.brute_force.window_secs = 86_400;
    settings.brute_force.max_failures_per_client = 3;
    settings.brute_force.delay_after_failures = 100;
    let app = TestApp::spawn(settings).await;
    for _ in 0..3 {
        let res = password_grant(&app, LEGACY_ID_SECRET, "alice", "guess", "openid").await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
    // Locked: even the right password is refused, with when to come back.
    let res = password_grant(&app, LEGACY_ID_SECRET, "alice", "alice-password", "openid").await;
    let retry_after = header(res.headers(), "retry-after");
    assert!(retry_after.parse::<u64>().unwrap() > 0);
    let d = assert_oauth_error(res, 429, "slow_down").await;
    assert!(d.contains("sign-ins"), "{d}");
    // The sign-in page shares the counter: it is limited for alice too.
    let browser = Browser::new();
    let url = legacy_url(&app, "token", &[("scope", "country.read")]);
    let hops = browser.open(&url).await;
    let after = sign_in(&browser, hops.last().unwrap(), ALICE).await;
    assert_eq!(after.last().unwrap().status, 429);
}

#[tokio::test]
async fn a_disabled_user_is_refused() {
    // admin, removed from the config at a restart, is disabled in the store.
    let dir = std::env::temp_dir().join(format!("legacy-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut settings = playground_settings();
    settings.store.url = format!("sqlite://{}/auth.db", dir.display());
    let app = TestApp::spawn(settings.clone()).await;
    let res = password_grant(&app, LEGACY_ID_SECRET, "admin", "admin-password", "openid").await;
    assert_eq!(res.status(), 200);
    app.stop().await;
    settings.users.retain(|u| u.username != "admin");
    let app = TestApp::spawn(settings).await;
    let res = password_grant(&app, LEGACY_ID_SECRET, "admin", "admin-password", "openid").await;
    let d = assert_oauth_error(res, 400, "invalid_grant").await;
    assert!(d.contains("disabled"), "{d}");
    app.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An implicit access token ends with its session, as the code flow's do: a logout (and a
/// withdrawn consent) finds its family by the spent code row it was recorded under.
#[tokio::test]
async fn an_implicit_access_token_is_denied_once_its_session_ends() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let url = legacy_url(
        &app,
        "id_token token",
        &[("scope", "openid country.read"), ("nonce", NONCE)],
    );
    let pairs = in_fragment(&signed_in_hops(&browser, &url).await);
    let access = param(&pairs, "access_token").unwrap().to_owned();
    let id_token = param(&pairs, "id_token").unwrap().to_owned();
    let active = |token: String| {
        let app = &app;
        async move {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("token", &token)
                .finish();
            let (status, _, json) = parts(
                app.post_basic("/oauth2/introspect", LEGACY_ID_SECRET, &body)
                    .await,
            )
            .await;
            assert_eq!(status, 200, "{json}");
            json["active"] == true
        }
    };
    assert!(active(access.clone()).await);
    let mut logout = reqwest::Url::parse(&app.url("/connect/logout")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &id_token);
    let hops = browser.open(logout.as_str()).await;
    assert!(hops.last().unwrap().body.contains("You are signed out"));
    assert!(!active(access).await, "denied with its session");
    app.stop().await;
}
