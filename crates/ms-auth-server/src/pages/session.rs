//! The pages that close a browser-session step: signed in (a sign-in with no authorization
//! request to return to), the sign-out confirmation (OpenID Connect RP-Initiated Logout 1.0
//! §2: asked when the request does not prove who it is for) and signed out (when no
//! `post_logout_redirect_uri` is to be followed).

use askama::Template;

use super::Page;

#[derive(Debug, Clone, Template)]
#[template(path = "signed_in.html")]
pub struct SignedIn {
    pub context_path: String,
    pub username: String,
}

impl Page for SignedIn {
    const NAME: &'static str = "signed-in";
}

/// Asks whether to sign out; the form sends the logout request's parameters again.
#[derive(Debug, Clone, Template)]
#[template(path = "sign_out.html")]
pub struct SignOut {
    pub context_path: String,
    pub action: String,
    pub csrf_token: String,
    pub client_name: Option<String>,
    pub username: String,
    pub fields: Vec<(&'static str, String)>,
}

impl Page for SignOut {
    const NAME: &'static str = "sign-out";
}

#[derive(Debug, Clone, Template)]
#[template(path = "signed_out.html")]
pub struct SignedOut {
    pub context_path: String,
}

impl Page for SignedOut {
    const NAME: &'static str = "signed-out";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::render;

    #[test]
    fn signed_in_names_the_user_escaped() {
        let html = render(&SignedIn {
            context_path: "/ms-auth-server".into(),
            username: "<alice>".into(),
        })
        .unwrap();
        assert!(html.contains("<h1>You are signed in</h1>"));
        assert!(html.contains("Signed in as <strong>&#60;alice&#62;</strong>."));
    }

    #[test]
    fn sign_out_asks_and_carries_the_request_escaped() {
        let html = render(&SignOut {
            context_path: "/ms-auth-server".into(),
            action: "/ms-auth-server/connect/logout".into(),
            csrf_token: "tok".into(),
            client_name: Some("<App>".into()),
            username: "alice".into(),
            fields: vec![("state", "\"><script>".into())],
        })
        .unwrap();
        assert!(html.contains("<h1>Sign out?</h1>"));
        assert!(html.contains("<strong>&#60;App&#62;</strong> asks to sign you out."));
        assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="tok">"#));
        assert!(html.contains(r#"name="state" value="&#34;&#62;&#60;script&#62;""#));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn signed_out_renders_under_the_context_path() {
        let html = render(&SignedOut {
            context_path: "/auth".into(),
        })
        .unwrap();
        assert!(html.contains("<h1>You are signed out</h1>"));
        assert!(html.contains(r#"href="/auth/assets/style.css""#));
    }
}
