//! The HTTP layer: routes, the app's shared state, cookies, CSRF and the security headers
//! every page carries.

mod backchannel;
mod pages;
mod spa;
mod web_app;

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieAge},
    http::{StatusCode, header},
    web,
};
use subtle::ConstantTimeEq;

use crate::{provider::Provider, sessions::Store, settings::Settings};

pub use pages::STYLE;

/// The app's session cookie: a random id, HttpOnly, SameSite=Lax.
pub const SESSION_COOKIE: &str = "sample_session";
/// A sign-in or sign-out in progress (its id in the store).
pub const FLOW_COOKIE: &str = "sample_flow";
/// The double-submit CSRF token every form carries.
pub const CSRF_COOKIE: &str = "sample_csrf";

/// What the handlers share.
pub struct AppState {
    pub settings: Settings,
    /// Where browsers reach this app, without a trailing `/`.
    pub public_url: String,
    pub provider: Provider,
    pub store: Store,
    /// Back-channel logout deliveries accepted and refused since start.
    pub backchannel_accepted: AtomicU64,
    pub backchannel_refused: AtomicU64,
}

impl AppState {
    /// playground-web's redirect URI.
    pub fn redirect_uri(&self) -> String {
        format!(
            "{}/login/oauth2/code/{}",
            self.public_url, self.settings.web.client_id
        )
    }

    /// Where the provider sends the browser after signing out.
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.public_url)
    }

    /// playground-spa's redirect URI.
    pub fn spa_redirect_uri(&self) -> String {
        format!("{}/spa/callback", self.public_url)
    }

    pub fn backchannel_deliveries(&self) -> (u64, u64) {
        (
            self.backchannel_accepted.load(Ordering::Relaxed),
            self.backchannel_refused.load(Ordering::Relaxed),
        )
    }

    fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// A cookie of this app: HttpOnly, SameSite=Lax, the whole path, Secure over https.
    fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure_cookies())
            .finish()
    }

    /// A cookie that removes `name`.
    fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut c = self.cookie(name, String::new());
        c.set_max_age(CookieAge::ZERO);
        c
    }
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(web_app::home))
        .route("/login", web::post().to(web_app::login))
        .route(
            "/login/oauth2/code/{client_id}",
            web::get().to(web_app::callback),
        )
        .route("/call/{resource}", web::post().to(web_app::call))
        .route("/refresh", web::post().to(web_app::refresh))
        .route("/logout", web::post().to(web_app::logout))
        .route("/backchannel-logout", web::post().to(backchannel::receive))
        .route("/spa", web::get().to(spa::to_slash))
        .route("/spa/", web::get().to(spa::page))
        .route("/spa/callback", web::get().to(spa::page))
        .route("/assets/style.css", web::get().to(pages::style))
        .route("/assets/spa.js", web::get().to(spa::script))
        .default_service(web::to(service_kit::http::not_found));
}

/// The headers every answer carries unless its handler set its own: nothing is cached (pages
/// show tokens), no framing, no referrer beyond this origin (the callback's URL holds a
/// code), and a
/// Content-Security-Policy that allows this origin's stylesheet and forms that go here or to
/// the provider (Chromium checks `form-action` on the redirects after a submission too).
pub fn default_headers(issuer: &str) -> actix_web::middleware::DefaultHeaders {
    let provider = origin_of(issuer).unwrap_or_default();
    actix_web::middleware::DefaultHeaders::new()
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // `same-origin`, not `no-referrer`: with no referrer Chromium sends `Origin: null` on
        // the forms' POSTs, and the CSRF check compares it.
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {provider}; frame-ancestors 'none'; base-uri 'none'"
            ),
        ))
}

/// `scheme://host[:port]` of `url`.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    match url.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// The CSRF token for the forms of the page being rendered: the browser's, or a new one with
/// the cookie that sets it.
fn csrf_token(req: &HttpRequest, state: &AppState) -> (String, Option<Cookie<'static>>) {
    match req.cookie(CSRF_COOKIE) {
        Some(c) if !c.value().is_empty() => (c.value().to_owned(), None),
        _ => {
            let token = crate::random::token();
            let cookie = state.cookie(CSRF_COOKIE, token.clone());
            (token, Some(cookie))
        }
    }
}

/// A form's CSRF check (double submit): the field equals the cookie, and a sent `Origin` is
/// this app's. SameSite=Lax already keeps the cookie off cross-site POSTs; this holds
/// without it.
fn csrf_ok(req: &HttpRequest, state: &AppState, field: &str) -> bool {
    let Some(cookie) = req.cookie(CSRF_COOKIE) else {
        return false;
    };
    let same = !field.is_empty() && bool::from(cookie.value().as_bytes().ct_eq(field.as_bytes()));
    let origin_ok = match req.headers().get(header::ORIGIN) {
        None => true,
        Some(origin) => {
            origin_of(&state.public_url).is_some_and(|o| origin.as_bytes() == o.as_bytes())
        }
    };
    same && origin_ok
}

/// `303 See Other` to `location`.
fn see_other(location: &str) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::build(StatusCode::SEE_OTHER);
    b.insert_header((header::LOCATION, location.to_owned()));
    b
}
