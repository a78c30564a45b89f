//! CORS as the playground configures it: the sample app's origin may `GET` with a bearer
//! token (preflight answered, the answer readable); other origins get no permission.

use crate::helpers::*;

#[tokio::test]
async fn the_sample_apps_origin_may_call_with_a_token() {
    let s = stack().await;
    let app = "http://127.0.0.1:8080";
    let preflight = |origin: &'static str| {
        s.http
            .request(reqwest::Method::OPTIONS, s.url("/countries/DE"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
    };
    let res = preflight(app).await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], app);
    assert_eq!(
        res.headers()["access-control-allow-headers"],
        "Authorization"
    );
    let res = preflight("http://evil.example").await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());

    let token = s.token("country.read").await;
    for (origin, allowed) in [(app, true), ("http://evil.example", false)] {
        let res = s
            .http
            .get(s.url("/countries/DE"))
            .bearer_auth(&token)
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["vary"], "Origin");
        let acao = res.headers().get("access-control-allow-origin");
        assert_eq!(acao.is_some(), allowed, "{origin}");
    }
    // A refusal is readable too, challenge included.
    let res = s
        .http
        .get(s.url("/countries/DE"))
        .header("Origin", app)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["access-control-allow-origin"], app);
    assert_eq!(
        res.headers()["access-control-expose-headers"],
        "WWW-Authenticate"
    );
}
