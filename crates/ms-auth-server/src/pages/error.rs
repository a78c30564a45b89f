//! The error page: what a person sees when a request cannot go back to the client (RFC 6749
//! §4.1.2.1: an invalid `redirect_uri` or `client_id` "MUST NOT automatically redirect the
//! user-agent"), or when a sign-in or consent step fails.

use askama::Template;

use super::Page;

/// An error told to a person. `code` is the OAuth error code, when there is one.
#[derive(Debug, Clone, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub context_path: String,
    pub title: String,
    pub message: String,
    pub code: Option<String>,
}

impl Page for ErrorPage {
    const NAME: &'static str = "error";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::render;

    #[test]
    fn shows_the_title_the_message_and_the_code() {
        let html = render(&ErrorPage {
            context_path: "/ms-auth-server".into(),
            title: "This link does not work".into(),
            message: "The application sent an unregistered redirect URI.".into(),
            code: Some("invalid_request".into()),
        })
        .unwrap();
        assert!(html.contains("<title>This link does not work · ms-auth-server</title>"));
        assert!(html.contains("<h1>This link does not work</h1>"));
        assert!(
            html.contains(
                r#"<p role="alert">The application sent an unregistered redirect URI.</p>"#
            )
        );
        assert!(html.contains("Error code <code>invalid_request</code>"));
    }

    #[test]
    fn escapes_and_leaves_out_a_missing_code() {
        let html = render(&ErrorPage {
            context_path: "/ms-auth-server".into(),
            title: "<h2>t</h2>".into(),
            message: "redirect_uri=\"javascript:alert(1)\" & more".into(),
            code: None,
        })
        .unwrap();
        assert!(!html.contains("<h2>"));
        assert!(html.contains("redirect_uri=&#34;javascript:alert(1)&#34; &#38; more"));
        assert!(!html.contains("Error code"));
    }
}
