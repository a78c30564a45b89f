//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at `/connect/logout`, over
//! plain values: the request's parameters, the browser's session cookie, whether the form
//! came from this site. The HTTP layer renders what [`LogoutOutcome`] says.
//!
//! - `id_token_hint` (§2) names the user and client; an expired one is accepted (§4: "the OP
//!   SHOULD accept ID Tokens … when the RP identified by the ID Token's `aud` … is the one
//!   sending the logout request"). `client_id` must agree with it.
//! - `post_logout_redirect_uri` (§3) must be one the client registered, compared as strings;
//!   otherwise §3: "the OP MUST NOT perform post-logout redirection" — the error page.
//! - Without a valid hint of the signed-in session (its `sid`), the user is asked (§2: "the OP SHOULD ask
//!   the End-User whether to log out"): a cross-site link cannot sign anyone out. The
//!   confirmation form carries a token derived from the session cookie and must come from
//!   this site.
//! - A logout POSTed cross-site by a relying party carries no `SameSite=Lax` cookie: the
//!   session the hint names (its `sid`, of its `sub`) is ended then.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use super::id_token::IdTokenHint;
use crate::{
    audit::Actor,
    clock::UnixTime,
    identity::{BrowserSession, EndReason},
    oauth::{
        authorize::{Authorizer, flow::Browser},
        client::Client,
        error::{EndpointError, OAuthError},
        params::Params,
    },
    store::credential_hash,
};

/// The longest parameter value read: nothing this endpoint takes is longer (an ID token is a
/// few kB).
const MAX_PARAM_LEN: usize = 8192;

/// A logout request, checked.
#[derive(Debug, Clone)]
pub struct LogoutRequest {
    pub hint: Option<IdTokenHint>,
    /// As sent, for the confirmation form to carry.
    pub id_token_hint: Option<String>,
    pub client: Option<Arc<Client>>,
    /// A registered post-logout redirect URI of `client`.
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
}

/// What the user answered on the confirmation page, when the request is that form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation<'a> {
    /// Not the confirmation form: a relying party's request.
    None,
    /// The confirmation form, with its token and whether it came from this site.
    Answered {
        sign_out: bool,
        csrf_token: &'a str,
        same_origin: bool,
    },
}

