//! What the browser pages share over HTTP: the cookies (the session's and the interaction
//! binding's), the same-origin check every form post passes, and the mapping of a flow's
//! [`Outcome`] to a page or a redirect.

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite},
    http::{StatusCode, header},
};

use super::pages::render_page;
use crate::{
    oauth::{
        authorize::{
            Delivery, Outcome,
            flow::{Browser, ConsentPrompt, SignInPrompt},
        },
        endpoints,
        error::OAuthError,
    },
    pages,
};

pub const SESSION_COOKIE: &str = "ms_auth_session";
pub const BINDING_COOKIE: &str = "ms_auth_interaction";

/// How the browser pages are served: under the context path, for the issuer's origin.
#[derive(Debug, Clone)]
pub struct BrowserSite {
    pub context_path: String,
    /// `scheme://host[:port]` of the issuer: where forms come from through the gateway.
    pub issuer_origin: String,
    /// `Secure` cookies: always, except for a plain-http loopback issuer (the playground).
    pub secure_cookies: bool,
}

impl BrowserSite {
    pub fn new(issuer: &str, context_path: &str) -> Self {
        let url = url::Url::parse(issuer).ok();
        let issuer_origin = url
            .as_ref()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let plain_loopback = url
            .as_ref()
            .is_some_and(|u| u.scheme() == "http" && crate::settings::is_loopback(u));
        Self {
            context_path: context_path.to_owned(),
            issuer_origin,
            secure_cookies: !plain_loopback,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.context_path)
    }

    /// A cookie of the pages: `HttpOnly`, `SameSite=Lax` (sent on the top-level navigation
    /// back from a client, never on cross-site subrequests), `Path` = the context path,
    /// `Secure` unless the issuer is plain-http loopback. A browser-session cookie.
    pub fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build(name, value)
            .path(self.context_path.clone())
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure_cookies)
            .finish()
    }

    /// The cookie `name` removed (empty, expired at once).
    pub fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut gone = self.cookie(name, String::new());
        gone.set_max_age(actix_web::cookie::time::Duration::ZERO);
        gone
    }

    /// Whether a form post comes from this site's own pages. `Sec-Fetch-Site` decides when
    /// the browser sends it (every current one does): it must say `same-origin` (or `none`, a
    /// navigation the user typed). Without it, `Origin` must be the issuer's or this request's
    /// own. An `Origin` of `null` is what browsers send from a page whose `Referrer-Policy` is
    /// `no-referrer` — ours — so it proves nothing either way and is left to `Sec-Fetch-Site`;
    /// without that header it is refused. A cross-site form is refused before anything else is
    /// read; the CSRF token and the binding cookie are checked after.
    pub fn same_origin(&self, req: &HttpRequest) -> bool {
        let headers = req.headers();
        if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            return matches!(site, "same-origin" | "none");
        }
        match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            None => true,
            Some("null") => false,
            Some(origin) => {
                let info = req.connection_info();
                origin == self.issuer_origin
                    || origin == format!("{}://{}", info.scheme(), info.host())
            }
        }
    }
}

/// The cookies a request carries.
pub fn browser(req: &HttpRequest) -> (Option<String>, Option<String>) {
    (
        req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()),
        req.cookie(BINDING_COOKIE).map(|c| c.value().to_owned()),
    )
}

/// Borrows the cookies for the flow.
pub fn as_browser<'a>(cookies: &'a (Option<String>, Option<String>)) -> Browser<'a> {
    Browser {
        session: cookies.0.as_deref(),
        binding: cookies.1.as_deref(),
    }
}

/// The error page.
pub fn error_page(site: &BrowserSite, status: StatusCode, e: &OAuthError) -> HttpResponse {
    error_page_titled(site, status, "Sign-in cannot continue", e)
}

/// The error page under `title`.
pub fn error_page_titled(
    site: &BrowserSite,
    status: StatusCode,
    title: &str,
    e: &OAuthError,
) -> HttpResponse {
    render_page(
        status,
        &pages::ErrorPage {
            context_path: site.context_path.clone(),
            title: title.to_owned(),
            message: e
                .error_description
                .clone()
                .unwrap_or_else(|| "The request could not be completed.".to_owned()),
            code: Some(e.error.as_str().to_owned()),
        },
        None,
    )
}

