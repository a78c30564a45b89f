//! The server-side web app (the confidential client): the home page, sign-in with the
//! authorization code flow and PKCE (RFC 6749 §4.1, RFC 7636, OpenID Connect Core §3.1), the
//! callback's `state` and `iss` checks (RFC 9207), the resource calls, refresh (RFC 6749 §6)
//! and RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2).

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde::Deserialize;

use super::{
    AppState, FLOW_COOKIE, SESSION_COOKIE, csrf_ok, csrf_token,
    pages::{self, Home, SignedIn, clock_time, html},
    see_other,
};
use crate::{
    id_token::{self, Expected},
    provider::{ProviderError, Tokens},
    random,
    sessions::{Flow, Notice, Session},
};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    /// The `state` of a sign-out, back from the provider.
    state: Option<String>,
}

/// The session of this request, with its id.
fn session_of(req: &HttpRequest, state: &AppState) -> Option<(String, Session)> {
    let id = req.cookie(SESSION_COOKIE)?.value().to_owned();
    let session = state.store.get(&id)?;
    Some((id, session))
}

pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HomeQuery>,
) -> HttpResponse {
    let (csrf, csrf_cookie) = csrf_token(&req, &state);
    let mut builder = HttpResponse::Ok();
    if let Some(c) = csrf_cookie {
        builder.cookie(c);
    }
    if let Some((id, session)) = session_of(&req, &state) {
        state.store.update(&id, |s| s.notice = None);
        let claims = serde_json::to_string_pretty(&session.claims).unwrap_or_default();
        let userinfo = serde_json::to_string_pretty(&session.userinfo).unwrap_or_default();
        let expires = session.expires_at.map_or_else(
            || "unknown".to_owned(),
            |at| format!("{} (in {} s)", clock_time(at), at.saturating_sub(now())),
        );
        let page = SignedIn {
            csrf_token: &csrf,
            notice: session.notice.clone(),
            name: &session.name,
            sub: &session.sub,
            sid: session.sid.as_deref().unwrap_or("(none)"),
            claims,
            userinfo,
            scope: session.scope.as_deref().unwrap_or_default(),
            expires,
            backchannel_deliveries: state.backchannel_deliveries().0,
        };
        return html(builder, &page);
    }
    let notice = match (&query.state, req.cookie(FLOW_COOKIE)) {
        (Some(returned), Some(flow)) => {
            builder.cookie(state.removal(FLOW_COOKIE));
            Some(match state.store.take(flow.value()) {
                // RP-Initiated Logout §3: the RP checks the `state` it sent.
                Some(Flow::SignOut { state: sent }) if sent == *returned => Notice {
                    title: "You are signed out".into(),
                    text: "Signed out here and at the provider (the returned state matched)."
                        .into(),
                    ok: true,
                },
                _ => Notice {
                    title: "Sign-out not confirmed".into(),
                    text: "The provider's answer carried a state this browser did not send.".into(),
                    ok: false,
                },
            })
        }
        _ => None,
    };
    html(
        builder,
        &Home {
            csrf_token: &csrf,
            notice,
            client_id: &state.settings.web.client_id,
            issuer: state.provider.issuer(),
        },
    )
}

/// Why a signed-in user's form is not carried out.
enum Refused {
    /// The CSRF token did not match: 403.
    Csrf,
    /// No session (any more): back to the home page.
    SignedOut,
}

impl Refused {
    fn response(self) -> HttpResponse {
        match self {
            Self::Csrf => forbidden(),
            Self::SignedOut => see_other("/").finish(),
        }
    }
}

/// A signed-in user's form: its CSRF token checked, and the session.
fn signed_in_form(
    req: &HttpRequest,
    state: &AppState,
    form: &CsrfForm,
) -> Result<(String, Session), Refused> {
    if !csrf_ok(req, state, &form.csrf_token) {
        return Err(Refused::Csrf);
    }
    session_of(req, state).ok_or(Refused::SignedOut)
}

