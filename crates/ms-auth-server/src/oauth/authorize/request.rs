//! The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1), read and
//! checked against the client. The order is the RFC's: until the client and its redirect URI
//! are known good, an error is shown to the user and never redirected (§4.1.2.1: "MUST NOT
//! automatically redirect the user-agent to the invalid redirection URI"); after that every
//! error goes back to the client, in the response mode it asked for.

use serde::{Deserialize, Serialize};

use super::response::ResponseMode;
use crate::oauth::{
    client::{Client, GrantType, ResponseType},
    error::{AuthorizeError, ErrorCode, OAuthError},
    params::Params,
    pkce::{self, ChallengeMethod},
    scope::ScopeSet,
};

/// Longest `state`, `nonce` and hint values kept: each travels through a stored interaction
/// and back into a URL or a token.
const MAX_VALUE_LEN: usize = 2048;

/// `prompt` (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

impl Prompt {
    fn parse(value: &str) -> Result<Self, OAuthError> {
        let mut p = Self::default();
        for v in value.split(' ').filter(|v| !v.is_empty()) {
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => p.select_account = true,
                other => {
                    return Err(OAuthError::invalid_request(format!(
                        "prompt value {:?} is not supported (none, login, consent, select_account)",
                        cut(other)
                    )));
                }
            }
        }
        // OIDC Core §3.1.2.1: "If this parameter contains none with any other value, an error
        // is returned."
        if p.none && (p.login || p.consent || p.select_account) {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with other values",
            ));
        }
        Ok(p)
    }
}

/// A checked authorization request: everything the rest of the flow needs, serialisable so a
/// pending sign-in can carry it between replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// What the response carries: a code, or (the implicit flows) tokens.
    #[serde(default = "code_response")]
    pub response_type: ResponseType,
    /// The granted scope is not the one the request named (it named none: the client's
    /// defaults were granted), so an implicit response must say it (RFC 6749 §4.2.2).
    #[serde(default)]
    pub scope_differs: bool,
    /// The registered URI the response goes to.
    pub redirect_uri: String,
    /// Whether the request named it: then the token request must name it too (§4.1.3).
    pub redirect_uri_given: bool,
    pub response_mode: ResponseMode,
    /// The scopes to grant, space-separated.
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<ChallengeMethod>,
    pub prompt: Prompt,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    /// Checked by the caller (it needs the keys): an ID token of ours naming the user expected.
    pub id_token_hint: Option<String>,
    pub ui_locales: Option<String>,
}

impl AuthorizationRequest {
    /// Whether this is an OpenID Connect request (`openid` among the scopes).
    pub fn is_openid(&self) -> bool {
        self.scope.split(' ').any(|s| s == "openid")
    }

    /// The error delivered to the client in the request's response mode.
    pub fn refuse(&self, error: OAuthError) -> AuthorizeError {
        AuthorizeError::Redirect {
            redirect_uri: self.redirect_uri.clone(),
            mode: self.response_mode,
            state: self.state.clone(),
            error,
        }
    }
}

fn code_response() -> ResponseType {
    ResponseType::Code
}

fn cut(s: &str) -> &str {
    s.char_indices().nth(64).map_or(s, |(i, _)| &s[..i])
}

fn bounded<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, OAuthError> {
    match params.get(name) {
        Some(v) if v.len() > MAX_VALUE_LEN => Err(OAuthError::invalid_request(format!(
            "{name} is longer than {MAX_VALUE_LEN} bytes"
        ))),
        other => Ok(other),
    }
}

