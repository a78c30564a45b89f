//! The test browser (`helpers::browser`) against a small site of its own: a session cookie
//! set on a 303, a sign-in form carrying a per-session CSRF token that the POST must return
//! with the cookie and the page's `Origin`, a `Secure` cookie after the sign-in (which
//! loopback gets over http), a GET form, a redirect loop, a 307, and a redirect out to
//! another origin. Each check fails if the browser drops what it must keep.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use actix_web::{
    HttpRequest, HttpResponse, HttpResponseBuilder, HttpServer,
    cookie::{Cookie, SameSite},
    http::StatusCode,
    web,
};

use crate::helpers::{Browser, MAX_REDIRECTS};

/// The CSRF token handed to each session.
type Sessions = Arc<Mutex<HashMap<String, String>>>;

/// The site, on a free port: its origin.
async fn site() -> String {
    let sessions: Sessions = Arc::default();
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(web::Data::new(Arc::clone(&sessions)))
            .route("/start", web::get().to(start))
            .route("/login", web::get().to(login_page))
            .route("/login", web::post().to(login))
            .route("/done", web::get().to(done))
            .route("/search", web::get().to(search))
            .route(
                "/loop",
                web::get().to(|| async { redirect(303, "/loop").finish() }),
            )
            .route(
                "/temporary",
                web::get().to(|| async { redirect(307, "/done").finish() }),
            )
            .route(
                "/leave",
                web::get()
                    .to(|| async { redirect(302, "http://client.invalid/cb?code=c0de").finish() }),
            )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let origin = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    origin
}

/// A redirect with `status` to `to`.
fn redirect(status: u16, to: &str) -> HttpResponseBuilder {
    let mut res = HttpResponse::build(StatusCode::from_u16(status).unwrap());
    res.insert_header(("Location", to));
    res
}

/// A new session and its CSRF token, then on to the sign-in page.
async fn start(sessions: web::Data<Sessions>) -> HttpResponse {
    let (id, csrf) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4());
    sessions
        .lock()
        .unwrap()
        .insert(id.clone(), format!("{csrf}&<\"'"));
    redirect(303, "/login")
        .cookie(
            Cookie::build("session", id)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .finish(),
        )
        .finish()
}

fn csrf_of(req: &HttpRequest, sessions: &Sessions) -> Option<String> {
    let id = req.cookie("session")?;
    sessions.lock().unwrap().get(id.value()).cloned()
}

/// The sign-in page: its token escaped as a template would, decoys in a comment and a script.
async fn login_page(req: HttpRequest, sessions: web::Data<Sessions>) -> HttpResponse {
    let Some(csrf) = csrf_of(&req, &sessions) else {
        return HttpResponse::Unauthorized().body("no session cookie");
    };
    let escaped = csrf
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    HttpResponse::Ok().content_type("text/html").body(format!(
        r#"<!doctype html><title>Sign in</title>
        <!-- <form action="/elsewhere"><input type="hidden" name="csrf" value="old"></form> -->
        <script>const t = "<form action='/script'>";</script>
        <form method="post" action="/login?next=%2Fdone">
          <input type="hidden" name="csrf" value="{escaped}">
          <input name="username" autocomplete="username">
          <input type="password" name="password">
          <button name="decision" value="sign-in">Sign in</button>
        </form>"#
    ))
}

/// The POST: session cookie, CSRF token, `Origin` and `Sec-Fetch-Site` all required.
async fn login(
    req: HttpRequest,
    sessions: web::Data<Sessions>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let Some(csrf) = csrf_of(&req, &sessions) else {
        return HttpResponse::Unauthorized().body("no session cookie");
    };
    let origin = format!("http://{}", req.connection_info().host());
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let refused = [
        (field("csrf") != csrf, "csrf"),
        (header("origin") != origin, "origin"),
        (header("sec-fetch-site") != "same-origin", "sec-fetch-site"),
        (req.query_string() != "next=%2Fdone", "query"),
        (field("decision") != "sign-in", "decision"),
        (
            (field("username"), field("password")) != ("alice", "pw 1&2"),
            "password",
        ),
    ];
    if let Some((_, why)) = refused.iter().find(|(bad, _)| *bad) {
        return HttpResponse::Forbidden().body(*why);
    }
    redirect(303, "/done")
        .cookie(
            Cookie::build("user", "alice")
                .path("/")
                .secure(true)
                .finish(),
        )
        .finish()
}

async fn done(req: HttpRequest) -> HttpResponse {
    match (req.cookie("session"), req.cookie("user")) {
        (Some(_), Some(user)) => HttpResponse::Ok().body(format!("hello {}", user.value())),
        _ => HttpResponse::Unauthorized().body("not signed in"),
    }
}

