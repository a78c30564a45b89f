//! The browser pages over HTTP: the headers every page carries, and the embedded stylesheet
//! and script with their cache validators.
//!
//! A page is never stored (`no-store`: it holds a CSRF token or an authorization response),
//! never framed (`frame-ancestors 'none'` and `X-Frame-Options` for older browsers:
//! clickjacking, RFC 6749 §10.13), and leaks no URL on the way out (`no-referrer`: a code or
//! state in the page's URL must not reach the next site).

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
};
use url::Url;

use crate::pages::{
    self, Page,
    assets::{self, Asset},
};

/// The policy for a page whose forms post to this server only.
const CSP_SELF: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                        form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A page with the headers every page needs; its forms may post to this server only.
pub fn page_response(status: StatusCode, html: String) -> HttpResponse {
    page_response_with_form_action(status, html, None)
}

/// A page whose form may also go to `redirect_uri`'s origin: the form_post page, which POSTs
/// to the client, and any page whose form submission ends in a redirect to the client
/// (sign-in, consent), since Chromium checks `form-action` against every redirect that
/// follows a submission too. A URI that does not parse adds nothing, so the browser blocks the
/// submission rather than the policy opening up.
pub fn page_response_with_form_action(
    status: StatusCode,
    html: String,
    redirect_uri: Option<&str>,
) -> HttpResponse {
    let csp = match redirect_uri.and_then(form_action_source) {
        Some(source) => CSP_SELF.replacen(
            "form-action 'self'",
            &format!("form-action 'self' {source}"),
            1,
        ),
        None => CSP_SELF.to_owned(),
    };
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .body(html)
}

/// Renders `page` into a response (see [`page_response_with_form_action`]). A template that
/// fails to render is a bug: it is logged and answered with a bare 500.
pub fn render_page<T: Page>(
    status: StatusCode,
    page: &T,
    redirect_uri: Option<&str>,
) -> HttpResponse {
    match pages::render(page) {
        Ok(html) => page_response_with_form_action(status, html, redirect_uri),
        Err(e) => {
            tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "page failed to render");
            page_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Server error</title><p>Something went wrong.".to_owned(),
            )
        }
    }
}

/// The CSP source expression (CSP3 §2.3.1) for a URI's origin: `scheme://host[:port]`, or
/// `scheme:` for a URI without a host (a native app's private-use scheme). Both are made of
/// characters a URL's serialisation allows in a scheme and host, so nothing can break out of
/// the directive.
fn form_action_source(uri: &str) -> Option<String> {
    let url = Url::parse(uri).ok()?;
    let origin = url.origin();
    Some(if origin.is_tuple() {
        origin.ascii_serialization()
    } else {
        format!("{}:", url.scheme())
    })
}

/// `GET /assets/style.css`.
pub async fn assets_style(req: HttpRequest) -> HttpResponse {
    asset(&req, &assets::STYLE)
}

/// `GET /assets/form-post.js`.
pub async fn assets_form_post(req: HttpRequest) -> HttpResponse {
    asset(&req, &assets::FORM_POST_JS)
}

/// An embedded file: a day in any cache, then revalidated by its entity tag (304, RFC 9110
/// §15.4.5, with the same `ETag` and `Cache-Control` a 200 would carry).
fn asset(req: &HttpRequest, asset: &Asset) -> HttpResponse {
    let fresh = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .any(|v| asset.matches_if_none_match(v));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, asset.etag()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if fresh {
        res.finish()
    } else {
        res.insert_header((header::CONTENT_TYPE, asset.content_type))
            .body(asset.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(res: &HttpResponse, name: header::HeaderName) -> &str {
        res.headers().get(name).unwrap().to_str().unwrap()
    }

    #[test]
    fn a_page_carries_every_protective_header() {
        let res = page_response(StatusCode::OK, "<p>x".into());
        assert_eq!(
            header_of(&res, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&res, header::CACHE_CONTROL), "no-store");
        assert_eq!(header_of(&res, header::PRAGMA), "no-cache");
        assert_eq!(header_of(&res, header::REFERRER_POLICY), "no-referrer");
        assert_eq!(header_of(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(header_of(&res, header::X_FRAME_OPTIONS), "DENY");
        assert_eq!(
            header_of(&res, header::CONTENT_SECURITY_POLICY),
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
    }

    #[test]
    fn form_action_opens_to_the_redirect_uris_origin_only() {
        let csp = |uri| {
            let res = page_response_with_form_action(StatusCode::OK, String::new(), Some(uri));
            header_of(&res, header::CONTENT_SECURITY_POLICY).to_owned()
        };
        assert!(
            csp("http://127.0.0.1:8080/login/oauth2/code/playground-web?x=1#f")
                .contains("; form-action 'self' http://127.0.0.1:8080; frame-ancestors 'none'")
        );
        assert!(
            csp("https://Client.Example:443/cb")
                .contains("form-action 'self' https://client.example;")
        );
        assert!(csp("com.example.app:/cb").contains("form-action 'self' com.example.app:;"));
        // what does not parse as a URL adds nothing (and cannot inject a directive)
        assert!(csp("not a url; script-src *").contains("form-action 'self'; frame-ancestors"));
        assert!(!csp("not a url; script-src *").contains('*'));
    }

    #[test]
    fn render_page_renders_with_the_headers() {
        let res = render_page(
            StatusCode::UNAUTHORIZED,
            &pages::SignedOut {
                context_path: "/ms-auth-server".into(),
            },
            Some("https://c.example/cb"),
        );
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(header_of(&res, header::CONTENT_SECURITY_POLICY).contains("https://c.example"));
    }
}
