//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5): the code once, for its
//! client and redirect URI, with the verifier answering its challenge.

use crate::{authorize::urlencode, helpers::*};

#[tokio::test]
async fn a_replayed_code_fails_and_revokes_what_the_first_exchange_issued() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let flow = web_flow(&app, "openid offline_access country.read");
    let code = web_code(&app, &browser, &flow).await;
    let (status, first) = app.exchange_web(&code, &flow.verifier).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap();
    assert!(app.active_for_web(access).await);
    let (status, again) = app.exchange_web(&code, &flow.verifier).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // RFC 6749 §4.1.2: the tokens issued from the code are revoked, access token included.
    assert!(
        !app.active_for_web(access).await,
        "the access token is inactive"
    );
    let (status, body) = app
        .refresh_web(first["refresh_token"].as_str().unwrap(), &[])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn the_verifier_must_answer_the_challenge() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let flow = web_flow(&app, "openid");
    let code = web_code(&app, &browser, &flow).await;
    let (other, _) = pkce();
    let (status, body) = app.exchange_web(&code, &other).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("code_verifier")
    );
    // The code is spent by the failed attempt: it never works afterwards.
    let (status, _) = app.exchange_web(&code, &flow.verifier).await;
    assert_eq!(status, 400);

    // No verifier at all for a code issued with a challenge.
    let flow = web_flow(&app, "openid");
    let code = web_code(&app, &browser, &flow).await;
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        crate::authorize::urlencode(WEB_REDIRECT)
    );
    let (status, _, e) = parts(
        app.token_basic(&format!("{WEB_CLIENT}:{WEB_SECRET}"), &body)
            .await,
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));
}

/// RFC 9700 §2.1.1: a `code_verifier` for a code issued without a challenge (a legacy client
/// allowed to skip PKCE) is a downgrade attempt and is refused.
#[tokio::test]
async fn a_verifier_for_a_code_issued_without_a_challenge_is_refused() {
    let mut settings = playground_settings();
    for c in &mut settings.clients {
        if c.client_id == WEB_CLIENT {
            c.metadata.require_pkce = false;
        }
    }
    let app = TestApp::spawn(settings).await;
    let browser = Browser::new();
    let url = authorize_url(&app, WEB_CLIENT, WEB_REDIRECT, &[("scope", "openid")]);
    let code = web_code(
        &app,
        &browser,
        &Flow {
            verifier: String::new(),
            url: url.clone(),
        },
    )
    .await;
    let (verifier, _) = pkce();
    let (status, body) = app.exchange_web(&code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // Without a verifier the legacy client's code works.
    let hops = browser.open(&url).await;
    let code = param(&client_redirect(&hops), "code").unwrap().to_owned();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        crate::authorize::urlencode(WEB_REDIRECT)
    );
    let (status, _, tokens) = parts(
        app.token_basic(&format!("{WEB_CLIENT}:{WEB_SECRET}"), &body)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn the_code_is_bound_to_its_client_and_redirect_uri() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let flow = web_flow(&app, "openid");
    let code = web_code(&app, &browser, &flow).await;
    let body = format!(
        "grant_type=authorization_code&code={code}&code_verifier={}&redirect_uri={}",
        flow.verifier,
        crate::authorize::urlencode("http://127.0.0.1:8080/other")
    );
    let (status, _, e) = parts(
        app.token_basic(&format!("{WEB_CLIENT}:{WEB_SECRET}"), &body)
            .await,
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));

    let flow = web_flow(&app, "openid");
    let code = web_code(&app, &browser, &flow).await;
    let body = format!(
        "grant_type=authorization_code&client_id={SPA_CLIENT}&code={code}&code_verifier={}&redirect_uri={}",
        flow.verifier,
        crate::authorize::urlencode(WEB_REDIRECT)
    );
    let (status, _, e) = parts(app.token_form(&body).await).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "another client's code"
    );
    let (status, _, e) = parts(
        app.token_basic(PLAYGROUND_ID_SECRET, "grant_type=authorization_code&code=x")
            .await,
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("unauthorized_client")),
        "not registered for it"
    );
}

/// CORS for browser apps: the token response names the caller's `Origin` in
/// `Access-Control-Allow-Origin` only when it is the origin of one of the authenticated
/// client's redirect URIs (a loopback one at any port, RFC 8252 §7.3), with `Vary: Origin`.
#[tokio::test]
async fn a_browser_app_on_a_redirect_uris_origin_may_read_the_token_response() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let exchange = |origin: &'static str| {
        let (app, browser) = (&app, &browser);
        async move {
            let (code, verifier) = spa_code(app, browser, "openid country.read").await;
            let body = format!(
                "grant_type=authorization_code&client_id={SPA_CLIENT}&code={code}&code_verifier={verifier}&redirect_uri={}",
                urlencode(SPA_REDIRECT)
            );
            app.http
                .post(app.url("/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", origin)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    for (origin, allowed) in [
        ("http://127.0.0.1:8080", true),
        ("http://127.0.0.1:41234", true),
        ("http://localhost:8080", false),
        ("https://evil.example", false),
        ("null", false),
    ] {
        let res = exchange(origin).await;
        assert_eq!(res.status(), 200, "{origin}");
        assert_eq!(header(res.headers(), "vary"), "Origin", "{origin}");
        let acao = header(res.headers(), "access-control-allow-origin");
        assert_eq!(acao, if allowed { origin } else { "" }, "{origin}");
    }
    // No Origin (not a browser's cross-origin request): no CORS header at all.
    let body = "grant_type=client_credentials&client_id=service-client-jwt&client_secret=service-client-jwt-secret";
    let res = app.token_form(body).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert!(res.headers().get("vary").is_none());
}
