//! The authorization endpoint's flow over the stores: from the request to the sign-in page,
//! the consent page and the code (RFC 6749 §4.1.1–§4.1.2, OIDC Core §3.1.2). Plain values in
//! and out: the HTTP layer reads cookies and forms, renders what [`Outcome`] says and sets
//! the cookies it names.

use std::{net::IpAddr, sync::Arc};

use super::{
    decision::{self, Next, Situation},
    implicit,
    interaction::{Interaction, InteractionError, Interactions},
    request::{self, AuthorizationRequest},
    response::{self, Delivery},
};
use crate::{
    audit::{self, Actor, Event},
    clock::UnixTime,
    identity::{
        BrowserSession, Device, SessionEnder, SessionError, Sessions, User, sign_in::SignIn,
    },
    oauth::{
        client::{Client, ResponseType},
        error::{AuthorizeError, EndpointError, ErrorCode, OAuthError},
        params::Params,
        random,
        server::AuthorizationServer,
    },
    store::{CodeGrant, ConsentStore, StoreError, UserStore, credential_hash},
};

/// How long a code is valid: RFC 6749 §4.1.2 "A maximum authorization code lifetime of 10
/// minutes is RECOMMENDED"; a minute is plenty for a redirect and a back-channel call.
pub const CODE_TTL_SECS: i64 = 60;

/// What the browser brings: its cookies.
#[derive(Debug, Clone, Copy, Default)]
pub struct Browser<'a> {
    /// The session cookie's token.
    pub session: Option<&'a str>,
    /// The interaction-binding cookie's value.
    pub binding: Option<&'a str>,
}

/// The sign-in page to show.
#[derive(Debug, Clone)]
pub struct SignInPrompt {
    pub interaction: Interaction,
    /// The binding cookie to set (the browser's own again, or a new one); `None`: leave it.
    pub binding: Option<String>,
    /// Pre-filled: the `login_hint`, or what was typed before.
    pub username: String,
    pub error: Option<String>,
    pub client_name: Option<String>,
}

/// The consent page to show.
#[derive(Debug, Clone)]
pub struct ConsentPrompt {
    pub interaction: Interaction,
    /// As [`SignInPrompt::binding`].
    pub binding: Option<String>,
    pub client_id: String,
    pub client_name: String,
    pub username: String,
    /// Each requested scope with what it allows.
    pub scopes: Vec<(String, String)>,
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Send the user agent to the client (a redirect or a form post).
    Deliver(Delivery),
    /// An error page, never a redirect (RFC 6749 §4.1.2.1).
    ShowError(OAuthError),
    SignIn(SignInPrompt),
    Consent(ConsentPrompt),
    /// A sign-in begun at the sign-in page itself is done.
    SignedIn {
        username: String,
    },
}

/// The answer to a sign-in form.
#[derive(Debug, Clone)]
pub enum SignInResult {
    /// Signed in: set the session cookie, then answer `outcome`.
    Done {
        session_token: String,
        outcome: Outcome,
    },
    /// Not signed in: the form again, with why.
    Again(SignInPrompt),
    /// The form could not be accepted (no such interaction, CSRF): an error page.
    Refused(OAuthError),
    /// Too many sign-ins in flight (the password hashing pool is full): 503.
    Busy { retry_after_secs: u64 },
    /// Too many failures from this source or for this username: 429.
    Throttled { retry_after_secs: u64 },
}

/// A submitted sign-in form.
#[derive(Debug)]
pub struct SignInForm<'a> {
    pub interaction: &'a str,
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub password: &'a str,
}

/// A submitted consent form.
#[derive(Debug)]
pub struct ConsentForm<'a> {
    pub interaction: &'a str,
    pub csrf_token: &'a str,
    pub approve: bool,
}

