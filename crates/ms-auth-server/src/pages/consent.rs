//! The consent page (OpenID Connect Core §3.1.2.4; RFC 6749 §4.1.1: the server "obtains an
//! authorization decision"): the client's name, the scopes it asks for in the words of the
//! scope registry, and one form with an Allow and a Deny button.

use askama::Template;

use super::Page;

/// One requested scope: its registry description, shown first, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeLine {
    pub name: String,
    pub description: String,
}

/// The consent form. The submit button pressed is sent as `decision=approve` or
/// `decision=deny`.
#[derive(Debug, Clone, Template)]
#[template(path = "consent.html")]
pub struct Consent {
    pub context_path: String,
    /// Where the form POSTs.
    pub action: String,
    /// The parked authorization request's id (hidden field `interaction`).
    pub interaction: String,
    /// Hidden field `csrf_token`.
    pub csrf_token: String,
    pub client_name: String,
    pub client_id: String,
    /// Who is signed in, so a person on a shared machine sees whose account this is.
    pub username: String,
    pub scopes: Vec<ScopeLine>,
}

impl Page for Consent {
    const NAME: &'static str = "consent";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::{render, test_support::input_value};

    fn page() -> Consent {
        Consent {
            context_path: "/ms-auth-server".into(),
            action: "/ms-auth-server/consent".into(),
            interaction: "int-123".into(),
            csrf_token: "csrf-456".into(),
            client_name: "Playground Web".into(),
            client_id: "playground-web".into(),
            username: "alice".into(),
            scopes: vec![
                ScopeLine {
                    name: "customer.read".into(),
                    description: "Read customers".into(),
                },
                ScopeLine {
                    name: "country.read".into(),
                    description: "Read countries".into(),
                },
            ],
        }
    }

    #[test]
    fn lists_each_scope_and_offers_allow_and_deny_in_one_form() {
        let html = render(&page()).unwrap();
        assert!(html.contains(
            r#"<li><span class="scope-description">Read customers</span> <code>customer.read</code></li>"#
        ));
        assert!(html.contains(
            r#"<li><span class="scope-description">Read countries</span> <code>country.read</code></li>"#
        ));
        assert_eq!(html.matches("<form ").count(), 1);
        assert!(html.contains(r#"<form method="post" action="/ms-auth-server/consent">"#));
        assert!(html.contains(
            r#"<button id="approve" type="submit" name="decision" value="approve" class="button primary">Allow</button>"#
        ));
        assert!(html.contains(
            r#"<button id="deny" type="submit" name="decision" value="deny" class="button secondary">Deny</button>"#
        ));
        assert_eq!(input_value(&html, "interaction"), Some("int-123"));
        assert_eq!(input_value(&html, "csrf_token"), Some("csrf-456"));
        assert!(html.contains("<strong>Playground Web</strong> wants to access your account"));
        assert!(html.contains("Signed in as <strong>alice</strong>"));
        assert!(html.contains("<code>playground-web</code>"));
    }

    #[test]
    fn says_so_when_no_scope_needs_explaining() {
        let html = render(&Consent {
            scopes: vec![],
            ..page()
        })
        .unwrap();
        assert!(!html.contains("<ul"));
        assert!(html.contains("no permissions beyond knowing that you signed in"));
    }

    #[test]
    fn escapes_the_client_name_the_username_and_the_scopes() {
        let html = render(&Consent {
            client_name: "<script>alert(1)</script>".into(),
            client_id: "<i>id</i>".into(),
            username: r#"bob" autofocus onfocus="x"#.into(),
            scopes: vec![ScopeLine {
                name: "<s>".into(),
                description: "<img src=x onerror=alert(1)>".into(),
            }],
            ..page()
        })
        .unwrap();
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<i>"));
        assert!(!html.contains("<s>"));
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
        assert!(html.contains("<strong>bob&#34; autofocus onfocus=&#34;x</strong>"));
    }
}