fn forbidden() -> HttpResponse {
    pages::error(
        StatusCode::FORBIDDEN,
        "Request refused",
        "The form's CSRF token did not match: reload the page and try again.",
    )
}

fn provider_down(e: &ProviderError) -> HttpResponse {
    tracing::warn!(error = %e, "the provider is not available");
    pages::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "The provider is not reachable",
        &format!("{e}. Try again in a moment."),
    )
}

/// `POST /login`: parks `state`, `nonce` and the PKCE verifier for this browser and sends it
/// to the authorization endpoint.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    if !csrf_ok(&req, &state, &form.csrf_token) {
        return forbidden();
    }
    let metadata = match state.provider.metadata().await {
        Ok(m) => m,
        Err(e) => return provider_down(&e),
    };
    let (flow_state, nonce, verifier) = (random::token(), random::token(), random::token());
    let mut url = match url::Url::parse(&metadata.authorization_endpoint) {
        Ok(u) => u,
        Err(_) => {
            return provider_down(&ProviderError::Refused(0, "authorization_endpoint".into()));
        }
    };
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &state.settings.web.client_id)
        .append_pair("redirect_uri", &state.redirect_uri())
        .append_pair("scope", &state.settings.web.scope)
        .append_pair("state", &flow_state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &random::s256(&verifier))
        .append_pair("code_challenge_method", "S256");
    let id = state.store.park(Flow::SignIn {
        state: flow_state,
        nonce,
        verifier,
    });
    see_other(url.as_str())
        .cookie(state.cookie(FLOW_COOKIE, id))
        .finish()
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn sign_in_failed(message: &str) -> HttpResponse {
    pages::error(StatusCode::BAD_REQUEST, "Sign-in failed", message)
}

/// `GET /login/oauth2/code/{client_id}`: the authorization response.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Callback>,
) -> HttpResponse {
    let mut res = match finish_sign_in(&req, &state, &query).await {
        Ok(session) => {
            // A sign-in over an existing session replaces it (and its id: no fixation).
            if let Some(previous) = req.cookie(SESSION_COOKIE) {
                state.store.end(previous.value());
            }
            let id = state.store.start(session);
            see_other("/")
                .cookie(state.cookie(SESSION_COOKIE, id))
                .finish()
        }
        Err(res) => res,
    };
    // The flow is spent either way.
    let _ = res.add_removal_cookie(&state.removal(FLOW_COOKIE));
    res
}

