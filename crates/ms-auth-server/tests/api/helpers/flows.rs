//! The authorization code flow as a browser and a client drive it: PKCE pairs, authorization
//! URLs for the playground's clients, signing in and consenting through the real pages, and
//! the token requests that follow.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::Url;
use serde_json::Value;

use super::{Browser, Hop, TestApp, parts};

pub const WEB_CLIENT: &str = "playground-web";
pub const WEB_SECRET: &str = "playground-web-secret";
pub const WEB_REDIRECT: &str = "http://127.0.0.1:8080/login/oauth2/code/playground-web";
pub const SPA_CLIENT: &str = "playground-spa";
pub const SPA_REDIRECT: &str = "http://127.0.0.1:8080/spa/callback";
pub const ALICE: (&str, &str) = ("alice", "alice-password");
pub const ISSUER: &str = "http://localhost:8085/ms-auth-server";

/// A PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
pub fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD
        .encode(uuid::Uuid::new_v4().as_bytes())
        .repeat(2);
    let challenge = URL_SAFE_NO_PAD.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    (verifier, challenge)
}

/// An authorization request of `client` to `redirect` with `params` (form-encoded here).
pub fn authorize_url(
    app: &TestApp,
    client: &str,
    redirect: &str,
    params: &[(&str, &str)],
) -> String {
    authorize_url_for("code", app, client, redirect, params)
}

/// [`authorize_url`] with another `response_type` (the implicit flows').
pub fn authorize_url_for(
    response_type: &str,
    app: &TestApp,
    client: &str,
    redirect: &str,
    params: &[(&str, &str)],
) -> String {
    let mut url = Url::parse(&app.url("/oauth2/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", response_type)
        .append_pair("client_id", client)
        .append_pair("redirect_uri", redirect);
    for (k, v) in params {
        url.query_pairs_mut().append_pair(k, v);
    }
    url.to_string()
}

/// A code flow in progress: its PKCE verifier and the URL that starts it.
pub struct Flow {
    pub verifier: String,
    pub url: String,
}

/// playground-web asking for `scope` with state `st` and nonce `n`.
pub fn web_flow(app: &TestApp, scope: &str) -> Flow {
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        app,
        WEB_CLIENT,
        WEB_REDIRECT,
        &[
            ("scope", scope),
            ("state", "st"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    Flow { verifier, url }
}

/// The sign-in page's form submitted with `user`'s credentials; the hops after it.
pub async fn sign_in(browser: &Browser, page: &Hop, user: (&str, &str)) -> Vec<Hop> {
    let form = page.form();
    assert!(form.hidden("csrf_token").is_some(), "{}", page.body);
    browser
        .follow(
            browser
                .submit(&form, &[("username", user.0), ("password", user.1)])
                .await,
        )
        .await
}

/// The consent page's form submitted with `decision`.
pub async fn consent(browser: &Browser, page: &Hop, decision: &str) -> Vec<Hop> {
    let form = page.form();
    browser
        .follow(browser.submit(&form, &[("decision", decision)]).await)
        .await
}

/// The parameters of the redirect to the client that ends `hops` (query, or fragment).
pub fn client_redirect(hops: &[Hop]) -> Vec<(String, String)> {
    let last = hops.last().unwrap();
    assert_eq!(last.status, 303, "a redirect to the client: {}", last.body);
    let url = last.location().unwrap();
    match url.fragment() {
        Some(f) => url::form_urlencoded::parse(f.as_bytes())
            .into_owned()
            .collect(),
        None => url.query_pairs().into_owned().collect(),
    }
}

/// The value of `name` among `pairs`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Alice signs in and allows playground-web `scope`: the code.
pub async fn web_code(app: &TestApp, browser: &Browser, flow: &Flow) -> String {
    let hops = browser.open(&flow.url).await;
    let page = hops.last().unwrap();
    let after = if page.status == 200 && page.body.contains("name=\"password\"") {
        sign_in(browser, page, ALICE).await
    } else {
        hops
    };
    let last = after.last().unwrap();
    let done = if last.status == 200 && last.body.contains("decision") {
        consent(browser, last, "approve").await
    } else {
        after
    };
    let pairs = client_redirect(&done);
    assert_eq!(param(&pairs, "iss"), Some(ISSUER));
    let _ = app;
    param(&pairs, "code").expect("a code").to_owned()
}

/// Alice signs in to playground-spa for `scope` (first-party: no consent; signed in already,
/// no sign-in page either): the code and its PKCE verifier.
pub async fn spa_code(app: &TestApp, browser: &Browser, scope: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        app,
        SPA_CLIENT,
        SPA_REDIRECT,
        &[
            ("scope", scope),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let hops = browser.open(&url).await;
    let page = hops.last().unwrap();
    let done = if page.status == 200 && page.body.contains("name=\"password\"") {
        sign_in(browser, page, ALICE).await
    } else {
        hops
    };
    let pairs = client_redirect(&done);
    let code = param(&pairs, "code").expect("a code").to_owned();
    (code, verifier)
}

impl TestApp {
    /// Alice signs in to playground-web for `scope` (in a browser of her own) and the client
    /// exchanges the code: the token response.
    pub async fn web_tokens(&self, scope: &str) -> Value {
        let browser = Browser::new();
        let flow = web_flow(self, scope);
        let code = web_code(self, &browser, &flow).await;
        let (status, tokens) = self.exchange_web(&code, &flow.verifier).await;
        assert_eq!(status, 200, "{tokens}");
        tokens
    }

    /// playground-web exchanges `code` with `verifier`.
    pub async fn exchange_web(&self, code: &str, verifier: &str) -> (u16, Value) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", WEB_REDIRECT)
            .append_pair("code_verifier", verifier)
            .finish();
        let (status, _, json) = parts(
            self.token_basic(&format!("{WEB_CLIENT}:{WEB_SECRET}"), &body)
                .await,
        )
        .await;
        (status, json)
    }

    /// playground-web refreshes with `refresh_token` (and `extra` form pairs).
    pub async fn refresh_web(&self, refresh_token: &str, extra: &[(&str, &str)]) -> (u16, Value) {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", refresh_token);
        for (k, v) in extra {
            form.append_pair(k, v);
        }
        let (status, _, json) = parts(
            self.token_basic(&format!("{WEB_CLIENT}:{WEB_SECRET}"), &form.finish())
                .await,
        )
        .await;
        (status, json)
    }

    /// Whether playground-web's introspection says `token` is active.
    pub async fn active_for_web(&self, token: &str) -> bool {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .finish();
        let (status, _, json) = parts(
            self.post_basic(
                "/oauth2/introspect",
                &format!("{WEB_CLIENT}:{WEB_SECRET}"),
                &body,
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{json}");
        json["active"] == true
    }
}

/// The claims of a JWT, unverified (the tests that need verification use the JWKS).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The JOSE header of a JWT.
pub fn jose_header(jwt: &str) -> Value {
    let h = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}