impl From<InteractionError> for EndpointError {
    fn from(e: InteractionError) -> Self {
        match e {
            InteractionError::Store(e) => Self::Store(e),
            InteractionError::Random(e) => Self::Random(e),
            InteractionError::Corrupt(m) => Self::Store(StoreError::Corrupt(m)),
        }
    }
}

impl From<SessionError> for EndpointError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Store(e) => Self::Store(e),
            SessionError::Random(e) => Self::Random(e),
        }
    }
}

fn expired_interaction() -> OAuthError {
    OAuthError::invalid_request(
        "this sign-in has expired or was already completed: go back to the application and start again",
    )
}

pub struct Authorizer {
    pub server: Arc<AuthorizationServer>,
    pub users: Arc<dyn UserStore>,
    pub consents: Arc<dyn ConsentStore>,
    pub sessions: Sessions,
    /// Ends sessions (logout, the account API), with their tokens and notices.
    pub ender: SessionEnder,
    pub interactions: Interactions,
    pub sign_in: Arc<SignIn>,
}

impl Authorizer {
    async fn client(&self, client_id: Option<&str>) -> Result<Option<Arc<Client>>, StoreError> {
        let Some(id) = client_id.filter(|id| id.len() <= 256) else {
            return Ok(None);
        };
        Ok(self
            .server
            .clients
            .client(id)
            .await?
            .filter(|c| c.enabled()))
    }

    /// The browser's live session and its user, if the user is active.
    pub(crate) async fn signed_in(
        &self,
        browser: Browser<'_>,
        now: UnixTime,
    ) -> Result<Option<(BrowserSession, User)>, StoreError> {
        let Some(session) = self.sessions.current(browser.session, now).await? else {
            return Ok(None);
        };
        Ok(self
            .users
            .user(&session.user_id)
            .await?
            .filter(User::enabled)
            .map(|u| (session, u)))
    }

    /// `GET`/`POST /oauth2/authorize`.
    pub async fn authorize(
        &self,
        params: &Params,
        browser: Browser<'_>,
        now: UnixTime,
    ) -> Result<Outcome, EndpointError> {
        let client = self.client(params.get("client_id")).await?;
        let supported = &self.server.metadata.response_types_supported;
        let request = match request::parse(params, client.as_deref(), supported) {
            Ok(r) => r,
            Err(e) => return Ok(self.refused(e)),
        };
        let Some(client) = client else {
            return Ok(Outcome::ShowError(expired_interaction()));
        };
        let hinted = match &request.id_token_hint {
            Some(hint) => match self.server.issuer.id_token_hint_subject(hint) {
                Some(sub) => Some(sub),
                None => {
                    return Ok(self.refused(request.refuse(OAuthError::invalid_request(
                        "id_token_hint is not an ID token issued by this server",
                    ))));
                }
            },
            None => None,
        };
        let signed_in = self.signed_in(browser, now).await?;
        let consent = match &signed_in {
            Some((_, user)) => self.consents.consent(&user.id, client.id.as_str()).await?,
            None => None,
        };
        let next = decision::next(&Situation {
            request: &request,
            session: signed_in.as_ref().map(|(s, _)| s),
            hinted_user: hinted.as_deref(),
            signed_in_now: false,
            first_party: client.metadata.first_party,
            consent: consent.as_ref(),
            consented_now: false,
            now,
        });
        match next {
            Next::Refuse(e) => Ok(self.refused(request.refuse(e))),
            Next::Issue => {
                let Some((session, user)) = &signed_in else {
                    return Ok(Outcome::ShowError(OAuthError::server_error()));
                };
                Ok(Outcome::Deliver(
                    self.issue(&request, &client, session, user, now).await?,
                ))
            }
            Next::SignIn => {
                let username = request.login_hint.clone().unwrap_or_default();
                let (interaction, binding) = self
                    .interactions
                    .begin(Some(request), browser.binding, now)
                    .await?;
                Ok(Outcome::SignIn(SignInPrompt {
                    interaction,
                    binding: Some(binding),
                    username,
                    error: None,
                    client_name: Some(client.display_name()),
                }))
            }
            Next::Consent => {
                let Some((_, user)) = signed_in else {
                    return Ok(Outcome::ShowError(OAuthError::server_error()));
                };
                let (interaction, binding) = self
                    .interactions
                    .begin(Some(request), browser.binding, now)
                    .await?;
                Ok(Outcome::Consent(self.consent_prompt(
                    interaction,
                    Some(binding),
                    &client,
                    &user,
                )))
            }
        }
    }