async fn finish_sign_in(
    req: &HttpRequest,
    state: &AppState,
    query: &Callback,
) -> Result<Session, HttpResponse> {
    let flow = req
        .cookie(FLOW_COOKIE)
        .and_then(|c| state.store.take(c.value()));
    let Some(Flow::SignIn {
        state: sent,
        nonce,
        verifier,
    }) = flow
    else {
        return Err(sign_in_failed(
            "No sign-in was started in this browser (or it took longer than ten minutes).",
        ));
    };
    // RFC 6749 §10.12: the state binds the response to this browser's request.
    if query.state.as_deref() != Some(sent.as_str()) {
        return Err(sign_in_failed(
            "The response's state is not the one this browser sent.",
        ));
    }
    let metadata = state
        .provider
        .metadata()
        .await
        .map_err(|e| provider_down(&e))?;
    // RFC 9207 §2.4: compare `iss` with the issuer, and refuse a response without it from a
    // provider that promises it (a mix-up attack otherwise goes unseen).
    match &query.iss {
        Some(iss) if iss != state.provider.issuer() => {
            return Err(sign_in_failed("The response names another issuer (iss)."));
        }
        None if metadata.authorization_response_iss_parameter_supported => {
            return Err(sign_in_failed("The response lacks the issuer (iss)."));
        }
        _ => {}
    }
    if let Some(error) = &query.error {
        let description = query.error_description.as_deref().unwrap_or_default();
        return Err(sign_in_failed(&format!(
            "The provider answered {error}: {description}"
        )));
    }
    let Some(code) = &query.code else {
        return Err(sign_in_failed("The response carries no code."));
    };
    let redirect_uri = state.redirect_uri();
    let tokens = token_request(
        state,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await
    .map_err(|e| sign_in_failed(&e.to_string()))?;
    let Some(raw_id_token) = tokens.id_token.clone() else {
        return Err(sign_in_failed("The token response has no ID token."));
    };
    let id = verify_id_token(state, &raw_id_token, Some(&nonce))
        .await
        .map_err(|e| sign_in_failed(&format!("The ID token was refused: {e}")))?;
    // OIDC Core §5.3.2: "The sub Claim in the UserInfo Response MUST be verified to exactly
    // match the sub Claim in the ID Token; if they do not match, the UserInfo Response values
    // MUST NOT be used." The profile claims come from there (the ID token holds few).
    let userinfo = match state.provider.userinfo(&tokens.access_token).await {
        Ok(Some(claims)) if claims.get("sub").and_then(|s| s.as_str()) == Some(&id.sub) => claims,
        Ok(_) => serde_json::Map::new(),
        Err(e) => {
            tracing::warn!(error = %e, "no userinfo");
            serde_json::Map::new()
        }
    };
    let name = ["name", "preferred_username"]
        .iter()
        .find_map(|c| userinfo.get(*c).and_then(|v| v.as_str()))
        .map_or(id.name, str::to_owned);
    tracing::info!(sub = %id.sub, "signed in");
    Ok(Session {
        sub: id.sub,
        sid: id.sid,
        name,
        claims: id.claims,
        userinfo,
        id_token: raw_id_token,
        expires_at: tokens.expires_in.map(|s| now() + s),
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        scope: tokens.scope,
        notice: None,
    })
}

async fn token_request(state: &AppState, form: &[(&str, &str)]) -> Result<Tokens, ProviderError> {
    let web = &state.settings.web;
    state
        .provider
        .token_request(&web.client_id, &web.client_secret.0, form)
        .await
}

/// The signature (against the provider's keys) and then OIDC Core §3.1.3.7's claims. `typ`,
/// when present, must be `JWT`: a logout token or an access token never passes for an ID
/// token.
pub async fn verify_id_token(
    state: &AppState,
    raw: &str,
    nonce: Option<&str>,
) -> Result<id_token::IdToken, String> {
    let verified = state
        .provider
        .verify(raw)
        .await
        .map_err(|e| e.to_string())?;
    if verified
        .typ
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("jwt"))
    {
        return Err("its typ is not JWT".to_owned());
    }
    let expected = Expected {
        issuer: state.provider.issuer(),
        client_id: &state.settings.web.client_id,
        nonce,
    };
    id_token::check(verified.claims, &expected, now()).map_err(|e| e.0)
}

/// `POST /call/{customers|countries}`: the resource service through the gateway, with the
/// access token; the answer is shown on the next page.
pub async fn call(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let (id, session) = match signed_in_form(&req, &state, &form) {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused.response(),
    };
    let (title, url) = match path.as_str() {
        "customers" => (
            "GET /customer-service/customers",
            format!(
                "{}/customer-service/customers",
                state.settings.resource_base_url
            ),
        ),
        "countries" => (
            "GET /country-service/countries/DE",
            format!(
                "{}/country-service/countries/DE",
                state.settings.resource_base_url
            ),
        ),
        _ => return service_kit::http::not_found(req).await,
    };
    let notice = match state
        .provider
        .http()
        .get(&url)
        .bearer_auth(&session.access_token)
        .send()
        .await
    {
        Ok(res) => {
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            let shown = serde_json::from_str::<serde_json::Value>(&body)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or(body);
            let shown: String = shown.chars().take(4000).collect();
            Notice {
                title: format!("{title}: {status}"),
                text: shown,
                ok: status.is_success(),
            }
        }
        Err(e) => Notice {
            title: format!("{title}: no answer"),
            text: e.to_string(),
            ok: false,
        },
    };
    state.store.update(&id, |s| s.notice = Some(notice));
    see_other("/").finish()
}

