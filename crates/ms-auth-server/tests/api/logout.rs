//! Logout over real HTTP: RP-initiated logout at `/connect/logout` (OpenID Connect
//! RP-Initiated Logout 1.0) with and without an `id_token_hint`, a `post_logout_redirect_uri`
//! never followed unless registered, `state` echoed; the session's refresh tokens revoked and
//! its offline ones kept; back-channel logout (Back-Channel Logout 1.0) to a real HTTP
//! receiver that verifies each logout token against the JWKS, delivered exactly once across a
//! receiver outage and a restart of the server, and by one of two replicas; the account API
//! listing and ending sessions, which notifies the same way.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{HttpResponse, HttpServer, web};
use ms_auth_server::{Settings, clock::ManualClock, oauth::client::RedirectUri};
use serde_json::Value;

use crate::{
    helpers::*,
    servers::free_port,
    store::{Backend, location},
};

const POST_LOGOUT: &str = "http://127.0.0.1:8080/";

/// A client's back-channel logout endpoint: records every `logout_token` it is posted and
/// answers 200, as Back-Channel Logout §2.8 asks.
struct Receiver {
    origin: String,
    tokens: Arc<Mutex<Vec<String>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    async fn start() -> Self {
        Self::start_on(0).await
    }

    async fn start_on(port: u16) -> Self {
        let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
        let kept = tokens.clone();
        let server = HttpServer::new(move || {
            let kept = kept.clone();
            actix_web::App::new().route(
                "/backchannel-logout",
                web::post().to(move |form: web::Form<Vec<(String, String)>>| {
                    let kept = kept.clone();
                    async move {
                        let token = form
                            .iter()
                            .find(|(k, _)| k == "logout_token")
                            .map(|(_, v)| v.clone());
                        match token {
                            Some(t) => {
                                kept.lock().unwrap().push(t);
                                HttpResponse::Ok().finish()
                            }
                            None => HttpResponse::BadRequest().finish(),
                        }
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", port))
        .unwrap();
        let origin = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            origin,
            tokens,
            handle,
        }
    }

    fn received(&self) -> Vec<String> {
        self.tokens.lock().unwrap().clone()
    }

    /// The tokens received once `n` have arrived (panics after 10 s).
    async fn wait_for(&self, n: usize) -> Vec<String> {
        let start = Instant::now();
        while self.received().len() < n {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{} logout token(s) received, {n} expected",
                self.received().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.received()
    }

    async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// The playground with playground-web's back-channel logout URI at `origin` (which it may
/// also redirect to: §2.2 wants the two on one origin), delivery polling every 50 ms.
fn posting_to(origin: &str) -> Settings {
    let mut settings = playground_settings();
    settings.logout.backchannel_poll_millis = 50;
    let web = settings
        .clients
        .iter_mut()
        .find(|c| c.client_id == WEB_CLIENT)
        .unwrap();
    web.metadata
        .redirect_uris
        .push(RedirectUri::parse(&format!("{origin}/cb")).unwrap());
    web.metadata.backchannel_logout_uri = Some(format!("{origin}/backchannel-logout"));
    settings
}

/// Alice signs in to playground-web for `scope` in `browser`: the token response.
async fn signed_in(app: &TestApp, browser: &Browser, scope: &str) -> Value {
    let flow = web_flow(app, scope);
    let code = web_code(app, browser, &flow).await;
    let (status, tokens) = app.exchange_web(&code, &flow.verifier).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

fn logout_url(app: &TestApp, params: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse(&app.url("/connect/logout")).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

/// Whether the browser is still signed in: `prompt=none` gets a code, or `login_required`.
async fn still_signed_in(app: &TestApp, browser: &Browser) -> bool {
    let (_, challenge) = pkce();
    let url = authorize_url(
        app,
        WEB_CLIENT,
        WEB_REDIRECT,
        &[
            ("scope", "openid"),
            ("prompt", "none"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let pairs = client_redirect(&browser.open(&url).await);
    match param(&pairs, "error") {
        Some("login_required") => false,
        None => true,
        Some(other) => panic!("unexpected error {other}"),
    }
}

/// `token`'s claims, verified against `app`'s JWKS as a relying party would (Back-Channel
/// Logout §2.6): the signature by the key its `kid` names, `iss`, `aud`, `iat`, `exp`.
async fn verified(app: &TestApp, token: &str) -> (Value, Value) {
    let header = jose_header(token);
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(app.jwks().await).unwrap();
    let jwk = jwks
        .find(header["kid"].as_str().unwrap())
        .expect("signed with a published key");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation =
        jsonwebtoken::Validation::new(serde_json::from_value(header["alg"].clone()).unwrap());
    validation.set_audience(&[WEB_CLIENT]);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["iss", "aud", "exp", "iat"]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("verifies");
    (header, data.claims)
}

/// Checks what §2.4 says a logout token holds, for alice's session `sid`.
fn assert_logout_token(header: &Value, claims: &Value, sid: &str, sub: &str) {
    assert_eq!(header["typ"], "logout+jwt", "{header}");
    assert_eq!(claims["sid"], sid, "{claims}");
    assert_eq!(claims["sub"], sub);
    assert_eq!(
        claims["events"]["http://schemas.openid.net/event/backchannel-logout"],
        serde_json::json!({}),
        "{claims}"
    );
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 20));
    assert!(
        claims.get("nonce").is_none(),
        "§2.4: MUST NOT contain a nonce"
    );
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!(exp > iat && exp - iat <= 120, "{claims}");
}

#[tokio::test]
async fn a_logout_with_an_id_token_hint_ends_the_session_and_redirects_with_state() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let bound = signed_in(&app, &browser, "openid profile country.read").await;
    let offline = signed_in(&app, &browser, "openid offline_access country.read").await;
    let id_token = bound["id_token"].as_str().unwrap();
    let hops = browser
        .open(&logout_url(
            &app,
            &[
                ("id_token_hint", id_token),
                ("post_logout_redirect_uri", POST_LOGOUT),
                ("state", "bye 1&2"),
                ("ui_locales", "de en"),
            ],
        ))
        .await;
    let last = hops.last().unwrap();
    assert_eq!(last.status, 303, "no confirmation asked: {}", last.body);
    assert_eq!(
        last.location().unwrap().as_str(),
        "http://127.0.0.1:8080/?state=bye+1%262"
    );
    assert!(
        last.set_cookie("ms_auth_session")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "{:?}",
        last.headers
    );
    assert!(!still_signed_in(&app, &browser).await);
    // The session's tokens are revoked (§2.7); the offline family was issued for no session.
    let (status, body) = app
        .refresh_web(bound["refresh_token"].as_str().unwrap(), &[])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        !app.active_for_web(bound["access_token"].as_str().unwrap())
            .await
    );
    let (status, body) = app
        .refresh_web(offline["refresh_token"].as_str().unwrap(), &[])
        .await;
    assert_eq!(status, 200, "offline_access survives the logout: {body}");
    // Signing out again, signed out already: to the client all the same, nothing to end.
    let hops = browser
        .open(&logout_url(
            &app,
            &[
                ("id_token_hint", id_token),
                ("post_logout_redirect_uri", POST_LOGOUT),
            ],
        ))
        .await;
    assert_eq!(
        hops.last().unwrap().location().unwrap().as_str(),
        POST_LOGOUT
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_hint_the_user_is_asked_and_only_this_sites_answer_counts() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    signed_in(&app, &browser, "openid").await;
    let url = logout_url(
        &app,
        &[
            ("client_id", WEB_CLIENT),
            ("post_logout_redirect_uri", POST_LOGOUT),
            ("state", "s-1"),
            ("logout_hint", "alice"),
        ],
    );
    let page = browser.open(&url).await.remove(0);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Sign out?"), "{}", page.body);
    assert!(page.body.contains("Playground web app"), "{}", page.body);
    assert!(still_signed_in(&app, &browser).await, "asking ends nothing");
    let form = page.form();
    // The same form sent from another site, or with another token, is refused.
    let forged = browser
        .http
        .post(form.action.clone())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Sec-Fetch-Site", "cross-site")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.entries(&[("confirm", "yes")]))
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let wrong = browser
        .submit(&form, &[("confirm", "yes"), ("csrf_token", "guessed")])
        .await;
    assert_eq!(wrong.status(), 400);
    assert!(still_signed_in(&app, &browser).await);
    // "Stay signed in" keeps the session.
    let stay = browser.submit(&form, &[("confirm", "no")]).await;
    assert_eq!(stay.status(), 200);
    assert!(stay.text().await.unwrap().contains("You are signed in"));
    assert!(still_signed_in(&app, &browser).await);
    let done = browser.submit(&form, &[("confirm", "yes")]).await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers()["location"].to_str().unwrap(),
        "http://127.0.0.1:8080/?state=s-1"
    );
    assert!(!still_signed_in(&app, &browser).await);
    // Without a client there is nowhere to send the user: the signed-out page.
    let browser = Browser::new();
    signed_in(&app, &browser, "openid").await;
    let page = browser.open(&app.url("/connect/logout")).await.remove(0);
    let done = browser
        .follow(browser.submit(&page.form(), &[("confirm", "yes")]).await)
        .await;
    assert!(
        done.last().unwrap().body.contains("You are signed out"),
        "{}",
        done.last().unwrap().body
    );
    app.stop().await;
}

/// An ID token of an earlier session (or any other) names the user but is no proof that this
/// session's client asks: any client the user ever used holds such a token. Asked.
#[tokio::test]
async fn an_id_token_of_another_session_does_not_spare_the_question() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let earlier = signed_in(&app, &browser, "openid").await;
    let hint = earlier["id_token"].as_str().unwrap();
    browser
        .open(&logout_url(&app, &[("id_token_hint", hint)]))
        .await;
    assert!(!still_signed_in(&app, &browser).await);
    signed_in(&app, &browser, "openid").await;
    let page = browser
        .open(&logout_url(
            &app,
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", POST_LOGOUT),
            ],
        ))
        .await
        .remove(0);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Sign out?"), "{}", page.body);
    assert!(still_signed_in(&app, &browser).await);
    app.stop().await;
}

#[tokio::test]
async fn a_logout_request_that_does_not_hold_up_is_refused_and_never_redirected() {
    let app = TestApp::playground().await;
    let browser = Browser::new();
    let tokens = signed_in(&app, &browser, "openid").await;
    let hint = tokens["id_token"].as_str().unwrap();
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
            "not registered",
        ),
        (
            // Registered for playground-web, but a prefix of it is not it.
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", "http://127.0.0.1:8080"),
            ],
            "not registered",
        ),
        (
            &[("post_logout_redirect_uri", POST_LOGOUT)],
            "needs client_id or id_token_hint",
        ),
        (
            &[("id_token_hint", hint), ("client_id", SPA_CLIENT)],
            "not the client",
        ),
        (
            &[("id_token_hint", tokens["access_token"].as_str().unwrap())],
            "not an ID token",
        ),
    ];
    for (params, why) in cases {
        let hop = browser.open(&logout_url(&app, params)).await.remove(0);
        assert_eq!(hop.status, 400, "{params:?}: {}", hop.body);
        assert!(hop.location().is_none(), "{params:?}");
        assert!(hop.body.contains(why), "{params:?}: {}", hop.body);
    }
    assert!(still_signed_in(&app, &browser).await);
    app.stop().await;
}

#[tokio::test]
async fn an_expired_id_token_hint_still_says_who_signs_out() {
    let clock = ManualClock::now();
    let mut settings = playground_settings();
    settings.tokens.id_token_ttl_secs = 60;
    let app = TestApp::spawn_at(settings, &clock).await;
    let browser = Browser::new();
    let tokens = signed_in(&app, &browser, "openid").await;
    clock.advance(Duration::from_secs(300));
    let hops = browser
        .open(&logout_url(
            &app,
            &[
                ("id_token_hint", tokens["id_token"].as_str().unwrap()),
                ("post_logout_redirect_uri", POST_LOGOUT),
            ],
        ))
        .await;
    assert_eq!(hops.last().unwrap().status, 303);
    assert!(!still_signed_in(&app, &browser).await);
    app.stop().await;
}

#[tokio::test]
async fn the_client_is_posted_a_logout_token_that_verifies_against_the_jwks() {
    let receiver = Receiver::start().await;
    let app = TestApp::spawn(posting_to(&receiver.origin)).await;
    let browser = Browser::new();
    let tokens = signed_in(&app, &browser, "openid").await;
    let sid = claims(tokens["id_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let sub = claims(tokens["id_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    let hops = browser
        .open(&logout_url(
            &app,
            &[("id_token_hint", tokens["id_token"].as_str().unwrap())],
        ))
        .await;
    assert!(hops.last().unwrap().body.contains("You are signed out"));
    let received = receiver.wait_for(1).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "woken, not polled late"
    );
    let (header, claims) = verified(&app, &received[0]).await;
    assert_logout_token(&header, &claims, &sid, &sub);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "once");
    app.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn a_receiver_down_at_logout_gets_exactly_one_token_after_a_restart_of_the_server() {
    let at = location(Backend::Sqlite).await;
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let mut settings = posting_to(&origin);
    settings.store = at.settings.clone();
    let app = TestApp::spawn(settings.clone()).await;
    let browser = Browser::new();
    let tokens = signed_in(&app, &browser, "openid").await;
    browser
        .open(&logout_url(
            &app,
            &[("id_token_hint", tokens["id_token"].as_str().unwrap())],
        ))
        .await;
    // The first attempt finds nothing listening; the server stops before the retry.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.stop().await;
    let receiver = Receiver::start_on(port).await;
    let app = TestApp::spawn(settings).await;
    let received = receiver.wait_for(1).await;
    let id_token = claims(tokens["id_token"].as_str().unwrap());
    let (header, logout) = verified(&app, &received[0]).await;
    assert_logout_token(
        &header,
        &logout,
        id_token["sid"].as_str().unwrap(),
        id_token["sub"].as_str().unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 1, "exactly once");
    app.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn two_replicas_deliver_a_logout_once() {
    let at = location(Backend::Sqlite).await;
    let receiver = Receiver::start().await;
    let mut settings = posting_to(&receiver.origin);
    settings.store = at.settings.clone();
    settings.logout.backchannel_poll_millis = 10;
    let one = TestApp::spawn(settings.clone()).await;
    let two = TestApp::spawn(settings).await;
    let mut sessions = Vec::new();
    for _ in 0..5 {
        let browser = Browser::new();
        let tokens = signed_in(&one, &browser, "openid").await;
        sessions.push((browser, tokens));
    }
    for (i, (browser, tokens)) in sessions.iter().enumerate() {
        let at = if i % 2 == 0 { &one } else { &two };
        browser
            .open(&logout_url(
                at,
                &[("id_token_hint", tokens["id_token"].as_str().unwrap())],
            ))
            .await;
    }
    receiver.wait_for(5).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sids: Vec<String> = receiver
        .received()
        .iter()
        .map(|t| claims(t)["sid"].as_str().unwrap().to_owned())
        .collect();
    sids.sort();
    sids.dedup();
    assert_eq!(receiver.received().len(), 5, "one token per logout");
    assert_eq!(sids.len(), 5);
    one.stop().await;
    two.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn the_account_api_lists_the_sessions_and_ending_one_notifies_its_clients() {
    let receiver = Receiver::start().await;
    let app = TestApp::spawn(posting_to(&receiver.origin)).await;
    let laptop = Browser::new();
    let phone = Browser::new();
    signed_in(&app, &laptop, "openid").await;
    let on_phone = signed_in(&app, &phone, "openid").await;
    let phone_sid = claims(on_phone["id_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = laptop.get(&app.url("/account/sessions")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let listed: Value = res.json().await.unwrap();
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    assert_eq!(
        sessions.iter().filter(|s| s["current"] == true).count(),
        1,
        "{listed}"
    );
    // The laptop's own session first, though the phone's is the newer.
    assert_eq!(sessions[0]["current"], true, "{listed}");
    let phones = sessions
        .iter()
        .find(|s| s["sid"] == phone_sid.as_str())
        .unwrap();
    assert_eq!(phones["current"], false);
    assert_eq!(phones["clients"][0]["client_id"], WEB_CLIENT);
    assert_eq!(phones["clients"][0]["client_name"], "Playground web app");
    assert_eq!(phones["address"], "127.0.0.1");
    assert!(phones["started_at"].as_i64().unwrap() > 0);
    // Cross-site, and another session than one's own, are refused.
    let cross = laptop
        .http
        .delete(app.url(&format!("/account/sessions/{phone_sid}")))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let unknown = laptop
        .http
        .delete(app.url("/account/sessions/not-a-sid"))
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let ended = laptop
        .http
        .delete(app.url(&format!("/account/sessions/{phone_sid}")))
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 204);
    let received = receiver.wait_for(1).await;
    let (header, claims) = verified(&app, &received[0]).await;
    assert_logout_token(
        &header,
        &claims,
        &phone_sid,
        claims["sub"].as_str().unwrap(),
    );
    assert!(!still_signed_in(&app, &phone).await);
    assert!(still_signed_in(&app, &laptop).await);
    // All of them: this browser's own too, and its cookie goes.
    let all = laptop
        .http
        .delete(app.url("/account/sessions"))
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(all.status(), 204);
    receiver.wait_for(2).await;
    assert!(!still_signed_in(&app, &laptop).await);
    let gone = laptop.get(&app.url("/account/sessions")).await;
    assert_eq!(gone.status(), 401);
    app.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn discovery_names_the_end_session_endpoint_and_back_channel_logout() {
    let app = TestApp::playground().await;
    let doc = app.get_json("/.well-known/openid-configuration").await.2;
    assert_eq!(
        doc["end_session_endpoint"],
        "http://localhost:8085/ms-auth-server/connect/logout"
    );
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
    app.stop().await;
}
