//! `GET`/`POST /oauth2/authorize` driven as a browser drives it: the sign-in and consent
//! pages, their cookies and CSRF protection, the redirect back with `code`, `state` and `iss`
//! (RFC 6749 §4.1, RFC 7636, RFC 9207, OIDC Core §3.1.2).

use crate::helpers::*;

const SCOPE: &str = "openid profile email offline_access country.read";

#[tokio::test]
async fn alice_signs_in_consents_and_the_client_gets_a_code_with_state_and_iss() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let flow = web_flow(&app, SCOPE);
    let hops = browser.open(&flow.url).await;
    let page = hops.last().unwrap();
    assert_eq!(page.status, 200);
    // The page's security headers.
    assert_eq!(header(&page.headers, "cache-control"), "no-store");
    assert_eq!(header(&page.headers, "referrer-policy"), "no-referrer");
    let csp = header(&page.headers, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let form = page.form();
    assert!(form.value("username").is_some() && form.fields.iter().any(|f| f.name == "password"));
    assert!(page.body.contains("Playground web app"), "names the client");
    // The interaction is bound to this browser by a cookie with the pages' attributes.
    let binding = page
        .set_cookie("ms_auth_interaction")
        .expect("binding cookie");
    assert!(
        binding.contains("HttpOnly") && binding.contains("SameSite=Lax"),
        "{binding}"
    );
    assert!(binding.contains("Path=/ms-auth-server"), "{binding}");
    assert!(
        !binding.contains("Secure"),
        "a plain-http loopback issuer: {binding}"
    );

    let after = sign_in(&browser, page, ALICE).await;
    let consent_page = after.last().unwrap();
    assert_eq!(consent_page.status, 200, "{}", consent_page.body);
    let session = after[0]
        .set_cookie("ms_auth_session")
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(session.contains("Path=/ms-auth-server"), "{session}");
    for description in ["Read countries", "See your email address", "Stay signed in"] {
        assert!(
            consent_page.body.contains(description),
            "{description}: {}",
            consent_page.body
        );
    }
    let done = consent(&browser, consent_page, "approve").await;
    let pairs = client_redirect(&done);
    let location = done.last().unwrap().location().unwrap();
    assert!(location.as_str().starts_with(WEB_REDIRECT), "{location}");
    assert_eq!(param(&pairs, "state"), Some("st"));
    assert_eq!(param(&pairs, "iss"), Some(ISSUER));
    let code = param(&pairs, "code").unwrap();
    assert_eq!(code.len(), 43);

    let (status, tokens) = app.exchange_web(code, &flow.verifier).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], SCOPE);
    assert!(tokens["refresh_token"].as_str().is_some());
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], ISSUER);
    assert_eq!(id["aud"], WEB_CLIENT);
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert!(id["sid"].as_str().is_some() && id["auth_time"].as_u64().is_some());
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert_eq!(
        jose_header(tokens["id_token"].as_str().unwrap())["typ"],
        "JWT"
    );
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], id["sub"], "both name the user");
    assert_eq!(access["client_id"], WEB_CLIENT);
}