    /// `GET /login`: the pending interaction's sign-in page, or a sign-in of its own.
    pub async fn sign_in_page(
        &self,
        interaction: Option<&str>,
        browser: Browser<'_>,
        now: UnixTime,
    ) -> Result<Outcome, EndpointError> {
        if let Some(id) = interaction
            && let Some(i) = self.interactions.find(id, now).await?
            && browser
                .binding
                .is_some_and(|b| i.accepts(&i.csrf_token, Some(b)))
        {
            let client_name = match &i.request {
                Some(r) => self
                    .client(Some(&r.client_id))
                    .await?
                    .map(|c| c.display_name()),
                None => None,
            };
            let username = i
                .request
                .as_ref()
                .and_then(|r| r.login_hint.clone())
                .unwrap_or_default();
            return Ok(Outcome::SignIn(SignInPrompt {
                binding: None,
                interaction: i,
                username,
                error: None,
                client_name,
            }));
        }
        let (interaction, binding) = self.interactions.begin(None, browser.binding, now).await?;
        Ok(Outcome::SignIn(SignInPrompt {
            interaction,
            binding: Some(binding),
            username: String::new(),
            error: None,
            client_name: None,
        }))
    }

    /// `POST /login`.
    pub async fn submit_sign_in(
        &self,
        form: SignInForm<'_>,
        browser: Browser<'_>,
        device: Device,
        source: Option<IpAddr>,
        now: UnixTime,
    ) -> Result<SignInResult, EndpointError> {
        let Some(mut interaction) = self.interactions.find(form.interaction, now).await? else {
            return Ok(SignInResult::Refused(expired_interaction()));
        };
        if !interaction.accepts(form.csrf_token, browser.binding) {
            return Ok(SignInResult::Refused(OAuthError::invalid_request(
                "the form could not be verified (it was not sent from this browser's sign-in page): start again",
            )));
        }
        let client = match &interaction.request {
            Some(r) => self.client(Some(&r.client_id)).await?,
            None => None,
        };
        let again = |interaction: Interaction, error: &str| {
            SignInResult::Again(SignInPrompt {
                binding: None,
                interaction,
                username: form.username.to_owned(),
                error: Some(error.to_owned()),
                client_name: client.as_deref().map(Client::display_name),
            })
        };
        use crate::identity::sign_in::SignInError as E;
        let user = match self
            .sign_in
            .sign_in(form.username, form.password, source, now)
            .await
        {
            Ok(user) => user,
            Err(E::Invalid) => return Ok(again(interaction, "Wrong username or password.")),
            Err(E::Disabled) => {
                return Ok(again(
                    interaction,
                    "This account is disabled. Ask an administrator.",
                ));
            }
            Err(E::Busy { retry_after_secs }) => {
                return Ok(SignInResult::Busy { retry_after_secs });
            }
            Err(E::Throttled { retry_after_secs }) => {
                return Ok(SignInResult::Throttled { retry_after_secs });
            }
            Err(E::Store(e)) => return Err(e.into()),
        };
        // A new session at every sign-in, whatever the browser held (no fixation).
        let (session_token, session) = self.sessions.start(&user, &["pwd"], device, now).await?;
        audit::record(
            self.server.audit.as_ref(),
            &Actor::User(user.id.clone()),
            Event::SignInSucceeded {
                user_id: user.id.clone(),
                sid: Some(session.sid.clone()),
            },
            now,
        )
        .await;
        let Some(request) = interaction.request.clone() else {
            self.interactions.finish(&interaction.id, now).await?;
            return Ok(SignInResult::Done {
                session_token,
                outcome: Outcome::SignedIn {
                    username: user.username,
                },
            });
        };
        let Some(client) = client else {
            return Ok(SignInResult::Refused(expired_interaction()));
        };
        interaction.signed_in_sid = Some(session.sid.clone());
        let outcome = self
            .continue_after_sign_in(interaction, request, &client, &session, &user, now)
            .await?;
        Ok(SignInResult::Done {
            session_token,
            outcome,
        })
    }