/// Reads and checks the request. `client` is the registered, enabled client `client_id` names,
/// if there is one (the caller looks it up); `supported` the response types some client may
/// use (what metadata advertises).
pub fn parse(
    params: &Params,
    client: Option<&Client>,
    supported: &[&str],
) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = AuthorizeError::ShowPage;
    let Some(client_id) = params.get("client_id") else {
        return Err(page(OAuthError::invalid_request("missing client_id")));
    };
    let Some(client) = client.filter(|c| c.id.as_str() == client_id) else {
        return Err(page(OAuthError::new(
            ErrorCode::InvalidRequest,
            "unknown client_id: the application that sent you here is not registered",
        )));
    };
    let openid = params
        .get("scope")
        .is_some_and(|s| s.split(' ').any(|s| s == "openid"));
    let redirect_uri = match params.get("redirect_uri") {
        Some(given) => match client
            .metadata
            .redirect_uris
            .iter()
            .find(|r| r.matches(given))
        {
            // The presented form is kept: with a loopback port it differs from the registered.
            Some(_) => given.to_owned(),
            None => {
                return Err(page(OAuthError::invalid_request(
                    "redirect_uri is not registered for this client",
                )));
            }
        },
        // OIDC Core §3.1.2.1: redirect_uri is REQUIRED; RFC 6749 §3.1.2.3 allows omitting it
        // only when exactly one is registered.
        None if openid => {
            return Err(page(OAuthError::invalid_request(
                "missing redirect_uri (required with scope openid)",
            )));
        }
        None => match client.metadata.redirect_uris.as_slice() {
            [only] => only.as_str().to_owned(),
            _ => {
                return Err(page(OAuthError::invalid_request(
                    "missing redirect_uri (the client registered more than one)",
                )));
            }
        },
    };
    let state = bounded(params, "state").map_err(page)?.map(str::to_owned);
    // From here on errors go back to the client.
    let mode_param = params.get("response_mode");
    let response_type = params.get("response_type").and_then(ResponseType::parse);
    // Multiple Response Type Encoding Practices §5: tokens are never put in a query, so
    // their default mode, and the mode of their errors when query was asked, is the fragment.
    let token_bearing = response_type.is_some_and(ResponseType::is_implicit);
    let response_mode = match mode_param.and_then(ResponseMode::parse) {
        Some(ResponseMode::Query) if token_bearing => ResponseMode::Fragment,
        Some(mode) => mode,
        None if token_bearing => ResponseMode::Fragment,
        None => ResponseMode::Query,
    };
    let refuse = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        mode: response_mode,
        state: state.clone(),
        error,
    };
    if let Some(m) = mode_param
        && ResponseMode::parse(m).is_none()
    {
        return Err(refuse(OAuthError::invalid_request(format!(
            "response_mode {:?} is not supported (query, fragment, form_post)",
            cut(m)
        ))));
    }
    if params.get("request").is_some() {
        return Err(refuse(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        )));
    }
    if params.get("request_uri").is_some() {
        return Err(refuse(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        )));
    }
    if params.get("registration").is_some() {
        return Err(refuse(OAuthError::new(
            ErrorCode::RegistrationNotSupported,
            "the registration parameter is not supported",
        )));
    }
    let response_type = match (params.get("response_type"), response_type) {
        (None, _) => return Err(refuse(OAuthError::invalid_request("missing response_type"))),
        (Some(_), Some(r)) if supported.contains(&r.as_str()) => r,
        (Some(other), _) => {
            return Err(refuse(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!(
                    "response_type {:?} is not supported (supported: {})",
                    cut(other),
                    supported.join(", ")
                ),
            )));
        }
    };
    if token_bearing && mode_param == Some(ResponseMode::Query.as_str()) {
        return Err(refuse(OAuthError::invalid_request(
            "response_mode query is not allowed for a response carrying tokens (OAuth 2.0 Multiple Response Type Encoding Practices §5): use fragment or form_post",
        )));
    }
    if !registered_for(client, response_type) {
        return Err(refuse(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!(
                "this client may not use response_type {}",
                response_type.as_str()
            ),
        )));
    }
    let requested = params
        .get("scope")
        .map(ScopeSet::parse_param)
        .transpose()
        .map_err(&refuse)?;
    let scope = client.grantable(requested.as_ref()).map_err(&refuse)?;
    // PKCE binds a code to its exchange: with no code there is nothing to bind.
    let (code_challenge, code_challenge_method) = if response_type.is_implicit() {
        (None, None)
    } else {
        pkce_params(params, client).map_err(&refuse)?
    };
    let prompt = params
        .get("prompt")
        .map(Prompt::parse)
        .transpose()
        .map_err(&refuse)?
        .unwrap_or_default();
    let max_age = params
        .get("max_age")
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                OAuthError::invalid_request("max_age must be a non-negative number of seconds")
            })
        })
        .transpose()
        .map_err(&refuse)?;
    let nonce = bounded(params, "nonce")
        .map_err(&refuse)?
        .map(str::to_owned);
    if response_type.returns_id_token() {
        // OIDC Core §3.2.2.1: the implicit flow is an OpenID Connect flow, and "nonce ...
        // REQUIRED" (it is the only binding of the ID token to the request).
        if !scope.iter().any(|s| s.as_str() == "openid") {
            return Err(refuse(OAuthError::invalid_request(format!(
                "response_type {} returns an ID token: scope openid is required",
                response_type.as_str()
            ))));
        }
        if nonce.is_none() {
            return Err(refuse(OAuthError::invalid_request(format!(
                "nonce is required with response_type {} (OpenID Connect Core §3.2.2.1)",
                response_type.as_str()
            ))));
        }
    }
    let hint = |name: &str| {
        bounded(params, name)
            .map_err(&refuse)
            .map(|v| v.map(str::to_owned))
    };
    let (login_hint, id_token_hint, ui_locales) = (
        hint("login_hint")?,
        hint("id_token_hint")?,
        hint("ui_locales")?,
    );
    Ok(AuthorizationRequest {
        client_id: client.id.to_string(),
        response_type,
        scope_differs: requested.is_none(),
        redirect_uri_given: params.get("redirect_uri").is_some(),
        redirect_uri,
        response_mode,
        scope: scope.to_param(),
        state,
        nonce,
        code_challenge,
        code_challenge_method,
        prompt,
        max_age,
        login_hint,
        id_token_hint,
        ui_locales,
    })
}