#[tokio::test]
async fn consent_is_remembered_then_revoked_through_the_account_api() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let first = web_flow(&app, "openid country.read");
    let code = web_code(&app, &browser, &first).await;
    let (_, tokens) = app.exchange_web(&code, &first.verifier).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    // The same scopes again: straight back to the client, no page.
    let again = web_flow(&app, "country.read openid");
    let hops = browser.open(&again.url).await;
    assert!(param(&client_redirect(&hops), "code").is_some());
    // A new scope asks again.
    let more = web_flow(&app, "openid email");
    let hops = browser.open(&more.url).await;
    assert_eq!(hops.last().unwrap().status, 200);
    assert!(hops.last().unwrap().body.contains("decision"));

    let listed = browser
        .get(&app.url("/account/consents"))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(listed["consents"][0]["client_id"], WEB_CLIENT);
    let revoked = browser
        .http
        .delete(app.url("/account/consents/playground-web"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    // Its tokens went with it, and the next request asks again.
    let (status, body) = app.refresh_web(&refresh, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        !app.active_for_web(tokens["access_token"].as_str().unwrap())
            .await
    );
    let hops = browser.open(&again.url).await;
    assert!(hops.last().unwrap().body.contains("decision"));
    // Signed out, the account API says so.
    let anonymous = reqwest::get(app.url("/account/consents")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn the_first_party_spa_skips_consent_and_exchanges_without_a_secret() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let (code, verifier) = spa_code(&app, &browser, "openid country.read").await;
    let body = format!(
        "grant_type=authorization_code&client_id={SPA_CLIENT}&code={code}&code_verifier={verifier}&redirect_uri={}",
        urlencode(SPA_REDIRECT)
    );
    let (status, _, tokens) = parts(app.token_form(&body).await).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["id_token"].as_str().is_some());
    // A public client may never use client_credentials.
    let (status, _, e) = parts(
        app.token_form(&format!(
            "grant_type=client_credentials&client_id={SPA_CLIENT}"
        ))
        .await,
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // Nor introspect: it cannot authenticate.
    let (status, _, _) = parts(
        app.form_post_to(
            "/oauth2/introspect",
            &format!("client_id={SPA_CLIENT}&token=x"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_unknown_client_or_redirect_uri_shows_an_error_page_and_never_redirects() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    for url in [
        authorize_url(
            &app,
            WEB_CLIENT,
            "https://evil.example/cb",
            &[("scope", "openid")],
        ),
        authorize_url(&app, "nobody", WEB_REDIRECT, &[("scope", "openid")]),
        app.url("/oauth2/authorize?response_type=code"),
    ] {
        let hops = browser.open(&url).await;
        let last = hops.last().unwrap();
        assert_eq!(last.status, 400, "{url}");
        assert!(last.location().is_none(), "{url}");
        assert!(
            !last.body.contains("evil.example"),
            "{url}: nothing of it echoed as a link"
        );
    }
}

#[tokio::test]
async fn errors_after_the_redirect_uri_is_known_go_back_with_state_and_iss() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let cases: &[(&[(&str, &str)], &str)] = &[
        // PKCE missing: required of every client by default.
        (&[("scope", "openid"), ("state", "s1")], "invalid_request"),
        // plain is refused unless configured.
        (
            &[
                ("scope", "openid"),
                ("state", "s1"),
                (
                    "code_challenge",
                    "a-plain-challenge-of-forty-three-characters-xx",
                ),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            &[
                ("scope", "openid unknown.scope"),
                ("state", "s1"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ],
            "invalid_scope",
        ),
        (
            &[("scope", "openid"), ("state", "s1"), ("request", "eyJ.x.y")],
            "request_not_supported",
        ),
        (
            &[
                ("scope", "openid"),
                ("state", "s1"),
                ("request_uri", "urn:x"),
            ],
            "request_uri_not_supported",
        ),
    ];
    for (params, code) in cases {
        let url = authorize_url(&app, WEB_CLIENT, WEB_REDIRECT, params);
        let pairs = client_redirect(&browser.open(&url).await);
        assert_eq!(param(&pairs, "error"), Some(*code), "{params:?}");
        assert_eq!(param(&pairs, "state"), Some("s1"));
        assert_eq!(param(&pairs, "iss"), Some(ISSUER));
        assert!(param(&pairs, "error_description").is_some());
    }
    // (`token` is supported in the playground, which registers playground-legacy for it.)
    let url =
        app.url("/oauth2/authorize?response_type=code%20token&client_id=playground-web&state=s1");
    let pairs = client_redirect(&browser.open(&url).await);
    assert_eq!(param(&pairs, "error"), Some("unsupported_response_type"));
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required_and_max_age_0_signs_in_again() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let (_, challenge) = pkce();
    let none = authorize_url(
        &app,
        SPA_CLIENT,
        SPA_REDIRECT,
        &[
            ("scope", "openid"),
            ("prompt", "none"),
            ("state", "p"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let pairs = client_redirect(&browser.open(&none).await);
    assert_eq!(param(&pairs, "error"), Some("login_required"));
    assert_eq!(param(&pairs, "state"), Some("p"));

    // Signed in, prompt=none gets a code; max_age=0 shows the sign-in page again.
    let flow = web_flow(&app, "openid");
    web_code(&app, &browser, &flow).await;
    let silent = format!("{}&prompt=none", web_flow(&app, "openid").url);
    assert!(param(&client_redirect(&browser.open(&silent).await), "code").is_some());
    let forced = format!("{}&max_age=0", web_flow(&app, "openid").url);
    let hops = browser.open(&forced).await;
    assert!(hops.last().unwrap().body.contains("name=\"password\""));
    // And consent without it is consent_required.
    let other = format!("{}&prompt=none", web_flow(&app, "openid email").url);
    let pairs = client_redirect(&browser.open(&other).await);
    assert_eq!(param(&pairs, "error"), Some("consent_required"));
}

#[tokio::test]
async fn forms_from_another_site_another_browser_or_a_stale_page_are_refused() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let flow = web_flow(&app, "openid");
    let hops = browser.open(&flow.url).await;
    let form = hops.last().unwrap().form();
    let entries = form.entries(&[("username", "alice"), ("password", "alice-password")]);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&entries)
        .finish();
    // Cross-site.
    let res = browser
        .http
        .post(form.action.clone())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Without Fetch Metadata, a foreign Origin, or `null`, is refused too.
    for origin in ["https://evil.example", "null"] {
        let res = browser
            .http
            .post(form.action.clone())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Origin", origin)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{origin}");
    }
    // Another browser (no binding cookie), same fields.
    let other = Browser::new();
    let res = other
        .http
        .post(form.action.clone())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(other.cookie(&app.url("/"), "ms_auth_session").is_none());
    // A wrong CSRF token.
    let res = browser
        .submit(
            &form,
            &[
                ("username", "alice"),
                ("password", "alice-password"),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    // The genuine form still works.
    let done = sign_in(&browser, hops.last().unwrap(), ALICE).await;
    assert_eq!(done.last().unwrap().status, 200);
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_an_unknown_user_reads_the_same() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let flow = web_flow(&app, "openid");
    let hops = browser.open(&flow.url).await;
    let wrong = sign_in(
        &browser,
        hops.last().unwrap(),
        ("alice", "not-her-password"),
    )
    .await;
    let unknown = sign_in(
        &browser,
        wrong.last().unwrap(),
        ("mallory", "whatever-it-is"),
    )
    .await;
    for page in [wrong.last().unwrap(), unknown.last().unwrap()] {
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("Wrong username or password."),
            "{}",
            page.body
        );
        assert!(!page.body.contains("whatever-it-is") && !page.body.contains("not-her-password"));
    }
    assert!(browser.cookie(&app.url("/"), "ms_auth_session").is_none());
    // Still the same interaction: the right password goes on.
    let done = sign_in(&browser, unknown.last().unwrap(), ALICE).await;
    assert!(done.last().unwrap().body.contains("decision"));
}

#[tokio::test]
async fn response_modes_fragment_and_form_post() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let flow = web_flow(&app, "openid");
    web_code(&app, &browser, &flow).await;
    let fragment = format!("{}&response_mode=fragment", web_flow(&app, "openid").url);
    let hops = browser.open(&fragment).await;
    let location = hops.last().unwrap().location().unwrap();
    assert!(
        location.query().is_none() && location.fragment().unwrap().contains("code="),
        "{location}"
    );
    let post = format!("{}&response_mode=form_post", web_flow(&app, "openid").url);
    let hops = browser.open(&post).await;
    let page = hops.last().unwrap();
    assert_eq!(page.status, 200);
    let form = page.form();
    assert_eq!(form.action.as_str(), WEB_REDIRECT);
    assert_eq!(form.method, reqwest::Method::POST);
    assert!(form.hidden("code").is_some());
    assert_eq!(form.hidden("state"), Some("st"));
    assert_eq!(form.hidden("iss"), Some(ISSUER));
    let csp = header(&page.headers, "content-security-policy");
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:8080"),
        "{csp}"
    );
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_issuer_is_https() {
    let mut settings = playground_settings();
    settings.issuer = "https://auth.example.com/ms-auth-server".into();
    let app = TestApp::spawn(settings).await;
    let browser = Browser::new();
    let hops = browser.open(&web_flow(&app, "openid").url).await;
    let binding = hops
        .last()
        .unwrap()
        .set_cookie("ms_auth_interaction")
        .unwrap();
    assert!(binding.contains("Secure"), "{binding}");
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A user the config no longer lists is disabled at the next start: the right password then
/// reads "disabled", and what was issued to them before stops working.
#[tokio::test]
async fn a_disabled_user_is_refused_and_their_tokens_end() {
    let dir = std::env::temp_dir().join(format!("disabled-user-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = format!("sqlite://{}/auth.db", dir.display());
    let mut settings = playground_settings();
    settings.store.url = store.clone();
    let app = TestApp::spawn(settings.clone()).await;
    let browser = Browser::new();
    let flow = web_flow(&app, "openid offline_access");
    let code = web_code(&app, &browser, &flow).await;
    let (_, tokens) = app.exchange_web(&code, &flow.verifier).await;
    app.stop().await;

    settings.users.retain(|u| u.username != "alice");
    let app = TestApp::spawn(settings).await;
    let (status, body) = app
        .refresh_web(tokens["refresh_token"].as_str().unwrap(), &[])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        !app.active_for_web(tokens["access_token"].as_str().unwrap())
            .await
    );
    // Her old session is over: the sign-in page again, and the right password is refused.
    let browser_flow = web_flow(&app, "openid");
    let hops = browser.open(&browser_flow.url).await;
    let refused = sign_in(&browser, hops.last().unwrap(), ALICE).await;
    let page = refused.last().unwrap();
    assert!(
        page.body.contains("This account is disabled"),
        "{}",
        page.body
    );
    app.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}

/// A storm of sign-ins queues on the bounded hashing pool and, past its queue, is answered
/// 503 with `Retry-After`; the token endpoint keeps answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_storm_is_bounded_and_never_starves_the_token_endpoint() {
    let mut settings = playground_settings();
    settings.passwords.max_concurrent = 1;
    settings.passwords.max_queued = 1;
    let app = std::sync::Arc::new(TestApp::spawn(settings).await);
    // Each attempt its own browser with its own pending sign-in.
    let mut pages = Vec::new();
    for _ in 0..12 {
        let browser = Browser::new();
        let hops = browser.open(&web_flow(&app, "openid").url).await;
        let form = hops.last().unwrap().form();
        pages.push((browser, form));
    }
    let storm: Vec<_> = pages
        .into_iter()
        .map(|(browser, form)| {
            tokio::spawn(async move {
                let res = browser
                    .submit(
                        &form,
                        &[("username", "alice"), ("password", "alice-password")],
                    )
                    .await;
                let retry = header(res.headers(), "retry-after");
                (res.status().as_u16(), retry)
            })
        })
        .collect();
    let mut tokens_ok = 0;
    for _ in 0..10 {
        let res = app
            .token_basic(PLAYGROUND_ID_SECRET, "grant_type=client_credentials")
            .await;
        if res.status() == 200 {
            tokens_ok += 1;
        }
    }
    let mut outcomes = Vec::new();
    for s in storm {
        outcomes.push(s.await.unwrap());
    }
    assert_eq!(
        tokens_ok, 10,
        "every token request answered during the storm"
    );
    let busy: Vec<_> = outcomes.iter().filter(|(s, _)| *s == 503).collect();
    assert!(!busy.is_empty(), "past the queue, 503: {outcomes:?}");
    assert!(
        busy.iter()
            .all(|(_, r)| r.parse::<u64>().is_ok_and(|s| s >= 1)),
        "{busy:?}"
    );
    assert!(
        outcomes.iter().any(|(s, _)| *s == 200),
        "the queued ones were served: {outcomes:?}"
    );
}
