//! The pages in a real headless Chromium (`ms_auth_server::testing::chromium`), served with the headers and
//! assets the server sends: the stylesheet loads under the Content-Security-Policy, the
//! sign-in form takes typing, the form_post page submits itself (and without JavaScript, by
//! its button), and `form-action` holds where the browser enforces it. Screenshots of each
//! page go to `target/screenshots/`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use actix_web::{HttpResponse, HttpServer, http::StatusCode, web};
use ms_auth_server::{
    http::{assets_form_post, assets_style, render_page},
    pages::{Consent, ErrorPage, FormPost, ScopeLine, SignIn, SignOut, SignedIn, SignedOut},
};
use serde_json::{Value, json};

use crate::helpers::Chromium;

const CONTEXT: &str = "/ms-auth-server";

/// What the client site received: each POST's form fields.
type Received = Arc<Mutex<Vec<Vec<(String, String)>>>>;

type Query = web::Query<HashMap<String, String>>;

/// The pages under the context path, with the real asset handlers: the server's origin.
async fn auth_site() -> String {
    let server = HttpServer::new(|| {
        actix_web::App::new().service(
            web::scope(CONTEXT)
                .route("/assets/style.css", web::get().to(assets_style))
                .route("/assets/form-post.js", web::get().to(assets_form_post))
                .route("/sign-in", web::get().to(sign_in))
                .route("/consent", web::get().to(consent))
                .route("/error", web::get().to(error))
                .route("/signed-in", web::get().to(signed_in))
                .route("/signed-out", web::get().to(signed_out))
                .route("/sign-out", web::get().to(sign_out))
                .route("/form-post", web::get().to(form_post))
                .route("/submit", web::post().to(submit)),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let origin = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    origin
}

/// `?to=ORIGIN&allow=1`: the client's callback, and whether the page's CSP lets forms go there.
fn client_target(q: &Query) -> (String, Option<String>) {
    let callback = format!("{}/cb", q.get("to").map_or("", String::as_str));
    let allowed = q.contains_key("allow").then(|| callback.clone());
    (callback, allowed)
}

/// The sign-in page; `?error=1` adds the alert, `?to=…` makes the form post to `/submit`,
/// which redirects to that client.
async fn sign_in(q: Query) -> HttpResponse {
    let (_, allowed) = client_target(&q);
    let action = match q.get("to") {
        Some(to) => format!("{CONTEXT}/submit?to={to}"),
        None => format!("{CONTEXT}/sign-in"),
    };
    let page = SignIn {
        context_path: CONTEXT.into(),
        action,
        interaction: "int-123".into(),
        csrf_token: "csrf-456".into(),
        username: q.get("username").cloned().unwrap_or_default(),
        error: q
            .contains_key("error")
            .then(|| "Wrong username or password.".into()),
        client_name: Some("Playground Web".into()),
    };
    render_page(StatusCode::OK, &page, allowed.as_deref())
}

/// A successful sign-in: 303 to the client, as the real one ends.
async fn submit(q: Query) -> HttpResponse {
    let (callback, _) = client_target(&q);
    HttpResponse::SeeOther()
        .insert_header(("Location", format!("{callback}?code=c0de&state=xyz")))
        .finish()
}

async fn consent() -> HttpResponse {
    let scope = |name: &str, description: &str| ScopeLine {
        name: name.into(),
        description: description.into(),
    };
    let page = Consent {
        context_path: CONTEXT.into(),
        action: format!("{CONTEXT}/consent"),
        interaction: "int-123".into(),
        csrf_token: "csrf-456".into(),
        client_name: "Playground Web".into(),
        client_id: "playground-web".into(),
        username: "alice".into(),
        scopes: vec![
            scope("openid", "Confirm who you are"),
            scope("profile", "See your name"),
            scope("email", "See your email address"),
            scope("offline_access", "Stay signed in to the application"),
            scope("customer.read", "Read customers"),
            scope("customer.write", "Create, change and delete customers"),
            scope("country.read", "Read countries"),
        ],
    };
    render_page(StatusCode::OK, &page, None)
}

async fn error() -> HttpResponse {
    let page = ErrorPage {
        context_path: CONTEXT.into(),
        title: "This sign-in link does not work".into(),
        message: "The application asked to return to an address it has not registered, so \
                  you were not sent back to it."
            .into(),
        code: Some("invalid_request".into()),
    };
    render_page(StatusCode::BAD_REQUEST, &page, None)
}

async fn signed_in() -> HttpResponse {
    let page = SignedIn {
        context_path: CONTEXT.into(),
        username: "alice".into(),
    };
    render_page(StatusCode::OK, &page, None)
}

async fn sign_out() -> HttpResponse {
    let page = SignOut {
        context_path: CONTEXT.into(),
        action: format!("{CONTEXT}/submit"),
        csrf_token: "csrf-789".into(),
        client_name: Some("Playground web app".into()),
        username: "alice".into(),
        fields: vec![("client_id", "playground-web".into())],
    };
    render_page(StatusCode::OK, &page, None)
}

async fn signed_out() -> HttpResponse {
    let page = SignedOut {
        context_path: CONTEXT.into(),
    };
    render_page(StatusCode::OK, &page, None)
}

/// The form_post response to `?to=`'s `/cb`.
async fn form_post(q: Query) -> HttpResponse {
    let (callback, allowed) = client_target(&q);
    let page = FormPost {
        context_path: CONTEXT.into(),
        action: callback,
        fields: vec![
            ("code".into(), "c0de".into()),
            ("state".into(), "a \"quoted\" <state> & more".into()),
        ],
    };
    render_page(StatusCode::OK, &page, allowed.as_deref())
}

/// The client: `/cb` takes the authorization response by POST (form_post) or GET (query), and
/// records it.
async fn client_site() -> (String, Received) {
    let received: Received = Arc::default();
    let shared = Arc::clone(&received);
    let server = HttpServer::new(move || {
        let on_post = Arc::clone(&shared);
        let on_get = Arc::clone(&shared);
        actix_web::App::new()
            .route(
                "/cb",
                web::post().to(move |form: web::Form<Vec<(String, String)>>| {
                    let received = Arc::clone(&on_post);
                    async move { callback(&received, form.into_inner()) }
                }),
            )
            .route(
                "/cb",
                web::get().to(move |q: web::Query<Vec<(String, String)>>| {
                    let received = Arc::clone(&on_get);
                    async move { callback(&received, q.into_inner()) }
                }),
            )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let origin = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    (origin, received)
}

fn callback(received: &Received, fields: Vec<(String, String)>) -> HttpResponse {
    received.lock().unwrap().push(fields);
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><title>client</title><p id=received>received</p>")
}

/// Waits until the browser is on `origin` (a submission navigates asynchronously).
async fn wait_for_origin(browser: &Chromium, origin: &str) -> bool {
    for _ in 0..50 {
        if browser.current_url().await.starts_with(origin) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// The console's errors: the CSP's refusals, script errors, and an asset that failed to
/// load. Not a page's own error status (the error page is a 400) nor the `/favicon.ico` a
/// browser asks for by itself (the server has none).
async fn console_errors(browser: &Chromium) -> Vec<String> {
    browser
        .console()
        .await
        .into_iter()
        .filter(|e| e.level == "SEVERE")
        .map(|e| e.message)
        .filter(|m| {
            let status = m.contains("Failed to load resource: the server responded with a status");
            !status || m.contains("/assets/")
        })
        .collect()
}

fn assert_png(path: &std::path::Path) {
    let png = std::fs::read(path).unwrap();
    assert!(
        png.len() > 1000,
        "{} is {} bytes",
        path.display(),
        png.len()
    );
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
}

/// Layout facts a test can check on any page: the card, its width and place, the font, the
/// colours the stylesheet gave.
async fn layout(browser: &Chromium) -> Value {
    browser
        .eval(
            r#"const main = document.querySelector("main");
               const r = main.getBoundingClientRect();
               const style = getComputedStyle(main);
               return {
                 sheets: document.styleSheets.length,
                 rules: document.styleSheets[0].cssRules.length,
                 left: r.left, right: window.innerWidth - r.right, width: r.width,
                 radius: style.borderTopLeftRadius,
                 card: style.backgroundColor,
                 page: getComputedStyle(document.body).backgroundColor,
                 brand: document.querySelector("header .brand").textContent.trim(),
                 lang: document.documentElement.lang,
               };"#,
            vec![],
        )
        .await
}

#[tokio::test]
async fn chromium_renders_the_sign_in_page_with_its_stylesheet_and_takes_typing() {
    let site = auth_site().await;
    let browser = Chromium::start().await;

    browser.goto(&format!("{site}{CONTEXT}/sign-in")).await;
    assert_eq!(
        browser.driver().title().await.unwrap(),
        "Sign in · ms-auth-server"
    );
    let facts = layout(&browser).await;
    // The stylesheet loaded under `style-src 'self'` and laid the card out: 420 px, centred.
    assert_eq!(facts["sheets"], 1, "{facts}");
    assert!(facts["rules"].as_u64().unwrap() > 20, "{facts}");
    assert_eq!(facts["width"], 420, "{facts}");
    let (left, right) = (
        facts["left"].as_f64().unwrap(),
        facts["right"].as_f64().unwrap(),
    );
    assert!((left - right).abs() <= 1.0, "the card is centred: {facts}");
    assert_eq!(facts["radius"], "12px");
    assert_ne!(facts["card"], facts["page"], "the card stands out: {facts}");
    assert_eq!(facts["brand"], "ms-auth-server");
    assert_eq!(facts["lang"], "en");

    let source = browser.page_source().await;
    assert!(source.contains(r#"<input type="hidden" name="csrf_token" value="csrf-456">"#));
    let password = browser.find("#password").await;
    assert_eq!(
        password.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    assert_eq!(
        password.attr("autocomplete").await.unwrap().as_deref(),
        Some("current-password")
    );
    // An empty username has the focus.
    let focused = browser
        .eval("return document.activeElement.id;", vec![])
        .await;
    assert_eq!(focused, "username");
    browser.fill("#username", "alice").await;
    browser.fill("#password", "alice-password").await;
    let typed = browser
        .eval(
            r#"return [document.getElementById("username").value,
                       document.getElementById("password").value.length];"#,
            vec![],
        )
        .await;
    assert_eq!(typed, json!(["alice", 14]));
    let shot = browser.screenshot("sign-in.png").await;
    assert_png(&shot);
    let errors = console_errors(&browser).await;
    assert!(
        errors.is_empty(),
        "nothing on the page was refused: {errors:?}"
    );

    // The failed attempt: the alert, the name kept, the focus on the password.
    browser
        .goto(&format!("{site}{CONTEXT}/sign-in?error=1&username=alice"))
        .await;
    let alert = browser.find("[role=alert]").await;
    assert_eq!(alert.text().await.unwrap(), "Wrong username or password.");
    assert!(alert.is_displayed().await.unwrap());
    let focused = browser
        .eval("return document.activeElement.id;", vec![])
        .await;
    assert_eq!(focused, "password");
    assert_png(&browser.screenshot("sign-in-error.png").await);

    // A phone: the card takes the width less the page's margins, and nothing scrolls sideways.
    browser
        .cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
        )
        .await;
    browser.goto(&format!("{site}{CONTEXT}/sign-in")).await;
    let facts = layout(&browser).await;
    assert_eq!(facts["width"], 390 - 2 * 16, "{facts}");
    let overflow = browser
        .eval(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await;
    assert_eq!(overflow, 0);
    assert_png(&browser.screenshot("sign-in-mobile.png").await);
    browser.quit().await;
}

#[tokio::test]
async fn chromium_renders_every_page_in_light_and_dark() {
    let site = auth_site().await;
    let browser = Chromium::start().await;
    for scheme in ["light", "dark"] {
        browser.prefer_color_scheme(scheme).await;
        let suffix = if scheme == "dark" { "-dark" } else { "" };
        for page in [
            "sign-in",
            "consent",
            "error",
            "signed-in",
            "sign-out",
            "signed-out",
        ] {
            browser.goto(&format!("{site}{CONTEXT}/{page}")).await;
            let facts = layout(&browser).await;
            assert_eq!(facts["width"], 420, "{page} ({scheme}): {facts}");
            assert_png(&browser.screenshot(&format!("{page}{suffix}.png")).await);
        }
        // The consent page's two buttons sit side by side, Allow the primary one.
        browser.goto(&format!("{site}{CONTEXT}/consent")).await;
        let buttons = browser
            .eval(
                r#"const a = document.getElementById("approve").getBoundingClientRect();
                   const d = document.getElementById("deny").getBoundingClientRect();
                   return {same_row: a.top === d.top, allow_right: a.left > d.left,
                           scopes: document.querySelectorAll(".scopes li").length};"#,
                vec![],
            )
            .await;
        assert_eq!(
            buttons,
            json!({"same_row": true, "allow_right": true, "scopes": 7})
        );
        // The sign-out question too: Sign out the primary button, on the right.
        browser.goto(&format!("{site}{CONTEXT}/sign-out")).await;
        let buttons = browser
            .eval(
                r#"const o = document.getElementById("sign-out").getBoundingClientRect();
                   const s = document.getElementById("stay").getBoundingClientRect();
                   return {same_row: o.top === s.top, sign_out_right: o.left > s.left};"#,
                vec![],
            )
            .await;
        assert_eq!(buttons, json!({"same_row": true, "sign_out_right": true}));
        let page = browser
            .eval(
                "return getComputedStyle(document.body).backgroundColor;",
                vec![],
            )
            .await;
        let expected = if scheme == "dark" {
            "rgb(14, 18, 32)"
        } else {
            "rgb(243, 245, 249)"
        };
        assert_eq!(page, expected, "{scheme}");
    }
    let errors = console_errors(&browser).await;
    assert!(
        errors.is_empty(),
        "nothing on the pages was refused: {errors:?}"
    );
    browser.quit().await;
}

#[tokio::test]
async fn chromium_submits_the_form_post_page_by_script_and_by_button() {
    let site = auth_site().await;
    let (client, received) = client_site().await;
    let browser = Chromium::start().await;

    // With JavaScript: the external script submits on load, to the client's origin the CSP
    // allows, with every field as sent.
    browser
        .goto(&format!("{site}{CONTEXT}/form-post?to={client}&allow=1"))
        .await;
    assert!(wait_for_origin(&browser, &client).await);
    assert_eq!(browser.current_url().await, format!("{client}/cb"));
    let expected = vec![
        ("code".to_owned(), "c0de".to_owned()),
        ("state".to_owned(), "a \"quoted\" <state> & more".to_owned()),
    ];
    assert_eq!(received.lock().unwrap().clone(), vec![expected.clone()]);

    // Without JavaScript: the page stays, and its <noscript> button submits it.
    browser.disable_javascript().await;
    browser
        .goto(&format!("{site}{CONTEXT}/form-post?to={client}&allow=1"))
        .await;
    assert!(browser.current_url().await.starts_with(&site));
    assert_png(&browser.screenshot("form-post-noscript.png").await);
    browser.click("#continue").await;
    assert!(wait_for_origin(&browser, &client).await);
    assert_eq!(received.lock().unwrap().len(), 2);
    assert_eq!(received.lock().unwrap()[1], expected);
    browser.quit().await;
}

#[tokio::test]
async fn chromium_holds_form_action_on_the_submission_and_the_redirect_after_it() {
    let site = auth_site().await;
    let (client, received) = client_site().await;
    let browser = Chromium::start().await;

    // The form_post page without the client's origin in `form-action`: refused.
    browser
        .goto(&format!("{site}{CONTEXT}/form-post?to={client}"))
        .await;
    assert!(!wait_for_origin(&browser, &client).await);
    let errors = console_errors(&browser).await;
    assert!(
        errors.iter().any(|e| e.contains("form-action")),
        "the refusal is reported: {errors:?}"
    );

    // A sign-in whose POST answers 303 to the client: Chromium checks `form-action` on the
    // redirect too, so without the client's origin the browser never gets there...
    browser
        .goto(&format!("{site}{CONTEXT}/sign-in?to={client}"))
        .await;
    browser.fill("#username", "alice").await;
    browser.fill("#password", "alice-password").await;
    browser.click("#sign-in").await;
    assert!(!wait_for_origin(&browser, &client).await);
    assert!(received.lock().unwrap().is_empty());
    let errors = console_errors(&browser).await;
    assert!(
        errors.iter().any(|e| e.contains("form-action")),
        "the redirect's refusal is reported: {errors:?}"
    );

    // ...and with it, it does.
    browser
        .goto(&format!("{site}{CONTEXT}/sign-in?to={client}&allow=1"))
        .await;
    browser.fill("#username", "alice").await;
    browser.fill("#password", "alice-password").await;
    browser.click("#sign-in").await;
    assert!(wait_for_origin(&browser, &client).await);
    assert_eq!(
        received.lock().unwrap().clone(),
        vec![vec![
            ("code".to_owned(), "c0de".to_owned()),
            ("state".to_owned(), "xyz".to_owned()),
        ]]
    );
    browser.quit().await;
}

/// The real server: Chromium opens playground-web's authorization request, alice types her
/// credentials into the sign-in page and approves the consent page, and the browser lands on
/// the client's redirect URI with the code, which the client exchanges. The client listens on
/// a free loopback port: playground-web's loopback redirect URI matches any port (RFC 8252
/// §7.3). Screenshots: `flow-sign-in.png`, `flow-consent.png`.
#[tokio::test]
async fn chromium_signs_alice_in_to_playground_web_and_approves_consent() {
    use crate::helpers::{ALICE, TestApp, WEB_CLIENT, authorize_url, pkce};
    let app = TestApp::playground().await;
    let received: Received = Arc::default();
    let shared = Arc::clone(&received);
    let server = HttpServer::new(move || {
        let on_get = Arc::clone(&shared);
        actix_web::App::new().route(
            "/login/oauth2/code/playground-web",
            web::get().to(move |q: web::Query<Vec<(String, String)>>| {
                let received = Arc::clone(&on_get);
                async move { callback(&received, q.into_inner()) }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let client_origin = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    let redirect_uri = format!("{client_origin}/login/oauth2/code/playground-web");

    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &app,
        WEB_CLIENT,
        &redirect_uri,
        &[
            ("scope", "openid profile email country.read"),
            ("state", "chromium-state"),
            ("nonce", "chromium-nonce"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let browser = Chromium::start().await;
    browser.goto(&url).await;
    assert_eq!(
        browser.driver().title().await.unwrap(),
        "Sign in · ms-auth-server"
    );
    assert!(browser.page_source().await.contains("Playground web app"));
    browser.fill("#username", ALICE.0).await;
    browser.fill("#password", ALICE.1).await;
    assert_png(&browser.screenshot("flow-sign-in.png").await);
    browser.click("#sign-in").await;
    // The consent page, once the sign-in (a password hash) has answered.
    browser.wait_for_text("id=\"approve\"").await;
    let consent = browser.find("#approve").await;
    let source = browser.page_source().await;
    for words in [
        "Playground web app",
        "Read countries",
        "See your email address",
    ] {
        assert!(source.contains(words), "{words}: {source}");
    }
    assert_png(&browser.screenshot("flow-consent.png").await);
    consent.click().await.unwrap();
    assert!(
        wait_for_origin(&browser, &client_origin).await,
        "the browser reached the client: {}",
        browser.current_url().await
    );
    let errors = console_errors(&browser).await;
    assert!(
        errors.is_empty(),
        "nothing was refused on the way: {errors:?}"
    );
    browser.quit().await;

    let fields = received
        .lock()
        .unwrap()
        .last()
        .cloned()
        .expect("a callback");
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("state").as_deref(), Some("chromium-state"));
    assert_eq!(get("iss").as_deref(), Some(crate::helpers::ISSUER));
    let code = get("code").expect("a code");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("code_verifier", &verifier)
        .finish();
    let (status, _, tokens) = crate::helpers::parts(
        app.token_basic("playground-web:playground-web-secret", &body)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let id = crate::helpers::claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "chromium-nonce");
}
