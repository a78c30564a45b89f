//! Every endpoint's path, in one place: the HTTP layer routes them (under the context path),
//! and the core builds their absolute URLs from the issuer — for metadata, and later for
//! discovery, the assertion `aud` check, `registration_client_uri`, sign-in and logout.

/// Paths relative to the context path (the issuer's path).
pub const AUTHORIZE: &str = "/oauth2/authorize";
pub const TOKEN: &str = "/oauth2/token";
pub const INTROSPECT: &str = "/oauth2/introspect";
pub const REVOKE: &str = "/oauth2/revoke";
pub const JWKS: &str = "/oauth2/jwks";
/// RFC 8414 §3: under the context path here; the gateway also answers at the §3.1 inserted
/// form.
/// OpenID Connect Discovery §4.
pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
pub const USERINFO: &str = "/userinfo";
/// The sign-in page (GET) and its form (POST).
pub const LOGIN: &str = "/login";
/// The consent page's form.
pub const CONSENT: &str = "/consent";
/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2): `end_session_endpoint`.
pub const LOGOUT: &str = "/connect/logout";
/// Dynamic client registration (RFC 7591 §3) and a registration's client configuration
/// endpoint (RFC 7592 §2: `registration_client_uri`).
pub const REGISTER: &str = "/connect/register";
pub const REGISTRATION: &str = "/connect/register/{client_id}";
/// The signed-in user's consents (JSON), and one of them by client id.
pub const ACCOUNT_CONSENTS: &str = "/account/consents";
pub const ACCOUNT_CONSENT: &str = "/account/consents/{client_id}";
/// The signed-in user's live sessions (JSON), and one of them by `sid`.
pub const ACCOUNT_SESSIONS: &str = "/account/sessions";
pub const ACCOUNT_SESSION: &str = "/account/sessions/{sid}";
pub const AUTHORIZATION_SERVER_METADATA: &str = "/.well-known/oauth-authorization-server";
pub const ADMIN_KEYS: &str = "/admin/keys";
pub const ADMIN_KEYS_ROTATE: &str = "/admin/keys/rotate";
pub const ADMIN_KEY_REVOKE: &str = "/admin/keys/{kid}/revoke";
/// The browser pages' embedded stylesheet and form_post script (`pages::assets`).
pub const ASSETS_STYLE: &str = "/assets/style.css";
pub const ASSETS_FORM_POST: &str = "/assets/form-post.js";

/// Absolute endpoint URLs under an issuer.
#[derive(Debug, Clone)]
pub struct Endpoints {
    issuer: String,
}

impl Endpoints {
    pub fn new(issuer: &str) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
        }
    }

    /// The absolute URL of `path` (one of the consts above).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_the_issuer_and_the_path() {
        let e = Endpoints::new("http://localhost:8085/ms-auth-server");
        assert_eq!(
            e.url(TOKEN),
            "http://localhost:8085/ms-auth-server/oauth2/token"
        );
    }
}
