//! The pages that close a browser-session step: signed in (a sign-in with no authorization
//! request to return to) and signed out (OpenID Connect RP-Initiated Logout 1.0 §2, when no
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
    fn signed_out_renders_under_the_context_path() {
        let html = render(&SignedOut {
            context_path: "/auth".into(),
        })
        .unwrap();
        assert!(html.contains("<h1>You are signed out</h1>"));
        assert!(html.contains(r#"href="/auth/assets/style.css""#));
    }
}
