//! The pages (askama templates in `templates/`, autoescaped) and the stylesheet.

use actix_web::{HttpResponse, HttpResponseBuilder, http::header};
use askama::Template;

use crate::sessions::Notice;

/// The one stylesheet every page links.
pub const STYLE: &str = include_str!("../../assets/style.css");

/// The home page of someone not signed in: what the app is, and "Sign in".
#[derive(Template)]
#[template(path = "home.html")]
pub struct Home<'a> {
    pub csrf_token: &'a str,
    pub notice: Option<Notice>,
    pub client_id: &'a str,
    pub issuer: &'a str,
}

/// The home page of a signed-in user.
#[derive(Template)]
#[template(path = "signed_in.html")]
pub struct SignedIn<'a> {
    pub csrf_token: &'a str,
    pub notice: Option<Notice>,
    pub name: &'a str,
    pub sub: &'a str,
    pub sid: &'a str,
    /// The ID token's claims, pretty JSON.
    pub claims: String,
    /// The userinfo endpoint's claims, pretty JSON.
    pub userinfo: String,
    pub scope: &'a str,
    pub expires: String,
    pub backchannel_deliveries: u64,
}

/// Something went wrong in a flow.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// The single-page app's page; its configuration goes in as JSON, read by `spa.js`.
#[derive(Template)]
#[template(path = "spa.html")]
pub struct Spa {
    pub config: String,
}

/// `page` as HTML in `builder`; a template that cannot render is a logged 500.
pub fn html(mut builder: HttpResponseBuilder, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => builder
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "page failed to render");
            HttpResponse::InternalServerError()
                .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
                .body("the page failed to render")
        }
    }
}

/// An error page with `status`.
pub fn error(status: actix_web::http::StatusCode, title: &str, message: &str) -> HttpResponse {
    html(HttpResponse::build(status), &ErrorPage { title, message })
}

pub async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(STYLE)
}

/// `HH:MM:SS UTC` of Unix time `secs`.
pub fn clock_time(secs: u64) -> String {
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_show() {
        let html = ErrorPage {
            title: "Sign-in failed",
            message: "<script>alert(1)</script>",
        }
        .render()
        .unwrap();
        assert!(
            !html.contains("<script>") && html.contains("alert(1)"),
            "{html}"
        );
        assert_eq!(clock_time(1_800_000_000), "08:00:00 UTC");
    }
}
