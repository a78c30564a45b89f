//! Health and metrics on the management listener, ready before the provider answers; the
//! single-page app's page and its Content-Security-Policy; configuration errors.

use crate::helpers::*;

#[tokio::test]
async fn ready_before_the_provider_answers_and_says_so_on_its_pages() {
    let issuer = format!("http://127.0.0.1:{}/ms-auth-server", free_port());
    let app = spawn_app(&issuer, None).await;
    let http = reqwest::Client::new();
    for path in ["/health/ready", "/health/live", "/metrics"] {
        let res = http
            .get(format!("{}{path}", app.management))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let browser = Browser::new();
    let res = app.press(&browser, "/login").await;
    assert_eq!(res.status(), 503);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The provider is not reachable")
    );
    let res = http.get(app.url("/spa/")).send().await.unwrap();
    assert_eq!(res.status(), 503);
}

#[tokio::test]
async fn forms_need_their_csrf_token() {
    let t = WithTestProvider::start().await;
    let browser = Browser::new();
    browser.open(&t.app.url("/")).await;
    for (token, origin) in [
        ("", None),
        ("wrong", None),
        ("{cookie}", Some("http://evil.example")),
    ] {
        let cookie = browser.cookie(&t.app.url("/"), "sample_csrf").unwrap();
        let mut req = browser
            .http
            .post(t.app.url("/login"))
            .form(&[("csrf_token", token.replace("{cookie}", &cookie))]);
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 403, "{token} {origin:?}");
    }
}

#[tokio::test]
async fn the_spa_page_carries_its_config_and_a_tight_policy() {
    let t = WithTestProvider::start().await;
    let http = reqwest::Client::new();
    for path in ["/spa/", "/spa/callback"] {
        let res = http.get(t.app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(
            csp.contains(&format!(
                "connect-src {} http://localhost:8085",
                t.op.issuer
            )),
            "{csp}"
        );
        let body = res.text().await.unwrap();
        assert!(body.contains("\"client_id\":\"playground-spa\""), "{body}");
        assert!(
            body.contains(&format!("\"redirect_uri\":\"{}/spa/callback\"", t.app.url)),
            "{body}"
        );
    }
    let res = http.get(t.app.url("/assets/spa.js")).send().await.unwrap();
    assert_eq!(
        res.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}

#[test]
fn configuration_errors_name_the_key() {
    for (env, value, key) in [
        ("SAMPLE_CLIENT__ISSUER", "http://auth.example/x", "issuer"),
        ("SAMPLE_CLIENT__WEB__CLIENT_SECRETX", "x", "client_secretx"),
        ("SAMPLE_CLIENT__MAX_SESSIONS", "0", "max_sessions"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sample-client"))
            .env("SAMPLE_CLIENT__WEB__CLIENT_SECRET", "s")
            .env(env, value)
            .env_remove("SAMPLE_CLIENT_CONFIG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(key), "{key}: {stderr}");
    }
}
