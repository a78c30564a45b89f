//! The browser pages, server-rendered from the askama templates in `templates/`: sign-in,
//! consent, error, signed in / signed out, and the OAuth 2.0 Form Post Response Mode page.
//!
//! Plain Rust only: a view model in, HTML out. The HTTP layer (`http::pages`) adds the
//! headers every page needs (CSP, `no-store`, `no-referrer`). Every value is HTML-escaped by
//! askama (autoescaping is on for `.html` templates), so names a client registered or a user
//! typed cannot become markup. The pages hold no inline script or style: the CSP forbids both,
//! and the stylesheet and the form_post script are the embedded files of [`assets`].

pub mod assets;
mod consent;
mod error;
mod form_post;
mod session;
mod sign_in;

pub use consent::{Consent, ScopeLine};
pub use error::ErrorPage;
pub use form_post::FormPost;
pub use session::{SignOut, SignedIn, SignedOut};
pub use sign_in::SignIn;

/// A page that failed to render. Only a template bug or a failing writer causes it; the
/// handler logs it and answers 500 without echoing it.
#[derive(Debug, thiserror::Error)]
#[error("rendering the {page} page")]
pub struct PageError {
    page: &'static str,
    #[source]
    source: askama::Error,
}

/// One of the pages above.
pub trait Page: askama::Template {
    /// Its name in errors and logs.
    const NAME: &'static str;
}

/// The page's HTML.
pub fn render<T: Page>(page: &T) -> Result<String, PageError> {
    page.render().map_err(|source| PageError {
        page: T::NAME,
        source,
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    /// The `value` of the first `<input>` whose `name` is `name`, as written in the HTML.
    pub fn input_value<'a>(html: &'a str, name: &str) -> Option<&'a str> {
        let at = html.find(&format!("name=\"{name}\""))?;
        let tag_start = html[..at].rfind('<')?;
        let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
        let v = tag.find("value=\"")? + "value=\"".len();
        Some(&tag[v..v + tag[v..].find('"')?])
    }
}