/// `POST /refresh`: the refresh_token grant; a new ID token, if any, must be of the same user
/// (OIDC Core §12.2).
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let (id, session) = match signed_in_form(&req, &state, &form) {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused.response(),
    };
    let notice = match refreshed(&state, &session).await {
        Ok((tokens, new_id)) => {
            let expires_at = tokens.expires_in.map(|s| now() + s);
            let text = expires_at.map_or_else(
                || "The new access token has no stated lifetime.".to_owned(),
                |at| {
                    format!(
                        "The new access token expires at {} (in {} s).",
                        clock_time(at),
                        at.saturating_sub(now())
                    )
                },
            );
            state.store.update(&id, |s| {
                s.access_token = tokens.access_token;
                if tokens.refresh_token.is_some() {
                    s.refresh_token = tokens.refresh_token;
                }
                if let Some((raw, claims)) = new_id {
                    s.id_token = raw;
                    s.claims = claims;
                }
                s.expires_at = expires_at;
                if tokens.scope.is_some() {
                    s.scope = tokens.scope;
                }
            });
            Notice {
                title: "Tokens refreshed".into(),
                text,
                ok: true,
            }
        }
        Err(text) => Notice {
            title: "Refresh failed".into(),
            text,
            ok: false,
        },
    };
    state.store.update(&id, |s| s.notice = Some(notice));
    see_other("/").finish()
}

type NewIdToken = Option<(String, serde_json::Map<String, serde_json::Value>)>;

async fn refreshed(state: &AppState, session: &Session) -> Result<(Tokens, NewIdToken), String> {
    let Some(refresh_token) = &session.refresh_token else {
        return Err("This session has no refresh token (offline_access was not granted).".into());
    };
    let tokens = token_request(
        state,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
    .map_err(|e| e.to_string())?;
    let new_id = match &tokens.id_token {
        None => None,
        Some(raw) => {
            let id = verify_id_token(state, raw, None)
                .await
                .map_err(|e| format!("The new ID token was refused: {e}"))?;
            if id.sub != session.sub {
                return Err("The new ID token is of another user.".into());
            }
            Some((raw.clone(), id.claims))
        }
    };
    Ok((tokens, new_id))
}

/// `POST /logout`: ends the session here, then sends the browser to the provider's
/// `end_session_endpoint` with `id_token_hint`, `post_logout_redirect_uri`, `client_id` and a
/// `state` checked when it comes back.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let (id, _) = match signed_in_form(&req, &state, &form) {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused.response(),
    };
    let Some(session) = state.store.end(&id) else {
        return see_other("/").finish();
    };
    let end_session = match state.provider.metadata().await {
        Ok(m) => m.end_session_endpoint.clone(),
        Err(e) => {
            tracing::warn!(error = %e, "signing out here only: the provider is not available");
            None
        }
    }
    .unwrap_or_else(|| format!("{}/connect/logout", state.provider.issuer()));
    let Ok(mut url) = url::Url::parse(&end_session) else {
        return see_other("/").finish();
    };
    let sign_out_state = random::token();
    url.query_pairs_mut()
        .append_pair("id_token_hint", &session.id_token)
        .append_pair(
            "post_logout_redirect_uri",
            &state.post_logout_redirect_uri(),
        )
        .append_pair("client_id", &state.settings.web.client_id)
        .append_pair("state", &sign_out_state);
    let flow = state.store.park(Flow::SignOut {
        state: sign_out_state,
    });
    tracing::info!(sub = %session.sub, "signed out here; on to the provider");
    see_other(url.as_str())
        .cookie(state.removal(SESSION_COOKIE))
        .cookie(state.cookie(FLOW_COOKIE, flow))
        .finish()
}