/// The confirmation page to show.
#[derive(Debug, Clone)]
pub struct LogoutPrompt {
    pub csrf_token: String,
    pub client_name: Option<String>,
    pub username: String,
    /// The request's parameters, for the form to send again.
    pub fields: Vec<(&'static str, String)>,
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum LogoutOutcome {
    /// Send the user agent to the client (`post_logout_redirect_uri` with `state`). `ended`:
    /// clear the session cookie.
    Redirect { location: String, ended: bool },
    /// The signed-out page.
    SignedOut { ended: bool },
    /// Ask the user first.
    Confirm(LogoutPrompt),
    /// The user chose to stay signed in.
    StillSignedIn { username: String },
    /// The request is refused: the error page, never a redirect.
    Refused(OAuthError),
}

/// The confirmation form's token for the session whose cookie token is `session_token`: only
/// a page that could read the cookie's value — none but this server — can know it.
pub fn confirmation_token(session_token: &str) -> String {
    credential_hash(&format!("logout-confirmation:{session_token}"))
}

impl Authorizer {
    /// Checks the parameters (§2, §3).
    pub async fn logout_request(
        &self,
        params: &Params,
    ) -> Result<Result<LogoutRequest, OAuthError>, EndpointError> {
        let field = |name: &str| -> Result<Option<String>, OAuthError> {
            match params.get(name).filter(|v| !v.is_empty()) {
                Some(v) if v.len() > MAX_PARAM_LEN => {
                    Err(OAuthError::invalid_request(format!("{name} is too long")))
                }
                v => Ok(v.map(str::to_owned)),
            }
        };
        let checked = (|| {
            Ok((
                field("id_token_hint")?,
                field("client_id")?,
                field("post_logout_redirect_uri")?,
                field("state")?,
                field("logout_hint")?,
                field("ui_locales")?,
            ))
        })();
        // `logout_hint` is read (and bounded) but never spares the question: it is not proof.
        let (id_token_hint, client_id, post_logout_redirect_uri, state, _logout_hint, ui_locales) =
            match checked {
                Ok(fields) => fields,
                Err(e) => return Ok(Err(e)),
            };
        let hint = match &id_token_hint {
            None => None,
            Some(token) => match self.server.issuer.id_token_hint(token) {
                Some(hint) => Some(hint),
                None => {
                    return Ok(Err(OAuthError::invalid_request(
                        "id_token_hint is not an ID token issued by this server",
                    )));
                }
            },
        };
        let hinted_client = hint.as_ref().and_then(|h| h.client_id.clone());
        if let (Some(given), Some(hinted)) = (&client_id, &hinted_client)
            && given != hinted
        {
            return Ok(Err(OAuthError::invalid_request(
                "client_id is not the client the id_token_hint was issued to",
            )));
        }
        let client = match client_id.as_deref().or(hinted_client.as_deref()) {
            None => None,
            Some(id) => {
                let found = self
                    .server
                    .clients
                    .client(id)
                    .await?
                    .filter(|c| c.enabled());
                if found.is_none() && client_id.is_some() {
                    return Ok(Err(OAuthError::invalid_request("unknown client_id")));
                }
                found
            }
        };
        if let Some(uri) = &post_logout_redirect_uri {
            let Some(client) = &client else {
                return Ok(Err(OAuthError::invalid_request(
                    "post_logout_redirect_uri needs client_id or id_token_hint to say whose it is",
                )));
            };
            // §3: "The value MUST have been previously registered with the OP".
            if !client
                .metadata
                .post_logout_redirect_uris
                .iter()
                .any(|r| r.as_str() == uri)
            {
                return Ok(Err(OAuthError::invalid_request(
                    "post_logout_redirect_uri is not registered for this client",
                )));
            }
        }
        Ok(Ok(LogoutRequest {
            hint,
            id_token_hint,
            client,
            post_logout_redirect_uri,
            state,
            ui_locales,
        }))
    }

    /// `GET`/`POST /connect/logout`.
    pub async fn logout(
        &self,
        params: &Params,
        confirmation: Confirmation<'_>,
        browser: Browser<'_>,
        now: UnixTime,
    ) -> Result<LogoutOutcome, EndpointError> {
        let request = match self.logout_request(params).await? {
            Ok(r) => r,
            Err(e) => return Ok(LogoutOutcome::Refused(e)),
        };
        let signed_in = self.signed_in(browser, now).await?;
        let session = match (&signed_in, &request.hint) {
            (Some((session, _)), _) => Some(session.clone()),
            // No cookie came (a cross-site POST): the session the hint names, if it is live.
            (
                None,
                Some(IdTokenHint {
                    sid: Some(sid),
                    subject,
                    ..
                }),
            ) => self
                .sessions
                .store
                .sessions_of(subject, now)
                .await?
                .into_iter()
                .find(|s| &s.sid == sid),
            (None, _) => None,
        };
        let Some(session) = session else {
            return Ok(done(&request, false));
        };
        match confirmation {
            Confirmation::Answered {
                sign_out,
                csrf_token,
                same_origin,
            } => {
                let expected = browser.session.map(confirmation_token);
                let valid = same_origin
                    && expected
                        .is_some_and(|e| bool::from(e.as_bytes().ct_eq(csrf_token.as_bytes())));
                if !valid {
                    return Ok(LogoutOutcome::Refused(OAuthError::invalid_request(
                        "the sign-out form has expired or was not sent from this site",
                    )));
                }
                if !sign_out {
                    let username = signed_in.map(|(_, u)| u.username).unwrap_or_default();
                    return Ok(LogoutOutcome::StillSignedIn { username });
                }
            }
            Confirmation::None => {
                // Only an ID token of this very session spares the question: one of an earlier
                // session (expired ones are accepted), or one with no `sid` (the password
                // grant's), could be replayed by any client the user ever used.
                let this_session = request.hint.as_ref().is_some_and(|h| {
                    h.subject == session.user_id && h.sid.as_deref() == Some(session.sid.as_str())
                });
                if !this_session {
                    return Ok(self.confirm(&request, &signed_in, browser));
                }
            }
        }
        self.end_for_logout(&session, now).await?;
        Ok(done(
            &request,
            browser.session.is_some() && signed_in.is_some(),
        ))
    }

    async fn end_for_logout(
        &self,
        session: &BrowserSession,
        now: UnixTime,
    ) -> Result<(), EndpointError> {
        self.ender
            .end(
                &session.sid,
                &Actor::User(session.user_id.clone()),
                EndReason::Logout,
                now,
            )
            .await?;
        Ok(())
    }

    fn confirm(
        &self,
        request: &LogoutRequest,
        signed_in: &Option<(BrowserSession, crate::identity::User)>,
        browser: Browser<'_>,
    ) -> LogoutOutcome {
        // Asked only of a browser that sent its cookie: the form's token is derived from it.
        let (Some(token), Some((_, user))) = (browser.session, signed_in) else {
            return LogoutOutcome::Refused(OAuthError::invalid_request(
                "open this sign-out link in the browser you are signed in with",
            ));
        };
        let mut fields = Vec::new();
        let mut keep = |name: &'static str, value: &Option<String>| {
            if let Some(v) = value {
                fields.push((name, v.clone()));
            }
        };
        keep("id_token_hint", &request.id_token_hint);
        keep(
            "client_id",
            &request.client.as_ref().map(|c| c.id.as_str().to_owned()),
        );
        keep(
            "post_logout_redirect_uri",
            &request.post_logout_redirect_uri,
        );
        keep("state", &request.state);
        keep("ui_locales", &request.ui_locales);
        LogoutOutcome::Confirm(LogoutPrompt {
            csrf_token: confirmation_token(token),
            client_name: request.client.as_ref().map(|c| c.display_name()),
            username: user.username.clone(),
            fields,
        })
    }
}

/// After the logout (or when there was no session): to the client when it asked, with its
/// `state` (§3), else the signed-out page.
fn done(request: &LogoutRequest, ended: bool) -> LogoutOutcome {
    match &request.post_logout_redirect_uri {
        Some(uri) => {
            let location = match &request.state {
                Some(state) => {
                    let mut url = uri.clone();
                    url.push(if uri.contains('?') { '&' } else { '?' });
                    url.push_str(
                        &url::form_urlencoded::Serializer::new(String::new())
                            .append_pair("state", state)
                            .finish(),
                    );
                    url
                }
                None => uri.clone(),
            };
            LogoutOutcome::Redirect { location, ended }
        }
        None => LogoutOutcome::SignedOut { ended },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: Option<&str>, state: Option<&str>) -> LogoutRequest {
        LogoutRequest {
            hint: None,
            id_token_hint: None,
            client: None,
            post_logout_redirect_uri: uri.map(str::to_owned),
            state: state.map(str::to_owned),
            ui_locales: None,
        }
    }

    #[test]
    fn state_is_echoed_on_the_redirect_keeping_the_uris_query() {
        let LogoutOutcome::Redirect { location, .. } = done(
            &request(Some("https://rp.example/bye?x=1"), Some("a b&c")),
            true,
        ) else {
            panic!("not a redirect");
        };
        assert_eq!(location, "https://rp.example/bye?x=1&state=a+b%26c");
        let LogoutOutcome::Redirect { location, .. } =
            done(&request(Some("https://rp.example/"), None), true)
        else {
            panic!("not a redirect");
        };
        assert_eq!(location, "https://rp.example/");
    }

    #[test]
    fn without_a_redirect_uri_the_signed_out_page_is_shown() {
        assert!(matches!(
            done(&request(None, Some("s")), false),
            LogoutOutcome::SignedOut { ended: false }
        ));
    }

    #[test]
    fn the_confirmation_token_depends_on_the_session_cookie() {
        assert_ne!(confirmation_token("a"), confirmation_token("b"));
        assert_eq!(confirmation_token("a"), confirmation_token("a"));
        assert_ne!(confirmation_token("a"), credential_hash("a"));
    }
}
