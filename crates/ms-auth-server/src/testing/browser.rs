//! A browser for tests of pages: a cookie jar, redirects stepped through one hop at a time,
//! forms read off the page (`html`) and submitted as a browser would.
//!
//! Redirects are followed by hand so a test sees every hop (the `Set-Cookie` of a 303, the
//! `code` in a redirect to the client) and never leaves the server under test: following
//! stops at a redirect to another origin, which is where an authorization response goes.
//! Like browsers, the jar counts loopback as a secure context: `Secure` cookies go to
//! `http://127.0.0.1`, so the servers under test need not drop the attribute.

use std::sync::Arc;

use reqwest::{
    Method, StatusCode, Url,
    cookie::{CookieStore, Jar},
    header::{HeaderMap, LOCATION, SET_COOKIE},
};

use super::html::{Form, forms};

/// How many redirects [`Browser::follow`] takes before it calls it a loop (Chromium's and
/// Firefox's limit is 20; this server's flows take three or four).
pub const MAX_REDIRECTS: usize = 10;

/// A browser: one cookie jar across requests, no redirect followed by itself.
pub struct Browser {
    pub http: reqwest::Client,
    jar: Arc<Jar>,
}

/// One response on the way: where it came from and what it said, body read.
#[derive(Debug, Clone)]
pub struct Hop {
    pub url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Hop {
    async fn read(res: reqwest::Response) -> Self {
        let (url, status, headers) = (res.url().clone(), res.status(), res.headers().clone());
        Self {
            url,
            status,
            headers,
            body: res.text().await.unwrap(),
        }
    }

    /// Whether this is a redirect a browser follows (301, 302, 303, 307, 308).
    pub fn is_redirect(&self) -> bool {
        matches!(self.status.as_u16(), 301 | 302 | 303 | 307 | 308)
    }

    /// `Location`, resolved against this hop's URL.
    pub fn location(&self) -> Option<Url> {
        let value = self.headers.get(LOCATION)?.to_str().ok()?;
        self.url.join(value).ok()
    }

    /// The `Set-Cookie` header that sets `name`, as sent (attributes included).
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.split_once('=').is_some_and(|(n, _)| n.trim() == name))
    }

    /// Every form on the page.
    pub fn forms(&self) -> Vec<Form> {
        forms(&self.body, &self.url)
    }

    /// The page's only form; panics, showing the page, when there is none or several.
    pub fn form(&self) -> Form {
        let mut all = self.forms();
        assert_eq!(
            all.len(),
            1,
            "one form expected on {}:\n{}",
            self.url,
            self.body
        );
        all.remove(0)
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { http, jar }
    }

    /// `GET url`, sending the cookies the jar holds for it; no redirect followed.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// `GET url`, then [`Self::follow`].
    pub async fn open(&self, url: &str) -> Vec<Hop> {
        self.follow(self.get(url).await).await
    }

    /// `res` and each redirect after it, fetched with `GET` as browsers do after a 301, 302
    /// or 303, until an answer that is no redirect or a redirect to another origin (not
    /// fetched: the last hop carries its `Location`). Panics, listing the hops, after
    /// [`MAX_REDIRECTS`], and at a 307 or 308, which would repeat a method and body this
    /// browser no longer has.
    pub async fn follow(&self, res: reqwest::Response) -> Vec<Hop> {
        let mut hops = vec![Hop::read(res).await];
        loop {
            let last = &hops[hops.len() - 1];
            if !last.is_redirect() {
                return hops;
            }
            let Some(next) = last.location() else {
                return hops;
            };
            if next.origin() != last.url.origin() {
                return hops;
            }
            assert!(
                !matches!(last.status.as_u16(), 307 | 308),
                "{} {} would repeat the request: follow() only re-sends GETs",
                last.status,
                last.url
            );
            assert!(
                hops.len() <= MAX_REDIRECTS,
                "more than {MAX_REDIRECTS} redirects: {:?}",
                hops.iter()
                    .map(|h| format!("{} {}", h.status.as_u16(), h.url))
                    .collect::<Vec<_>>()
            );
            let res = self.http.get(next).send().await.unwrap();
            hops.push(Hop::read(res).await);
        }
    }

    /// Submits `form` with `fields` set (or added: the clicked button), as a browser does: a
    /// POST's entries form-encoded in the body, a GET's replacing the action's query, and
    /// the page's `Origin` and `Sec-Fetch-Site` sent along. No redirect followed.
    pub async fn submit(&self, form: &Form, fields: &[(&str, &str)]) -> reqwest::Response {
        let entries = form.entries(fields);
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&entries)
            .finish();
        let req = if form.method == Method::POST {
            self.http
                .post(form.action.clone())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", form.page.origin().ascii_serialization())
                .body(encoded)
        } else {
            let mut action = form.action.clone();
            action.set_query(Some(&encoded));
            self.http.get(action)
        };
        req.header("Sec-Fetch-Site", fetch_site(&form.page, &form.action))
            .send()
            .await
            .unwrap()
    }

    /// The value of cookie `name` the jar would send to `url`.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let header = self.jar.cookies(&Url::parse(url).unwrap())?;
        header
            .to_str()
            .unwrap()
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// `Sec-Fetch-Site` of a request from `page` to `target` (Fetch Metadata §2.1): the same
/// origin, the same scheme and host (a site, ignoring registrable-domain rules), or neither.
fn fetch_site(page: &Url, target: &Url) -> &'static str {
    if page.origin() == target.origin() {
        "same-origin"
    } else if page.scheme() == target.scheme() && page.host() == target.host() {
        "same-site"
    } else {
        "cross-site"
    }
}