async fn search(req: HttpRequest) -> HttpResponse {
    let q = web::Query::<HashMap<String, String>>::from_query(req.query_string()).unwrap();
    let site = req
        .headers()
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap().to_owned());
    HttpResponse::Ok().body(format!("{:?} {:?} {site:?}", q.get("q"), q.get("lang")))
}

#[tokio::test]
async fn a_sign_in_keeps_the_session_cookie_and_returns_the_csrf_token() {
    let origin = site().await;
    let browser = Browser::new();
    let hops = browser.open(&format!("{origin}/start")).await;
    let steps: Vec<(u16, &str)> = hops
        .iter()
        .map(|h| (h.status.as_u16(), h.url.path()))
        .collect();
    assert_eq!(steps, [(303, "/start"), (200, "/login")]);
    let set = hops[0].set_cookie("session").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert_eq!(hops[1].set_cookie("session"), None);
    let session = browser.cookie(&origin, "session").unwrap();
    assert_eq!(
        set.split(';').next(),
        Some(format!("session={session}").as_str())
    );

    let form = hops[1].form();
    assert_eq!(form.method, reqwest::Method::POST);
    assert_eq!(form.action.as_str(), format!("{origin}/login?next=%2Fdone"));
    let csrf = form.hidden("csrf").unwrap().to_owned();
    assert!(
        csrf.ends_with("&<\"'"),
        "the escaped token, decoded: {csrf}"
    );

    let fields = [
        ("username", "alice"),
        ("password", "pw 1&2"),
        ("decision", "sign-in"),
    ];
    let hops = browser.follow(browser.submit(&form, &fields).await).await;
    let last = hops.last().unwrap();
    assert_eq!((hops.len(), last.status.as_u16()), (2, 200), "{hops:?}");
    assert_eq!(last.body, "hello alice");
    assert_eq!(browser.cookie(&origin, "user").as_deref(), Some("alice"));

    // Every part of the submission is what the site checks: each one taken away is refused.
    let forged = browser
        .submit(
            &form,
            &[fields[0], fields[1], fields[2], ("csrf", "forged")],
        )
        .await;
    assert_eq!(
        (forged.status().as_u16(), forged.text().await.unwrap()),
        (403, "csrf".to_owned())
    );
    let stranger = Browser::new().submit(&form, &fields).await;
    assert_eq!(
        stranger.status(),
        401,
        "another browser has no session cookie"
    );
    let mut elsewhere = form.clone();
    elsewhere.page = "http://evil.invalid/".parse().unwrap();
    let res = browser.submit(&elsewhere, &fields).await;
    assert_eq!(res.text().await.unwrap(), "origin");
}

#[tokio::test]
async fn a_get_form_replaces_the_query_and_says_where_it_came_from() {
    let origin = site().await;
    let page: reqwest::Url = format!("{origin}/page").parse().unwrap();
    let form = crate::helpers::forms(
        "<form action='/search?old=1'><input name=q value='x'><input type=hidden name=lang value=en></form>",
        &page,
    )
    .remove(0);
    let res = Browser::new().submit(&form, &[("q", "a b&c")]).await;
    assert_eq!(res.url().query(), Some("q=a+b%26c&lang=en"));
    assert_eq!(
        res.text().await.unwrap(),
        r#"Some("a b&c") Some("en") Some("same-origin")"#
    );
    let mut across = form.clone();
    across.page = "http://127.0.0.1:1/page".parse().unwrap();
    let res = Browser::new().submit(&across, &[]).await;
    assert!(res.text().await.unwrap().ends_with(r#"Some("same-site")"#));
    across.page = "http://other.invalid/".parse().unwrap();
    let res = Browser::new().submit(&across, &[]).await;
    assert!(res.text().await.unwrap().ends_with(r#"Some("cross-site")"#));
}

#[tokio::test]
async fn following_stops_at_a_redirect_to_another_origin() {
    let origin = site().await;
    let hops = Browser::new().open(&format!("{origin}/leave")).await;
    assert_eq!(hops.len(), 1, "not fetched: {hops:?}");
    let to = hops[0].location().unwrap();
    assert_eq!(
        (to.host_str(), to.query()),
        (Some("client.invalid"), Some("code=c0de"))
    );
    // A page that is no redirect is one hop too.
    let hops = Browser::new().open(&format!("{origin}/done")).await;
    assert_eq!((hops.len(), hops[0].status.as_u16()), (1, 401));
}

#[tokio::test]
#[should_panic(expected = "more than 10 redirects")]
async fn following_a_redirect_loop_gives_up() {
    assert_eq!(MAX_REDIRECTS, 10);
    let origin = site().await;
    Browser::new().open(&format!("{origin}/loop")).await;
}

#[tokio::test]
#[should_panic(expected = "would repeat the request")]
async fn a_307_is_not_followed_as_a_get() {
    let origin = site().await;
    Browser::new().open(&format!("{origin}/temporary")).await;
}
