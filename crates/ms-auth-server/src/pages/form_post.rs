//! OAuth 2.0 Form Post Response Mode §2: the authorization response as an HTML form that the
//! user-agent POSTs to the client's redirect URI, "auto-submitted" by script. The script is
//! the external `assets/form-post.js` (the CSP allows no inline script), and a submit button
//! inside `<noscript>` keeps the page working without JavaScript.

use askama::Template;

use super::Page;

/// The form: `fields` (`code`, `state`, `iss`, or `error`…) as hidden inputs, in order.
#[derive(Debug, Clone, Template)]
#[template(path = "form_post.html")]
pub struct FormPost {
    pub context_path: String,
    /// The client's redirect URI: the form's action.
    pub action: String,
    pub fields: Vec<(String, String)>,
}

impl Page for FormPost {
    const NAME: &'static str = "form_post";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::{render, test_support::input_value};

    fn page() -> FormPost {
        FormPost {
            context_path: "/ms-auth-server".into(),
            action: "http://127.0.0.1:8080/login/oauth2/code/playground-web".into(),
            fields: vec![
                ("code".into(), "c0de".into()),
                ("state".into(), "st&te\"<x>".into()),
                ("iss".into(), "http://localhost:8085/ms-auth-server".into()),
            ],
        }
    }

    #[test]
    fn posts_every_field_to_the_redirect_uri_with_the_external_script() {
        let html = render(&page()).unwrap();
        assert!(html.contains(
            r#"<form id="form-post" method="post" action="http://127.0.0.1:8080/login/oauth2/code/playground-web">"#
        ));
        assert_eq!(input_value(&html, "code"), Some("c0de"));
        assert_eq!(
            input_value(&html, "iss"),
            Some("http://localhost:8085/ms-auth-server")
        );
        assert_eq!(html.matches(r#"<input type="hidden""#).count(), 3);
        assert!(
            html.contains(r#"<script src="/ms-auth-server/assets/form-post.js" defer></script>"#)
        );
        // the one script is the external file; the button covers a browser without it
        assert_eq!(html.matches("<script").count(), 1);
        let noscript = &html[html.find("<noscript>").unwrap()..html.find("</noscript>").unwrap()];
        assert!(noscript.contains(r#"<button id="continue" type="submit""#));
        // the button submits this form: the noscript sits inside it
        assert!(html.find("<noscript>").unwrap() < html.find("</form>").unwrap());
    }

    #[test]
    fn escapes_names_values_and_the_action() {
        let html = render(&FormPost {
            action: r#"https://c.example/cb?a="><script>x</script>"#.into(),
            fields: vec![(r#"n"a"#.into(), r#""><script>alert(1)</script>"#.into())],
            ..page()
        })
        .unwrap();
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains(
            r#"<input type="hidden" name="n&#34;a" value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;">"#
        ));
        assert!(html.contains(
            r#"action="https://c.example/cb?a=&#34;&#62;&#60;script&#62;x&#60;/script&#62;">"#
        ));
        assert_eq!(
            input_value(&page_html(), "state"),
            Some("st&#38;te&#34;&#60;x&#62;")
        );
    }

    fn page_html() -> String {
        render(&page()).unwrap()
    }
}
