//! What the authorization endpoint does next with a checked request, decided from values
//! alone: sign the user in, ask for consent, issue the code, or — with `prompt=none`, which
//! forbids any page — refuse with OIDC Core §3.1.2.6's codes.

use super::request::AuthorizationRequest;
use crate::{
    clock::UnixTime,
    identity::BrowserSession,
    oauth::error::{ErrorCode, OAuthError},
    store::Consent,
};

/// Where the flow goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    SignIn,
    Consent,
    Issue,
    Refuse(OAuthError),
}

/// What the decision looks at.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    pub request: &'a AuthorizationRequest,
    /// The browser's live session, its user active.
    pub session: Option<&'a BrowserSession>,
    /// The user the request expects (the `sub` of a valid `id_token_hint`).
    pub hinted_user: Option<&'a str>,
    /// The user signed in during this very interaction (so `prompt=login` and `max_age` are
    /// satisfied by it).
    pub signed_in_now: bool,
    /// A first-party client is never asked for consent.
    pub first_party: bool,
    /// What the user allowed the client before.
    pub consent: Option<&'a Consent>,
    /// The user allowed it on this interaction's consent page.
    pub consented_now: bool,
    pub now: UnixTime,
}

pub fn next(s: &Situation<'_>) -> Next {
    let prompt = s.request.prompt;
    let authenticated = s.session.is_some_and(|session| {
        let fresh_enough = match s.request.max_age {
            // OIDC Core §3.1.2.1 max_age: "If the elapsed time is greater than this value, the
            // OP MUST attempt to actively re-authenticate the End-User."
            Some(max_age) => {
                s.now.secs().saturating_sub(session.auth_time.secs()) <= max_age as i64
                    && max_age > 0
            }
            None => true,
        };
        let right_user = s.hinted_user.is_none_or(|sub| sub == session.user_id);
        // select_account: there is no account chooser but the sign-in page itself, where any
        // account can be chosen, so it is asked for as login is.
        let asked_to_sign_in = prompt.login || prompt.select_account;
        right_user && (s.signed_in_now || (!asked_to_sign_in && fresh_enough))
    });
    if !authenticated {
        return if prompt.none {
            Next::Refuse(OAuthError::new(
                ErrorCode::LoginRequired,
                "prompt=none, and the user is not signed in (as required)",
            ))
        } else {
            Next::SignIn
        };
    }
    // `prompt=consent` (OIDC Core §3.1.2.1: "The Authorization Server SHOULD prompt the
    // End-User for consent") asks even a first-party client's user.
    let consented = s.consented_now
        || (!prompt.consent
            && (s.first_party || s.consent.is_some_and(|c| c.covers(&s.request.scope))));
    if !consented {
        return if prompt.none {
            Next::Refuse(OAuthError::new(
                ErrorCode::ConsentRequired,
                "prompt=none, and the user has not allowed this client these scopes",
            ))
        } else {
            Next::Consent
        };
    }
    Next::Issue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::authorize::{request::Prompt, response::ResponseMode};

    fn request(prompt: Prompt, max_age: Option<u64>) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "c".into(),
            response_type: crate::oauth::client::ResponseType::Code,
            scope_differs: false,
            redirect_uri: "https://a.example/cb".into(),
            redirect_uri_given: true,
            response_mode: ResponseMode::Query,
            scope: "openid profile".into(),
            state: None,
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            prompt,
            max_age,
            login_hint: None,
            id_token_hint: None,
            ui_locales: None,
        }
    }

    fn session(auth_time: i64) -> BrowserSession {
        BrowserSession {
            sid: "sid".into(),
            user_id: "alice".into(),
            auth_time: UnixTime::from_secs(auth_time),
            amr: vec!["pwd".into()],
            acr: None,
            created_at: UnixTime::from_secs(auth_time),
            last_seen: UnixTime::from_secs(auth_time),
            idle_expires_at: UnixTime::from_secs(auth_time + 3600),
            expires_at: UnixTime::from_secs(auth_time + 7200),
            clients: vec![],
            user_agent: None,
            address: None,
        }
    }

    fn consent(scope: &str) -> Consent {
        Consent {
            user_id: "alice".into(),
            client_id: "c".into(),
            scope: scope.into(),
            granted_at: UnixTime::from_secs(0),
        }
    }

    fn decide(
        r: &AuthorizationRequest,
        s: Option<&BrowserSession>,
        c: Option<&Consent>,
        now: i64,
    ) -> Next {
        next(&Situation {
            request: r,
            session: s,
            hinted_user: None,
            signed_in_now: false,
            first_party: false,
            consent: c,
            consented_now: false,
            now: UnixTime::from_secs(now),
        })
    }

    fn code(n: &Next) -> Option<ErrorCode> {
        match n {
            Next::Refuse(e) => Some(e.error),
            _ => None,
        }
    }

    #[test]
    fn no_session_signs_in_or_with_prompt_none_is_login_required() {
        let r = request(Prompt::default(), None);
        assert_eq!(decide(&r, None, None, 100), Next::SignIn);
        let none = request(
            Prompt {
                none: true,
                ..Prompt::default()
            },
            None,
        );
        assert_eq!(
            code(&decide(&none, None, None, 100)),
            Some(ErrorCode::LoginRequired)
        );
    }

    #[test]
    fn consent_is_remembered_per_scope_set() {
        let r = request(Prompt::default(), None);
        let s = session(100);
        assert_eq!(decide(&r, Some(&s), None, 200), Next::Consent);
        assert_eq!(
            decide(&r, Some(&s), Some(&consent("openid")), 200),
            Next::Consent,
            "a new scope asks again"
        );
        assert_eq!(
            decide(&r, Some(&s), Some(&consent("email openid profile")), 200),
            Next::Issue
        );
        let none = request(
            Prompt {
                none: true,
                ..Prompt::default()
            },
            None,
        );
        assert_eq!(
            code(&decide(&none, Some(&s), None, 200)),
            Some(ErrorCode::ConsentRequired)
        );
        let again = request(
            Prompt {
                consent: true,
                ..Prompt::default()
            },
            None,
        );
        assert_eq!(
            decide(&again, Some(&s), Some(&consent("openid profile")), 200),
            Next::Consent
        );
    }

    #[test]
    fn max_age_and_prompt_login_force_a_new_sign_in_once() {
        let s = session(100);
        let c = consent("openid profile");
        assert_eq!(
            decide(
                &request(Prompt::default(), Some(0)),
                Some(&s),
                Some(&c),
                100
            ),
            Next::SignIn
        );
        assert_eq!(
            decide(
                &request(Prompt::default(), Some(60)),
                Some(&s),
                Some(&c),
                160
            ),
            Next::Issue
        );
        assert_eq!(
            decide(
                &request(Prompt::default(), Some(60)),
                Some(&s),
                Some(&c),
                161
            ),
            Next::SignIn
        );
        let login = request(
            Prompt {
                login: true,
                ..Prompt::default()
            },
            Some(0),
        );
        assert_eq!(decide(&login, Some(&s), Some(&c), 100), Next::SignIn);
        let after = next(&Situation {
            request: &login,
            session: Some(&s),
            hinted_user: None,
            signed_in_now: true,
            first_party: false,
            consent: Some(&c),
            consented_now: false,
            now: UnixTime::from_secs(100),
        });
        assert_eq!(
            after,
            Next::Issue,
            "the sign-in of this interaction satisfies them"
        );
    }

    #[test]
    fn a_hint_for_another_user_needs_that_user() {
        let s = session(100);
        let r = request(
            Prompt {
                none: true,
                ..Prompt::default()
            },
            None,
        );
        let n = next(&Situation {
            request: &r,
            session: Some(&s),
            hinted_user: Some("bob"),
            signed_in_now: false,
            first_party: true,
            consent: None,
            consented_now: false,
            now: UnixTime::from_secs(100),
        });
        assert_eq!(code(&n), Some(ErrorCode::LoginRequired));
    }

    #[test]
    fn first_party_clients_skip_consent() {
        let s = session(100);
        let r = request(Prompt::default(), None);
        let n = next(&Situation {
            request: &r,
            session: Some(&s),
            hinted_user: None,
            signed_in_now: false,
            first_party: true,
            consent: None,
            consented_now: false,
            now: UnixTime::from_secs(100),
        });
        assert_eq!(n, Next::Issue);
    }
}
