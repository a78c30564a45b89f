//! An independent relying party — the `openidconnect` crate, strict about the specs — completes
//! discovery, the authorization code flow with PKCE, ID token validation (signature, `iss`,
//! `aud`, `nonce`, `at_hash`), userinfo and a refresh, knowing nothing but the issuer URL.

use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims},
};

use crate::helpers::*;

/// The library's HTTP client: our reqwest, with the issuer's public origin (the gateway's
/// `localhost:8085`) sent to the server under test instead.
fn http_client(
    app: &TestApp,
) -> impl Fn(
    openidconnect::HttpRequest,
) -> std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<openidconnect::HttpResponse, reqwest::Error>>
            + Send,
    >,
> + use<> {
    let base = app.base.clone();
    let http = app.http.clone();
    move |req: openidconnect::HttpRequest| {
        let base = base.clone();
        let http = http.clone();
        Box::pin(async move {
            let url = req
                .uri()
                .to_string()
                .replace("http://localhost:8085", &base);
            let mut out = http.request(req.method().clone(), url);
            for (name, value) in req.headers() {
                out = out.header(name, value);
            }
            let res = out.body(req.body().clone()).send().await?;
            let mut builder = openidconnect::http::Response::builder().status(res.status());
            for (name, value) in res.headers() {
                builder = builder.header(name, value);
            }
            let body = res.bytes().await?.to_vec();
            Ok(builder.body(body).expect("a response"))
        })
    }
}

#[tokio::test]
async fn the_openidconnect_crate_completes_the_flow_from_the_issuer_url_alone() {
    let app = TestApp::playground().await;
    let http = http_client(&app);
    let provider =
        CoreProviderMetadata::discover_async(IssuerUrl::new(ISSUER.to_owned()).unwrap(), &http)
            .await
            .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        provider,
        ClientId::new(WEB_CLIENT.to_owned()),
        Some(ClientSecret::new(WEB_SECRET.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(WEB_REDIRECT.to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("offline_access".to_owned()))
        .set_pkce_challenge(challenge)
        .url();

    // A person signs in and consents in the browser.
    let browser = Browser::new();
    let url = url.to_string().replace("http://localhost:8085", &app.base);
    let hops = browser.open(&url).await;
    let after = sign_in(&browser, hops.last().unwrap(), ALICE).await;
    let done = consent(&browser, after.last().unwrap(), "approve").await;
    let pairs = client_redirect(&done);
    assert_eq!(param(&pairs, "state"), Some(state.secret().as_str()));
    let code = param(&pairs, "code").unwrap().to_owned();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("a valid ID token");
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));
    assert!(claims.auth_time().is_some());

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(
        info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("Alice Example")
    );

    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().expect("a refresh token"))
        .unwrap()
        .request_async(&http)
        .await
        .expect("the refresh");
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        tokens.refresh_token().unwrap().secret(),
        "rotated"
    );
    let again = refreshed.id_token().expect("an ID token on refresh");
    // OIDC Core §12.2: no nonce is expected of a refreshed ID token.
    let c = again
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .expect("a valid refreshed ID token");
    assert_eq!(c.subject(), claims.subject());
}