    async fn continue_after_sign_in(
        &self,
        interaction: Interaction,
        request: AuthorizationRequest,
        client: &Client,
        session: &BrowserSession,
        user: &User,
        now: UnixTime,
    ) -> Result<Outcome, EndpointError> {
        let consent = self.consents.consent(&user.id, client.id.as_str()).await?;
        let next = decision::next(&Situation {
            request: &request,
            session: Some(session),
            hinted_user: None,
            signed_in_now: true,
            first_party: client.metadata.first_party,
            consent: consent.as_ref(),
            consented_now: false,
            now,
        });
        match next {
            Next::Consent => {
                self.interactions.save(&interaction, now).await?;
                Ok(Outcome::Consent(self.consent_prompt(
                    interaction,
                    None,
                    client,
                    user,
                )))
            }
            Next::Issue => {
                if self
                    .interactions
                    .finish(&interaction.id, now)
                    .await?
                    .is_none()
                {
                    return Ok(Outcome::ShowError(expired_interaction()));
                }
                Ok(Outcome::Deliver(
                    self.issue(&request, client, session, user, now).await?,
                ))
            }
            Next::Refuse(e) => {
                self.interactions.finish(&interaction.id, now).await?;
                Ok(self.refused(request.refuse(e)))
            }
            // Just signed in: the decision cannot ask for it again.
            Next::SignIn => Ok(Outcome::ShowError(OAuthError::server_error())),
        }
    }

    /// `POST /consent`.
    pub async fn submit_consent(
        &self,
        form: ConsentForm<'_>,
        browser: Browser<'_>,
        now: UnixTime,
    ) -> Result<Outcome, EndpointError> {
        let Some(interaction) = self.interactions.find(form.interaction, now).await? else {
            return Ok(Outcome::ShowError(expired_interaction()));
        };
        if !interaction.accepts(form.csrf_token, browser.binding) {
            return Ok(Outcome::ShowError(OAuthError::invalid_request(
                "the form could not be verified (it was not sent from this browser's consent page): start again",
            )));
        }
        let Some(request) = interaction.request.clone() else {
            return Ok(Outcome::ShowError(expired_interaction()));
        };
        // The consent is the signed-in user's own, in this browser.
        let Some((session, user)) = self.signed_in(browser, now).await? else {
            return Ok(Outcome::ShowError(OAuthError::invalid_request(
                "you are no longer signed in: go back to the application and start again",
            )));
        };
        let Some(client) = self.client(Some(&request.client_id)).await? else {
            return Ok(Outcome::ShowError(expired_interaction()));
        };
        // Taken once: a double-submitted form issues one code.
        if self
            .interactions
            .finish(&interaction.id, now)
            .await?
            .is_none()
        {
            return Ok(Outcome::ShowError(expired_interaction()));
        }
        if !form.approve {
            return Ok(self.refused(request.refuse(OAuthError::new(
                ErrorCode::AccessDenied,
                "the user denied the request",
            ))));
        }
        self.consents
            .grant_consent(&user.id, client.id.as_str(), &request.scope, now)
            .await?;
        audit::record(
            self.server.audit.as_ref(),
            &Actor::User(user.id.clone()),
            Event::ConsentGiven {
                user_id: user.id.clone(),
                client_id: client.id.to_string(),
                scope: request.scope.clone(),
            },
            now,
        )
        .await;
        Ok(Outcome::Deliver(
            self.issue(&request, &client, &session, &user, now).await?,
        ))
    }