/// The refusal of a cross-site form post.
pub fn cross_site(site: &BrowserSite) -> HttpResponse {
    error_page(
        site,
        StatusCode::FORBIDDEN,
        &OAuthError::invalid_request("this form was sent from another site and is refused"),
    )
}

/// The response for a flow's outcome.
pub fn respond(site: &BrowserSite, outcome: Outcome) -> HttpResponse {
    match outcome {
        Outcome::Deliver(Delivery::Redirect(url)) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .finish(),
        Outcome::Deliver(Delivery::FormPost { action, fields }) => render_page(
            StatusCode::OK,
            &pages::FormPost {
                context_path: site.context_path.clone(),
                action: action.clone(),
                fields,
            },
            Some(&action),
        ),
        Outcome::ShowError(e) => error_page(site, StatusCode::BAD_REQUEST, &e),
        Outcome::SignIn(prompt) => sign_in_page(site, StatusCode::OK, prompt),
        Outcome::Consent(prompt) => consent_page(site, prompt),
        Outcome::SignedIn { username } => render_page(
            StatusCode::OK,
            &pages::SignedIn {
                context_path: site.context_path.clone(),
                username,
            },
            None,
        ),
    }
}

/// The client's redirect URI a page's form submission may end at (CSP `form-action`).
fn redirect_target(interaction: &crate::oauth::authorize::Interaction) -> Option<&str> {
    interaction
        .request
        .as_ref()
        .map(|r| r.redirect_uri.as_str())
}

pub fn sign_in_page(site: &BrowserSite, status: StatusCode, prompt: SignInPrompt) -> HttpResponse {
    let page = pages::SignIn {
        context_path: site.context_path.clone(),
        action: site.url(endpoints::LOGIN),
        interaction: prompt.interaction.id.clone(),
        csrf_token: prompt.interaction.csrf_token.clone(),
        username: prompt.username,
        error: prompt.error,
        client_name: prompt.client_name,
    };
    let mut res = render_page(status, &page, redirect_target(&prompt.interaction));
    if let Some(binding) = prompt.binding {
        let _ = res.add_cookie(&site.cookie(BINDING_COOKIE, binding));
    }
    res
}

fn consent_page(site: &BrowserSite, prompt: ConsentPrompt) -> HttpResponse {
    let page = pages::Consent {
        context_path: site.context_path.clone(),
        action: site.url(endpoints::CONSENT),
        interaction: prompt.interaction.id.clone(),
        csrf_token: prompt.interaction.csrf_token.clone(),
        client_name: prompt.client_name,
        client_id: prompt.client_id,
        username: prompt.username,
        scopes: prompt
            .scopes
            .into_iter()
            .map(|(name, description)| pages::ScopeLine { name, description })
            .collect(),
    };
    let mut res = render_page(StatusCode::OK, &page, redirect_target(&prompt.interaction));
    if let Some(binding) = prompt.binding {
        let _ = res.add_cookie(&site.cookie(BINDING_COOKIE, binding));
    }
    res
}

/// A failure of the server's own (a store down): logged with its cause, shown without it.
pub fn internal(site: &BrowserSite, e: &crate::oauth::error::EndpointError) -> HttpResponse {
    if e.is_internal() {
        tracing::error!(error = %e, "browser request failed");
    }
    let oauth = e.to_oauth();
    let status = super::error::status(oauth.error);
    let mut res = error_page(site, status, &oauth);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    res
}

/// A page asking to come back in `retry_after_secs`.
pub fn retry_later(
    site: &BrowserSite,
    status: StatusCode,
    retry_after_secs: u64,
    message: &str,
) -> HttpResponse {
    let mut res = render_page(
        status,
        &pages::ErrorPage {
            context_path: site.context_path.clone(),
            title: "Please wait".to_owned(),
            message: message.to_owned(),
            code: None,
        },
        None,
    );
    if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.max(1).to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}