/// Whether `client` registered for `response_type`: the code flow with `authorization_code`
/// (and `code` among its response types, when it lists any); an implicit one with `implicit`
/// and that very response type (RFC 7591 §2.1).
fn registered_for(client: &Client, response_type: ResponseType) -> bool {
    let types = &client.metadata.response_types;
    match response_type {
        ResponseType::Code => {
            client.may_use_grant(GrantType::AuthorizationCode)
                && (types.is_empty() || types.contains(&ResponseType::Code))
        }
        ResponseType::Token | ResponseType::IdToken | ResponseType::IdTokenToken => {
            client.may_use_grant(GrantType::Implicit) && types.contains(&response_type)
        }
    }
}

/// RFC 7636 §4.3 and RFC 9700 §2.1.1: S256 required of public clients and, unless the client
/// opted out, of every client; `plain` only for a client configured for it.
fn pkce_params(
    params: &Params,
    client: &Client,
) -> Result<(Option<String>, Option<ChallengeMethod>), OAuthError> {
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method");
    let Some(challenge) = challenge else {
        if method.is_some() {
            return Err(OAuthError::invalid_request(
                "code_challenge_method without code_challenge",
            ));
        }
        if client.is_public() || client.metadata.require_pkce {
            return Err(OAuthError::invalid_request(
                "code_challenge required: this client must use PKCE (RFC 7636) with S256",
            ));
        }
        return Ok((None, None));
    };
    // RFC 7636 §4.3: "Defaults to "plain" if not present in the request."
    let method = match method {
        None => ChallengeMethod::Plain,
        Some(m) => ChallengeMethod::parse(m).ok_or_else(|| {
            OAuthError::invalid_request(format!(
                "code_challenge_method {:?} is not supported: use S256",
                cut(m)
            ))
        })?,
    };
    if method == ChallengeMethod::Plain && !client.metadata.allow_plain_pkce {
        return Err(OAuthError::invalid_request(
            "code_challenge_method plain is not allowed: use S256",
        ));
    }
    if !pkce::well_formed(challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)",
        ));
    }
    Ok((Some(challenge.to_owned()), Some(method)))
}