    /// Issues what the response type asks for: the code, or the implicit flows' tokens. The
    /// session records the client either way (logout notifies it).
    async fn issue(
        &self,
        request: &AuthorizationRequest,
        client: &Client,
        session: &BrowserSession,
        user: &User,
        now: UnixTime,
    ) -> Result<Delivery, EndpointError> {
        let delivery = match request.response_type {
            ResponseType::Code => self.issue_code(request, session, now).await?,
            ResponseType::Token | ResponseType::IdToken | ResponseType::IdTokenToken => {
                let issued = implicit::tokens(
                    &self.server.grant_context(now),
                    client,
                    request,
                    session,
                    user,
                )
                .await?;
                response::tokens(
                    request.response_mode,
                    &request.redirect_uri,
                    &issued.params,
                    request.state.as_deref(),
                    &self.server.issuer.iss,
                )
            }
        };
        self.sessions
            .store
            .add_session_client(&session.sid, &request.client_id)
            .await?;
        Ok(delivery)
    }

    /// Issues the code (RFC 6749 §4.1.2): opaque, single-use, bound to everything the token
    /// request must match.
    async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        session: &BrowserSession,
        now: UnixTime,
    ) -> Result<Delivery, EndpointError> {
        let code = random::token()?;
        let grant = CodeGrant {
            family_id: uuid::Uuid::new_v4().to_string(),
            client_id: request.client_id.clone(),
            subject: session.user_id.clone(),
            scope: request.scope.clone(),
            redirect_uri: request.redirect_uri.clone(),
            redirect_uri_given: request.redirect_uri_given,
            code_challenge: request.code_challenge.clone(),
            code_challenge_method: request.code_challenge_method.map(|m| m.as_str().to_owned()),
            nonce: request.nonce.clone(),
            user_id: Some(session.user_id.clone()),
            session_id: Some(session.sid.clone()),
            acr: session.acr.clone(),
            amr: session.amr.clone(),
            auth_time: session.auth_time,
            session_expires_at: Some(session.expires_at),
            expires_at: now.plus_secs(CODE_TTL_SECS),
        };
        self.server
            .codes
            .put_code(&credential_hash(&code), &grant)
            .await?;
        Ok(response::code(
            request.response_mode,
            &request.redirect_uri,
            &code,
            request.state.as_deref(),
            &self.server.issuer.iss,
        ))
    }

    fn refused(&self, e: AuthorizeError) -> Outcome {
        match e {
            AuthorizeError::ShowPage(e) => Outcome::ShowError(e),
            AuthorizeError::Redirect {
                redirect_uri,
                mode,
                state,
                error,
            } => Outcome::Deliver(response::error(
                mode,
                &redirect_uri,
                &error,
                state.as_deref(),
                &self.server.issuer.iss,
            )),
        }
    }

    fn consent_prompt(
        &self,
        interaction: Interaction,
        binding: Option<String>,
        client: &Client,
        user: &User,
    ) -> ConsentPrompt {
        let scopes = interaction
            .request
            .as_ref()
            .map(|r| {
                r.scope
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        let description = crate::oauth::scope::Scope::parse(s)
                            .ok()
                            .and_then(|scope| {
                                self.server
                                    .issuer
                                    .scopes
                                    .get(&scope)
                                    .map(|d| d.description.clone())
                            })
                            .unwrap_or_else(|| s.to_owned());
                        (s.to_owned(), description)
                    })
                    .collect()
            })
            .unwrap_or_default();
        ConsentPrompt {
            interaction,
            binding,
            client_id: client.id.to_string(),
            client_name: client.display_name(),
            username: user
                .claims
                .preferred_username
                .clone()
                .unwrap_or_else(|| user.username.clone()),
            scopes,
        }
    }
}
