//! The sign-in page: a username and password form (OpenID Connect Core §3.1.2.3: the server
//! authenticates the end-user). Its fields are `username` and `password` (DESIGN.md).

use askama::Template;

use super::Page;

/// The sign-in form. `error` is shown in a `role="alert"` element above it.
#[derive(Debug, Clone, Template)]
#[template(path = "sign_in.html")]
pub struct SignIn {
    pub context_path: String,
    /// Where the form POSTs.
    pub action: String,
    /// The parked authorization request's id, returned in the hidden field `interaction`.
    pub interaction: String,
    /// Returned in the hidden field `csrf_token`.
    pub csrf_token: String,
    /// Prefilled (`login_hint`, or what was typed before a failed attempt).
    pub username: String,
    pub error: Option<String>,
    /// Shown as "to continue to …".
    pub client_name: Option<String>,
}

impl Page for SignIn {
    const NAME: &'static str = "sign-in";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::{render, test_support::input_value};

    fn page() -> SignIn {
        SignIn {
            context_path: "/ms-auth-server".into(),
            action: "/ms-auth-server/login".into(),
            interaction: "int-123".into(),
            csrf_token: "csrf-456".into(),
            username: String::new(),
            error: None,
            client_name: Some("Playground Web".into()),
        }
    }

    #[test]
    fn has_the_fields_the_design_names() {
        let html = render(&page()).unwrap();
        assert!(html.starts_with("<!doctype html>\n<html lang=\"en\">"));
        assert!(
            html.contains(
                r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#
            )
        );
        assert!(
            html.contains(r#"<link rel="stylesheet" href="/ms-auth-server/assets/style.css">"#)
        );
        assert!(html.contains(r#"<form method="post" action="/ms-auth-server/login""#));
        assert!(html.contains(
            r#"<input id="username" name="username" type="text" value="" autocomplete="username""#
        ));
        assert!(html.contains(
            r#"<input id="password" name="password" type="password" autocomplete="current-password" required"#
        ));
        assert!(html.contains(
            r#"<button id="sign-in" type="submit" class="button primary">Sign in</button>"#
        ));
        assert_eq!(input_value(&html, "interaction"), Some("int-123"));
        assert_eq!(input_value(&html, "csrf_token"), Some("csrf-456"));
        assert!(html.contains("to continue to <strong>Playground Web</strong>"));
        assert!(html.contains("<header class=\"site-header\">"));
        assert!(html.contains("ms-auth-server</span>"));
        assert!(html.contains("<main class=\"card\">"));
        // no alert without an error
        assert!(!html.contains("role=\"alert\""));
    }

    #[test]
    fn has_no_inline_script_or_style() {
        let html = render(&SignIn {
            error: Some("Wrong username or password.".into()),
            ..page()
        })
        .unwrap();
        assert!(!html.contains("<script"));
        assert!(!html.contains("<style"));
        assert!(!html.contains("style="));
        // no event handler attribute (` onload=`, ` onclick=`…)
        let handler = html.split(" on").skip(1).find(|rest| {
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        });
        assert_eq!(handler, None);
    }

    #[test]
    fn shows_the_error_as_an_alert_tied_to_the_fields() {
        let html = render(&SignIn {
            username: "alice".into(),
            error: Some("Wrong username or password.".into()),
            ..page()
        })
        .unwrap();
        assert!(html.contains(
            r#"<p class="alert" role="alert" id="sign-in-error">Wrong username or password.</p>"#
        ));
        assert!(html.contains(r#"aria-describedby="sign-in-error""#));
        assert_eq!(input_value(&html, "username"), Some("alice"));
        // the typed name stays; focus moves to the password
        assert!(html.contains(r#"autocomplete="current-password" required autofocus"#));
    }

    #[test]
    fn escapes_what_the_user_and_the_client_supplied() {
        let html = render(&SignIn {
            username: r#"al"ice"><script>x</script>"#.into(),
            client_name: Some("<script>alert(1)</script>".into()),
            error: Some("<b>bad</b>".into()),
            interaction: r#"a"b"#.into(),
            ..page()
        })
        .unwrap();
        assert!(!html.contains("<script"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
        assert_eq!(
            input_value(&html, "username"),
            Some("al&#34;ice&#34;&#62;&#60;script&#62;x&#60;/script&#62;")
        );
        assert_eq!(input_value(&html, "interaction"), Some("a&#34;b"));
    }
}
