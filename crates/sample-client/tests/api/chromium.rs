//! The sample app in a real headless Chromium (`ms_auth_server::testing::chromium`), against
//! the real ms-auth-server, country-service and customer-service behind the real gateway
//! (`helpers::stack`): the web app and the single-page app call country-service through it. Screenshots: `sample-home.png`,
//! `sample-signed-in.png`, `sample-signed-out.png`, `sample-ended-by-back-channel.png`, `sample-spa.png`
//! in `target/screenshots/`.

use crate::{code_flow::wait_for_backchannel, helpers::*};

/// What the console reported as refused (CSP, CORS, failed loads) since the last call.
async fn refusals(browser: &Chromium) -> Vec<String> {
    browser
        .console()
        .await
        .into_iter()
        // Neither server has a favicon; Chromium asks each for one.
        .filter(|e| e.level == "SEVERE" && !e.message.contains("/favicon.ico"))
        .map(|e| e.message)
        .collect()
}

/// Alice signs in through the app's button, the provider's sign-in page and its consent page.
async fn sign_in(s: &Stack, browser: &Chromium) {
    browser.goto(&s.app.url("/")).await;
    browser.wait_for_text("id=\"sign-in\"").await;
    browser.screenshot("sample-home.png").await;
    browser.click("#sign-in").await;
    browser.wait_for_text("name=\"password\"").await;
    browser.fill("#username", ALICE.0).await;
    browser.fill("#password", ALICE.1).await;
    browser.click("#sign-in").await;
    browser.wait_for_text("id=\"approve\"").await;
    browser.click("#approve").await;
    browser.wait_for_text("Alice Example").await;
}

#[tokio::test]
async fn chromium_signs_alice_in_and_fetches_a_country_with_her_token() {
    let s = Stack::start().await;
    let browser = Chromium::start().await;
    sign_in(&s, &browser).await;
    assert_eq!(browser.current_url().await, s.app.url("/"));
    browser.click("#call-countries").await;
    let page = browser
        .wait_for_text("GET /country-service/countries/DE: 200 OK")
        .await;
    assert!(page.contains("DEU"), "{page}");
    browser.screenshot("sample-signed-in.png").await;
    let refused = refusals(&browser).await;
    assert!(
        refused.is_empty(),
        "nothing refused on the way: {refused:?}"
    );
    browser.quit().await;
}

/// WAITS ON the server's RP-initiated logout and back-channel delivery: "Sign out" ends the
/// session here, the provider ends its own without asking (a valid `id_token_hint`), POSTs a
/// logout token to the app, and sends the browser back with the `state`.
#[tokio::test]
async fn chromium_signs_alice_out_and_the_back_channel_reaches_the_app() {
    let s = Stack::start().await;
    let browser = Chromium::start().await;
    sign_in(&s, &browser).await;
    browser.click("#sign-out").await;
    browser.wait_for_text("You are signed out").await;
    assert_eq!(
        browser.current_url().await.split('?').next(),
        Some(s.app.url("/").as_str())
    );
    browser.screenshot("sample-signed-out.png").await;
    wait_for_backchannel(&s.app, 1).await;
    assert_eq!(s.app.state.backchannel_deliveries().1, 0, "none refused");
    browser.goto(&s.app.url("/")).await;
    browser.wait_for_text("id=\"sign-in\"").await;
    browser.quit().await;
}

/// The back channel alone ends the app's session: alice signs out at the provider itself (its
/// logout endpoint, asked without a hint, answered on its page), never through the app; the
/// provider posts the logout token and the app, reloaded, no longer knows her.
#[tokio::test]
async fn chromium_signing_out_at_the_provider_ends_the_apps_session_by_back_channel() {
    let s = Stack::start().await;
    let browser = Chromium::start().await;
    sign_in(&s, &browser).await;
    browser.goto(&format!("{}/connect/logout", s.issuer)).await;
    browser.wait_for_text("Sign out?").await;
    browser.click("#sign-out").await;
    browser.wait_for_text("You are signed out").await;
    wait_for_backchannel(&s.app, 1).await;
    assert_eq!(s.app.state.backchannel_deliveries().1, 0, "none refused");
    browser.goto(&s.app.url("/")).await;
    let page = browser.wait_for_text("id=\"sign-in\"").await;
    assert!(!page.contains("Alice Example"), "{page}");
    browser.screenshot("sample-ended-by-back-channel.png").await;
    browser.quit().await;
}

/// The single-page app: PKCE in the browser, the code exchanged with `fetch` across origins
/// (the token endpoint's CORS), then country-service called with the token (its CORS layer,
/// preflight included). No consent: playground-spa is first-party.
#[tokio::test]
async fn chromium_runs_the_spa_sign_in_and_calls_country_service_across_origins() {
    let s = Stack::start().await;
    let browser = Chromium::start().await;
    browser.goto(&s.app.url("/spa/")).await;
    browser.wait_for_text("id=\"spa-sign-in\"").await;
    browser.click("#spa-sign-in").await;
    browser.wait_for_text("name=\"password\"").await;
    browser.fill("#username", ALICE.0).await;
    browser.fill("#password", ALICE.1).await;
    browser.click("#sign-in").await;
    browser.wait_for_text("Signed in (subject ").await;
    assert_eq!(
        browser.current_url().await,
        s.app.url("/spa/"),
        "the code left the address bar"
    );
    browser.click("#spa-call-country").await;
    let page = browser
        .wait_for_text("GET /country-service/countries/DE: 200")
        .await;
    assert!(page.contains("Germany"), "{page}");
    browser.screenshot("sample-spa.png").await;
    let refused = refusals(&browser).await;
    assert!(refused.is_empty(), "no CORS or CSP refusal: {refused:?}");
    browser.quit().await;
}
