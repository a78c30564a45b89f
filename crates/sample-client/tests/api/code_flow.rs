//! The web app against the real ms-auth-server: sign-in (PKCE, state, nonce), consent, the ID
//! token, calls to country-service and customer-service through the gateway with the access
//! token, refresh, and RP-initiated logout.

use crate::helpers::*;

fn query(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn alice_signs_in_calls_country_service_refreshes_and_signs_out() {
    let s = Stack::start().await;
    let browser = Browser::new();

    // POST /login: the authorization request, with PKCE S256, state and nonce.
    let res = s.app.press(&browser, "/login").await;
    assert_eq!(res.status(), 303);
    let authorize = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(authorize.path(), "/ms-auth-server/oauth2/authorize");
    assert_eq!(
        query(&authorize, "client_id").as_deref(),
        Some("playground-web")
    );
    assert_eq!(
        query(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(query(&authorize, "code_challenge").unwrap().len(), 43);
    assert!(query(&authorize, "state").is_some() && query(&authorize, "nonce").is_some());
    assert_eq!(
        query(&authorize, "redirect_uri"),
        Some(s.app.url("/login/oauth2/code/playground-web"))
    );

    let hops = s.sign_in(&browser).await;
    let page = hops.last().unwrap();
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("Hello, <span id=\"name\">Alice Example</span>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("alice@example.com"),
        "the ID token's claims are shown"
    );
    assert_eq!(page.url.as_str(), s.app.url("/"));
    let callback = hops
        .iter()
        .find(|h| h.url.path() == "/login/oauth2/code/playground-web")
        .expect("the callback");
    assert_eq!(query(&callback.url, "iss"), Some(s.issuer.clone()));
    let cookie = callback.set_cookie("sample_session").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(page.headers["cache-control"], "no-store");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(s.app.state.store.count_for(&sub_of(&page.body)), 1);

    // country-service with alice's access token, through the gateway.
    let res = s.app.press(&browser, "/call/countries").await;
    let hops = browser.follow(res).await;
    let page = &hops.last().unwrap().body;
    assert!(
        page.contains("GET /country-service/countries/DE: 200 OK"),
        "{page}"
    );
    assert!(
        page.contains("&quot;alpha3&quot;: &quot;DEU&quot;") || page.contains("DEU"),
        "{page}"
    );

    // customer-service too, through the same gateway.
    let res = s.app.press(&browser, "/call/customers").await;
    let hops = browser.follow(res).await;
    let page = &hops.last().unwrap().body;
    assert!(
        page.contains("GET /customer-service/customers: 200 OK"),
        "{page}"
    );

    // Refresh: new tokens, the new expiry shown.
    let res = s.app.press(&browser, "/refresh").await;
    let hops = browser.follow(res).await;
    let page = &hops.last().unwrap().body;
    assert!(page.contains("Tokens refreshed"), "{page}");
    assert!(page.contains("The new access token expires at"), "{page}");

    // Sign out: the session ends here, and the browser goes to the provider's end-session
    // endpoint with the hint, the post-logout redirect, the client and a state.
    let sub = sub_of(page);
    let res = s.app.press(&browser, "/logout").await;
    assert_eq!(res.status(), 303);
    let end = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(end.path(), "/ms-auth-server/connect/logout");
    assert!(query(&end, "id_token_hint").is_some_and(|t| t.split('.').count() == 3));
    assert_eq!(
        query(&end, "post_logout_redirect_uri"),
        Some(s.app.url("/"))
    );
    assert_eq!(query(&end, "client_id").as_deref(), Some("playground-web"));
    assert!(query(&end, "state").is_some());
    assert_eq!(s.app.state.store.count_for(&sub), 0);
    let page = browser.open(&s.app.url("/")).await;
    assert!(page.last().unwrap().body.contains("id=\"sign-in\""));
}

/// The sub shown on the signed-in page.
pub fn sub_of(page: &str) -> String {
    let at = page.find("<code id=\"sub\">").expect("the sub") + "<code id=\"sub\">".len();
    page[at..at + page[at..].find('<').unwrap()].to_owned()
}

/// WAITS ON the server's RP-initiated logout and back-channel delivery (being built beside
/// this): with a valid `id_token_hint` the provider ends its session without asking,
/// POSTs a logout token to the app's back-channel URI, and sends the browser back with the
/// `state`, which the app checks.
#[tokio::test]
async fn signing_out_at_the_provider_comes_back_with_state_and_a_back_channel_logout() {
    let s = Stack::start().await;
    let browser = Browser::new();
    let hops = s.sign_in(&browser).await;
    assert!(hops.last().unwrap().body.contains("Alice Example"));
    let res = s.app.press(&browser, "/logout").await;
    let hops = follow_all(&browser, res).await;
    let page = hops.last().unwrap();
    assert_eq!(
        page.url.origin(),
        url::Url::parse(&s.app.url).unwrap().origin(),
        "back at the app: {:?}",
        hops.iter()
            .map(|h| format!("{} {}", h.status, h.url))
            .collect::<Vec<_>>()
    );
    assert!(page.body.contains("You are signed out"), "{}", page.body);
    wait_for_backchannel(&s.app, 1).await;
    // The provider's session is gone too: signing in again asks for the password.
    let res = s.app.press(&browser, "/login").await;
    let hops = follow_all(&browser, res).await;
    assert!(hops.last().unwrap().body.contains("name=\"password\""));
}

/// Waits (up to 5 s) until the app accepted `n` back-channel logouts.
pub async fn wait_for_backchannel(app: &SampleApp, n: u64) {
    for _ in 0..100 {
        if app.state.backchannel_deliveries().0 >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "no back-channel logout arrived: {:?} (accepted, refused)",
        app.state.backchannel_deliveries()
    );
}
