//! The pages' static files over real HTTP from a running server: `GET /assets/style.css` and
//! `GET /assets/form-post.js` under the context path, cached for a day and revalidated by a
//! strong entity tag (RFC 9110 §8.8.3, §13.1.2, §15.4.5).

use reqwest::{StatusCode, header};

use crate::helpers::*;

/// `(path, content type, a line the file holds)`.
const ASSETS: [(&str, &str, &str); 2] = [
    (
        "/assets/style.css",
        "text/css; charset=utf-8",
        "prefers-color-scheme: dark",
    ),
    (
        "/assets/form-post.js",
        "text/javascript; charset=utf-8",
        "document.getElementById(\"form-post\").submit()",
    ),
];

#[tokio::test]
async fn pages_assets_are_served_with_a_long_cache_and_a_strong_etag() {
    let app = TestApp::playground().await;
    let mut etags = Vec::new();
    for (path, content_type, holds) in ASSETS {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let h = res.headers().clone();
        assert_eq!(header(&h, "content-type"), content_type, "{path}");
        assert_eq!(
            header(&h, "cache-control"),
            "public, max-age=86400",
            "{path}"
        );
        assert_eq!(header(&h, "x-content-type-options"), "nosniff", "{path}");
        let etag = header(&h, "etag");
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
            "a strong tag: {etag}"
        );
        assert!(res.text().await.unwrap().contains(holds), "{path}");
        etags.push(etag);
    }
    assert_ne!(etags[0], etags[1], "each file its own tag");
    app.stop().await;
}

#[tokio::test]
async fn pages_assets_answer_304_to_their_own_etag_only() {
    let app = TestApp::playground().await;
    let url = app.url("/assets/style.css");
    let etag = header(app.http.get(&url).send().await.unwrap().headers(), "etag");
    let get = |inm: String| app.http.get(&url).header(header::IF_NONE_MATCH, inm).send();

    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"stale\", {etag}"),
        "*".into(),
    ] {
        let res = get(inm.clone()).await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::NOT_MODIFIED,
            "If-None-Match: {inm}"
        );
        assert_eq!(header(res.headers(), "etag"), etag);
        assert_eq!(
            header(res.headers(), "cache-control"),
            "public, max-age=86400"
        );
        assert!(res.bytes().await.unwrap().is_empty());
    }
    // Another file's tag, or an old one, gets the file.
    let other = header(
        app.http
            .get(app.url("/assets/form-post.js"))
            .send()
            .await
            .unwrap()
            .headers(),
        "etag",
    );
    for inm in [other, "\"stale\"".to_owned()] {
        let res = get(inm.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "If-None-Match: {inm}");
        assert!(!res.text().await.unwrap().is_empty());
    }
    app.stop().await;
}

#[tokio::test]
async fn pages_assets_take_get_only_and_live_under_the_context_path() {
    let app = TestApp::playground().await;
    let res = app
        .http
        .post(app.url("/assets/style.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(res.headers(), "allow"), "GET");
    let res = app
        .http
        .get(format!("{}/assets/style.css", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
